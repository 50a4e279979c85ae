"""What a simulated camera is (`CameraSpec`), the faults it can show (`Fault`), and fault
schedules read from a file (`FaultEntry`, `load_faults`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml


class Fault(StrEnum):
    """A way a camera goes bad. CLOCK_SKEW and SLOW take seconds, SNAPSHOT_AUTH a scheme;
    the others are on/off."""

    UNREACHABLE = "unreachable"        # the port refuses connections
    WRONG_PASSWORD = "wrong_password"  # the camera's password is no longer the configured one
    CLOCK_SKEW = "clock_skew"          # the camera's clock is off by N seconds (may be < 0)
    SLOW = "slow"                      # every answer is delayed by N seconds
    BLACK = "black"                    # snapshots are black (mean grey < 30)
    BLANK = "blank"                    # snapshots are uniform mid-grey (std < 5)
    FROZEN = "frozen"                  # every snapshot is byte-identical
    CORRUPT_JPEG = "corrupt_jpeg"      # snapshots start like a JPEG but do not decode
    EVENTS_STOP = "events_stop"        # subscriptions vanish and new ones deliver nothing
    SNAPSHOT_AUTH = "snapshot_auth"    # the snapshot asks for "basic" or "digest" from now on


#: faults whose value is a number of seconds rather than on/off
TIMED = frozenset({Fault.CLOCK_SKEW, Fault.SLOW})
#: HTTP authentication schemes a snapshot URL can ask for (cameras offer either, as set up)
SNAPSHOT_AUTH_SCHEMES = ("digest", "basic")


def fault_value(fault: Fault | str, value: Any, *,
                where: str = "fault") -> float | bool | str | None:
    """Normalise a fault value: None means cleared; ValueError says what is expected."""
    try:
        fault = Fault(fault)
    except ValueError:
        raise ValueError(f"{where}: unknown fault {fault!r}; known: "
                         f"{', '.join(f.value for f in Fault)}") from None
    if value is None or value is False:
        return None
    if fault is Fault.SNAPSHOT_AUTH:
        return snapshot_auth(value, where)
    if fault in TIMED:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: {fault.value} needs a number of seconds "
                             f"(e.g. 120), got {value!r}")
        if fault is Fault.SLOW and value < 0:
            raise ValueError(f"{where}: slow needs a delay >= 0 seconds, got {value!r}")
        return float(value) if value else None
    if value is not True:
        raise ValueError(f"{where}: {fault.value} is on/off; give true (or false to clear), "
                         f"got {value!r}")
    return True


def snapshot_auth(value: Any, where: str = "snapshot_auth") -> str:
    """`value` as a snapshot authentication scheme; ValueError names the choices."""
    if value not in SNAPSHOT_AUTH_SCHEMES:
        raise ValueError(f"{where}: snapshot_auth is {' or '.join(SNAPSHOT_AUTH_SCHEMES)}, "
                         f"got {value!r}")
    return str(value)


@dataclass
class CameraSpec:
    """One simulated ONVIF camera: identity, credentials, the HTTP authentication scheme of
    its snapshot URL (`digest` or `basic`) and the faults it starts with."""

    id: str
    username: str = "admin"
    password: str = "admin123"
    manufacturer: str = "SimCam"
    model: str = "SC-200"
    serial: str | None = None
    faults: dict[Fault, Any] = field(default_factory=dict)
    snapshot_auth: str = "digest"

    def __post_init__(self) -> None:
        if not self.id or any(c in self.id for c in "/?# \t\n"):
            raise ValueError(f"camera id {self.id!r} must be non-empty, without '/', '?', "
                             "'#' or spaces, e.g. cam-001")
        snapshot_auth(self.snapshot_auth, f"camera {self.id}")
        if self.serial is None:
            self.serial = "SC" + hashlib.sha1(self.id.encode()).hexdigest()[:10].upper()


def make_cameras(count: int, *, start: int = 1, pattern: str = "cam-{n:03d}",
                 username: str = "admin", password: str = "admin123",
                 snapshot_auth: str = "digest") -> list[CameraSpec]:
    """`count` cameras with ids from `pattern` for n = start .. start+count-1."""
    if count < 0:
        raise ValueError(f"camera count must be >= 0, got {count}")
    try:
        ids = [pattern.format(n=n) for n in range(start, start + count)]
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"id pattern {pattern!r} must use only {{n}}, e.g. cam-{{n:03d}}: "
                         f"{exc}") from None
    if len(set(ids)) != len(ids):
        raise ValueError(f"id pattern {pattern!r} gives the same id twice; put {{n}} in it")
    return [CameraSpec(i, username=username, password=password, snapshot_auth=snapshot_auth)
            for i in ids]


@dataclass(frozen=True, slots=True)
class FaultEntry:
    """`fault` of `camera` is set to `value` `at` seconds after start, cleared `duration` later
    (None: never)."""

    camera: str
    fault: Fault
    value: float | bool | str
    at: float = 0.0
    duration: float | None = None


_KEYS = ("camera", "fault", "value", "at", "duration")


def load_faults(path: str | Path) -> list[FaultEntry]:
    """Read a camera fault schedule (YAML or JSON); ValueError names the file, entry and fix."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"camera fault file {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"camera fault file {path}: not valid YAML: {exc}") from None
    return parse_faults(doc, source=f"camera fault file {path}")


def parse_faults(doc: Any, *, source: str = "camera faults") -> list[FaultEntry]:
    """Validate a list of `{camera, fault, value?, at?, duration?}` (or `{faults: [...]}`)."""
    if isinstance(doc, dict) and set(doc) == {"faults"}:
        doc = doc["faults"]
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise ValueError(f"{source}: must be a list of {{camera, fault, value, at, duration}} "
                         f"entries, got {type(doc).__name__}")
    entries = []
    for i, item in enumerate(doc):
        where = f"{source}: entry {i}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: must be a mapping like "
                             "{camera: cam-003, fault: clock_skew, value: 120}")
        unknown = set(item) - set(_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(map(str, unknown))}; "
                             f"allowed: {', '.join(_KEYS)}")
        camera = item.get("camera")
        if not isinstance(camera, str) or not camera:
            raise ValueError(f"{where}: 'camera' must be a camera id such as cam-003, "
                             f"got {camera!r}")
        name = item.get("fault")
        value = fault_value(str(name), item.get("value", True), where=where)
        if value is None:
            raise ValueError(f"{where}: a scheduled fault needs a value that sets it "
                             "(true, seconds for clock_skew / slow, basic or digest for "
                             "snapshot_auth)")
        at = _seconds(item.get("at", 0), f"{where}: 'at'")
        duration = item.get("duration")
        if duration is not None:
            duration = _seconds(duration, f"{where}: 'duration'")
        entries.append(FaultEntry(camera, Fault(str(name)), value, at, duration))
    return entries


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{what} must be a number of seconds >= 0, got {value!r}")
    return float(value)
