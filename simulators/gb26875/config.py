"""The config file of `scg sim gb26875`: one transmission device, the panels behind it and
their detectors, validated at load.

    address: 100000000001      # the transmission device's own address (6 bytes)
    centre_address: 0          # the centre it reports to
    heartbeat: 30s             # a heartbeat when nothing else was sent for this long
    heartbeat_kind: state      # state: a running-state report (type 21); empty: no data
    confirm_timeout: 5s        # resend a report the centre has not confirmed by then ...
    retries: 3                 # ... this many times, then redial and go on resending
    utc_offset: "+08:00"       # the clock's time zone (time labels are local time)
    panels:
      - address: 1             # system address (系统地址)
        system_type: 1         # 1 火灾报警系统 (default)
        loops: 2
        points: 20             # detectors per loop, points 1..20, type 42 (photoelectric)
        name: B栋              # put in front of each detector's description
        detectors:             # optional: points with their own type or description
          - {loop: 1, point: 1, type: 23, description: B栋1层手报}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_TOP = {"address", "centre_address", "heartbeat", "heartbeat_kind", "confirm_timeout",
        "retries", "utc_offset", "panels"}
_PANEL = {"address", "system_type", "loops", "points", "name", "detectors"}
SMOKE_DETECTOR = 42  # 点型光电感烟火灾探测器


@dataclass(frozen=True, slots=True)
class Detector:
    loop: int
    point: int
    type: int = SMOKE_DETECTOR
    description: str = ""

    @property
    def address(self) -> int:
        """The 4-byte component address: point in the low word, loop in the high word."""
        return self.loop << 16 | self.point


@dataclass(frozen=True, slots=True)
class PanelSpec:
    address: int
    system_type: int = 1
    name: str = ""
    detectors: tuple[Detector, ...] = ()


@dataclass(frozen=True, slots=True)
class SimConfig:
    address: int
    panels: tuple[PanelSpec, ...]
    centre_address: int = 0
    heartbeat: float = 30.0
    heartbeat_kind: str = "state"
    confirm_timeout: float = 5.0
    retries: int = 3
    tz: timezone = field(default_factory=lambda: timezone(timedelta(hours=8)))

    def panel(self, address: int) -> PanelSpec:
        for p in self.panels:
            if p.address == address:
                return p
        raise ValueError(f"there is no panel {address}; panels: "
                         f"{', '.join(str(p.address) for p in self.panels)}")


def load_config(path: str | Path) -> SimConfig:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"config {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"config {path}: not valid YAML: {exc}") from None
    return parse_config(doc, source=f"config {path}")


def parse_config(doc: Any, *, source: str = "config") -> SimConfig:
    if not isinstance(doc, dict):
        raise ValueError(f"{source}: must be a mapping with address and panels")
    unknown = sorted(set(map(str, doc)) - _TOP)
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted(_TOP))}")
    address = _whole(doc.get("address"), f"{source}: address", 0, (1 << 48) - 1)
    panels_raw = doc.get("panels")
    if not isinstance(panels_raw, list) or not panels_raw:
        raise ValueError(f"{source}: panels must be a non-empty list of {{address, loops, "
                         "points}}")
    panels = tuple(_panel(p, f"{source}: panels[{i}]") for i, p in enumerate(panels_raw))
    seen = [p.address for p in panels]
    if len(set(seen)) != len(seen):
        raise ValueError(f"{source}: panel addresses must differ, got {seen}")
    kind = doc.get("heartbeat_kind", "state")
    if kind not in ("state", "empty"):
        raise ValueError(f"{source}: heartbeat_kind must be state or empty, got {kind!r}")
    return SimConfig(
        address, panels,
        centre_address=_whole(doc.get("centre_address", 0), f"{source}: centre_address", 0,
                              (1 << 48) - 1),
        heartbeat=parse_seconds(doc.get("heartbeat", 30.0), f"{source}: heartbeat"),
        heartbeat_kind=kind,
        confirm_timeout=parse_seconds(doc.get("confirm_timeout", 5.0),
                                      f"{source}: confirm_timeout"),
        retries=_whole(doc.get("retries", 3), f"{source}: retries", 0, 100),
        tz=_offset(doc.get("utc_offset", "+08:00"), f"{source}: utc_offset"))


def _panel(doc: Any, where: str) -> PanelSpec:
    if not isinstance(doc, dict) or "address" not in doc:
        raise ValueError(f"{where}: must be a mapping with address (and loops, points)")
    unknown = sorted(set(map(str, doc)) - _PANEL)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted(_PANEL))}")
    name = doc.get("name", "")
    if not isinstance(name, str):
        raise ValueError(f"{where}: name must be text, got {name!r}")
    loops = _whole(doc.get("loops", 1), f"{where}: loops", 0, 255)
    points = _whole(doc.get("points", 0), f"{where}: points", 0, 1000)
    detectors = {(loop, point): Detector(loop, point, SMOKE_DETECTOR,
                                         fit(f"{name}{loop}回路{point}号感烟"))
                 for loop in range(1, loops + 1) for point in range(1, points + 1)}
    extra = doc.get("detectors", [])
    if not isinstance(extra, list):
        raise ValueError(f"{where}: detectors must be a list of {{loop, point, type, "
                         "description}}")
    for i, row in enumerate(extra):
        at = f"{where}: detectors[{i}]"
        if not isinstance(row, dict) or not {"loop", "point"} <= set(row) \
                or set(row) - {"loop", "point", "type", "description"}:
            raise ValueError(f"{at}: must be {{loop, point, type, description}}, got {row!r}")
        loop = _whole(row["loop"], f"{at}: loop", 0, 0xFFFF)
        point = _whole(row["point"], f"{at}: point", 0, 0xFFFF)
        text = row.get("description", fit(f"{name}{loop}回路{point}号"))
        if not isinstance(text, str) or len(text.encode("gb18030")) > 31:
            raise ValueError(f"{at}: description must be text of at most 31 bytes in GB 18030 "
                             f"(15 Chinese characters), got {text!r}")
        detectors[(loop, point)] = Detector(
            loop, point, _whole(row.get("type", SMOKE_DETECTOR), f"{at}: type", 0, 255), text)
    return PanelSpec(_whole(doc["address"], f"{where}: address", 0, 255),
                     _whole(doc.get("system_type", 1), f"{where}: system_type", 0, 255), name,
                     tuple(detectors[k] for k in sorted(detectors)))


def fit(text: str, size: int = 31) -> str:
    """`text` cut to whole characters that fit `size` bytes of GB 18030."""
    while len(text.encode("gb18030")) > size:
        text = text[:-1]
    return text


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}: expected a whole number {low}..{high}, got {value!r}")
    return value


def parse_seconds(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"{where}: expected seconds or a duration such as 30s, got {value!r}")
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"{where}: must be longer than zero, got {value!r}")
    return seconds


def _offset(value: Any, where: str) -> timezone:
    m = re.fullmatch(r"([+-])(\d{2}):(\d{2})", value) if isinstance(value, str) else None
    if m is None or int(m.group(2)) > 14 or int(m.group(3)) > 59:
        raise ValueError(f"{where}: expected a UTC offset such as +08:00, got {value!r}")
    delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return timezone(-delta if m.group(1) == "-" else delta)
