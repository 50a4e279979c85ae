"""The devices file of `scg sim safety`: which safety devices to play, validated at load.

    period: 10s                  # heartbeat of every device unless it says otherwise
    prefixes: {sos_button: site/sos}   # optional: topic prefix per kind
    devices:
      - {id: lift-cam-north-e1, kind: ebike_detector}
      - {id: lift-north-e1, kind: elevator_controller, floors: 18, period: 5s}
      - {id: "sos-{n:03d}", kind: sos_button, repeat: 20, start: 1}   # template row
      - {id: hz-lane-1, kind: fire_hazard_sensor, hazard: fire_lane}

A plain list of devices is accepted too. Periods are seconds or "500ms", "10s", "5m", "1h".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulators.safety.model import KINDS, OPTIONS, SafetySpec

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_ROW_KEYS = {"id", "kind", "period", "repeat", "start"}


@dataclass(frozen=True, slots=True)
class DevicesFile:
    devices: list[SafetySpec]
    period: float = 10.0
    prefixes: dict[str, str] = field(default_factory=dict)


def load_devices(path: str | Path) -> DevicesFile:
    """Read a devices file; ValueError names the file, the entry and the fix."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"devices file {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"devices file {path}: not valid YAML: {exc}") from None
    return parse_devices(doc, source=f"devices file {path}")


def parse_devices(doc: Any, *, source: str = "devices file") -> DevicesFile:
    if isinstance(doc, list):
        doc = {"devices": doc}
    if not isinstance(doc, dict):
        raise ValueError(f"{source}: must be a mapping with `devices:` (a list), or that list")
    unknown = sorted(set(map(str, doc)) - {"devices", "period", "prefixes"})
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)}; allowed: devices, "
                         "period, prefixes")
    period = parse_period(doc.get("period", 10.0), f"{source}: period")
    prefixes = doc.get("prefixes") or {}
    if not isinstance(prefixes, dict):
        raise ValueError(f"{source}: prefixes must map a kind to a topic prefix, e.g. "
                         "{sos_button: site/sos}")
    for kind, prefix in prefixes.items():
        if kind not in KINDS:
            raise ValueError(f"{source}: prefixes: {kind!r} is not a kind; kinds: "
                             f"{', '.join(KINDS)}")
        check_prefix(prefix, f"{source}: prefixes.{kind}")
    rows = doc.get("devices")
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{source}: `devices` must be a non-empty list of {{id, kind}} rows")
    specs: list[SafetySpec] = []
    for i, row in enumerate(rows):
        specs.extend(_row(row, f"{source}: devices[{i}]"))
    seen: set[str] = set()
    for s in specs:
        if s.id in seen:
            raise ValueError(f"{source}: device id {s.id!r} appears twice; ids are MQTT "
                             "addresses and must be unique")
        seen.add(s.id)
    return DevicesFile(specs, period, dict(prefixes))


def _row(row: Any, where: str) -> list[SafetySpec]:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: must be a mapping like {{id: sos-001, kind: sos_button}}")
    kind = row.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    unknown = sorted(set(map(str, row)) - _ROW_KEYS - set(OPTIONS[kind]))
    if unknown:
        known = ", ".join(sorted(_ROW_KEYS | set(OPTIONS[kind])))
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)} for a {kind}; "
                         f"known: {known}")
    pattern = row.get("id")
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"{where}: id must be a text such as sos-001, got {pattern!r}")
    period = parse_period(row["period"], f"{where}: period") if "period" in row else None
    options = {k: v for k, v in row.items() if k in OPTIONS[kind]}
    if "repeat" not in row:
        if "start" in row:
            raise ValueError(f"{where}: start is only used with repeat; add repeat or remove it")
        return [_spec(pattern, kind, period, options, where)]
    repeat, start = row["repeat"], row.get("start", 1)
    for name, value in (("repeat", repeat), ("start", start)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{where}: {name} must be a whole number >= 0, got {value!r}")
    try:
        ids = [pattern.format(n=n) for n in range(start, start + repeat)]
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"{where}: id pattern {pattern!r} must use only {{n}}, e.g. "
                         f"'sos-{{n:03d}}': {exc}") from None
    if repeat > 1 and len(set(ids)) != len(ids):
        raise ValueError(f"{where}: id pattern {pattern!r} gives one id to several devices; "
                         "it must contain {n}")
    return [_spec(i, kind, period, options, where) for i in ids]


def _spec(device_id: str, kind: str, period: float | None, options: dict[str, Any],
          where: str) -> SafetySpec:
    try:
        return SafetySpec(device_id, kind, period, dict(options))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def parse_period(value: Any, what: str, *, allow_zero: bool = False) -> float:
    """Seconds from a number or a text such as "10s", "500ms", "5m", "1h"."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION_RE.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds is None or not (seconds >= 0 if allow_zero else seconds > 0):
        raise ValueError(f"{what}: expected {'seconds >= 0' if allow_zero else 'a duration > 0'} "
                         f"such as 10, \"10s\", \"500ms\" or \"5m\", got {value!r}")
    return seconds


def check_prefix(prefix: Any, what: str) -> str:
    if not isinstance(prefix, str) or not prefix or prefix.endswith("/") \
            or any(c in prefix for c in "+#"):
        raise ValueError(f"{what}: {prefix!r} must be a topic without wildcards or a trailing "
                         "'/', e.g. scg-sim/sos")
    return prefix
