"""The eight safety device kinds as the hardware sees them: their state, the status document
each reports every period, and the event documents they send when something happens.

Pure and clock-free: callers pass the monotonic time and the wall time in, so the same
state gives the same documents in a unit test and on a broker.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

#: device kind (also the driver's profile name) -> default MQTT topic prefix
KINDS: dict[str, str] = {
    "ebike_detector": "scg-sim/lift-cams",
    "elevator_controller": "scg-sim/lifts",
    "sos_button": "scg-sim/sos",
    "fire_hazard_sensor": "scg-sim/hazard",
    "perimeter_detector": "scg-sim/perimeter",
    "access_gate": "scg-sim/gates",
    "throw_detector": "scg-sim/throw-cams",
    "manhole_cover": "scg-sim/manholes",
}

#: what a fire-hazard sensor measures, as (value when normal, value in alarm):
#: fire_lane seconds blocked, hydrant pressure MPa, fire_door opening degrees,
#: electrical residual current mA
HAZARDS: dict[str, tuple[float, float]] = {
    "fire_lane": (0.0, 600.0),
    "hydrant": (0.32, 0.05),
    "fire_door": (0.0, 90.0),
    "electrical": (28.0, 450.0),
}
DIRECTIONS = ("in", "out")
SUBJECTS = ("person", "vehicle")
CREDENTIALS = ("card", "face", "plate")

#: options each kind accepts in the devices file, with their defaults
OPTIONS: dict[str, dict[str, Any]] = {
    "ebike_detector": {},
    "elevator_controller": {"floors": 18, "floor": 1},
    "sos_button": {"battery_pct": 100.0},
    "fire_hazard_sensor": {"hazard": None},
    "perimeter_detector": {},
    "access_gate": {},
    "throw_detector": {"floors": 33},
    "manhole_cover": {"water_level_cm": 10.0},
}


@dataclass(frozen=True, slots=True)
class SafetySpec:
    """One simulated device: its id (also its MQTT address), kind, heartbeat period (None:
    the fleet's) and kind-specific options (see OPTIONS)."""

    id: str
    kind: str
    period: float | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"device {self.id!r}"
        if not self.id or any(c in self.id for c in "/+#"):
            raise ValueError(f"{where}: the id cannot be an MQTT topic level (it must be "
                             "non-empty, without '/', '+', '#')")
        if self.kind not in KINDS:
            raise ValueError(f"{where}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.period is not None and not self.period > 0:
            raise ValueError(f"{where}: period must be > 0 seconds, got {self.period}")
        unknown = sorted(set(self.options) - set(OPTIONS[self.kind]))
        if unknown:
            known = ", ".join(OPTIONS[self.kind]) or "none"
            raise ValueError(f"{where}: unknown option(s) {', '.join(unknown)} for a "
                             f"{self.kind} (known: {known})")
        _check_options(self)

    def option(self, name: str) -> Any:
        return self.options.get(name, OPTIONS[self.kind][name])


def _check_options(spec: SafetySpec) -> None:
    where = f"device {spec.id!r}"
    if spec.kind == "fire_hazard_sensor" and spec.option("hazard") not in HAZARDS:
        raise ValueError(f"{where}: a fire_hazard_sensor needs `hazard:` one of "
                         f"{', '.join(HAZARDS)}, got {spec.option('hazard')!r}")
    if spec.kind in ("elevator_controller", "throw_detector"):
        floors = spec.option("floors")
        if isinstance(floors, bool) or not isinstance(floors, int) or floors < 2:
            raise ValueError(f"{where}: floors must be a whole number >= 2, got {floors!r}")
    if spec.kind == "elevator_controller":
        floor = spec.option("floor")
        if isinstance(floor, bool) or not isinstance(floor, int) or \
                not 1 <= floor <= spec.option("floors"):
            raise ValueError(f"{where}: floor must be a whole number 1..floors, got {floor!r}")
    for name in ("battery_pct", "water_level_cm"):
        if name in OPTIONS[spec.kind]:
            value = spec.option(name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{where}: {name} must be a number >= 0, got {value!r}")


def format_ts(t: datetime) -> str:
    """RFC 3339 UTC with milliseconds, the devices' own clock format."""
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


class Device:
    """State common to every kind: identity, uptime and a `ts` unique per device."""

    kind: ClassVar[str] = ""

    def __init__(self, spec: SafetySpec, *, now: float) -> None:
        if spec.kind != self.kind:
            raise ValueError(f"device {spec.id}: a {spec.kind} spec given to a {self.kind}")
        self.id = spec.id
        self.spec = spec
        self._booted = now
        self._last_ms = -1

    def stamp(self, wall: datetime) -> str:
        """A `ts` for a new message; never repeats for this device (status or event)."""
        ms = max(math.floor(wall.timestamp() * 1000), self._last_ms + 1)
        self._last_ms = ms
        return format_ts(datetime.fromtimestamp(ms / 1000, UTC))

    def fields(self, now: float) -> dict[str, Any]:
        """The status fields after `ts`; the default heartbeat says how long it has been up."""
        return {"uptime_s": int(max(0.0, now - self._booted))}

    def tick(self) -> None:
        """One period passed (the elevator moves); most devices have nothing to do."""

    def status(self, now: float, wall: datetime) -> dict[str, Any]:
        return {"ts": self.stamp(wall), **self.fields(now)}

    def event(self, wall: datetime, name: str, **fields: Any) -> dict[str, Any]:
        return {"ts": self.stamp(wall), "event": name, **fields}


class EbikeDetector(Device):
    kind = "ebike_detector"

    def __init__(self, spec: SafetySpec, *, now: float) -> None:
        super().__init__(spec, now=now)
        self.present = False

    def detected(self, wall: datetime, confidence: float) -> dict[str, Any]:
        return self.event(wall, "ebike_detected", confidence=round(confidence, 3))

    def left(self, wall: datetime) -> dict[str, Any]:
        self.present = False
        return self.event(wall, "ebike_left")


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A door-hold command an elevator controller applied: when (wall clock), the hold it
    asked for, whether it changed anything, and the `ts` of the status that reported it."""

    at: datetime
    door_hold: bool
    changed: bool
    ts: str


class ElevatorController(Device):
    """A car that alternates between standing at a floor with the doors open and running to
    another floor, once per period; a door hold stops it where it is, doors open."""

    kind = "elevator_controller"

    def __init__(self, spec: SafetySpec, *, now: float, rng: random.Random) -> None:
        super().__init__(spec, now=now)
        self.floors: int = spec.option("floors")
        self.floor: int = spec.option("floor")
        self.running = False
        self.door_open = True
        self.door_hold = False
        self._target = self.floor
        self._rng = rng
        #: every door-hold command applied, oldest first (for latency checks)
        self.holds: list[HoldRecord] = []

    def fields(self, now: float) -> dict[str, Any]:
        return {"running": self.running, "door_open": self.door_open,
                "door_hold": self.door_hold, "floor": self.floor}

    def hold(self, on: bool) -> bool:
        """Apply a door-hold command; True when it changed the state."""
        changed = on != self.door_hold
        self.door_hold = on
        if on:
            # The car stops where it is and keeps its doors open until released.
            self.running = False
            self.door_open = True
        return changed

    def tick(self) -> None:
        if self.door_hold:
            return
        if self.running:
            self.floor = self._target
            self.running, self.door_open = False, True
        else:
            self.door_open = False
            self.running = True
            self._target = self._rng.choice([f for f in range(1, self.floors + 1)
                                             if f != self.floor])


class SosButton(Device):
    kind = "sos_button"

    def __init__(self, spec: SafetySpec, *, now: float) -> None:
        super().__init__(spec, now=now)
        self.battery_pct = float(spec.option("battery_pct"))

    def fields(self, now: float) -> dict[str, Any]:
        return {"battery_pct": round(self.battery_pct, 1)}

    def press(self, wall: datetime) -> dict[str, Any]:
        return self.event(wall, "press")


class HazardSensor(Device):
    kind = "fire_hazard_sensor"

    def __init__(self, spec: SafetySpec, *, now: float) -> None:
        super().__init__(spec, now=now)
        self.hazard: str = spec.option("hazard")
        self.alarm = False
        self.value = HAZARDS[self.hazard][0]

    def set(self, alarm: bool, value: float | None = None) -> None:
        """Raise or clear the alarm; without a value, the typical one for that state."""
        self.alarm = alarm
        self.value = HAZARDS[self.hazard][1 if alarm else 0] if value is None else value

    def fields(self, now: float) -> dict[str, Any]:
        return {"kind": self.hazard, "alarm": self.alarm, "value": self.value}


class PerimeterDetector(Device):
    kind = "perimeter_detector"

    def __init__(self, spec: SafetySpec, *, now: float) -> None:
        super().__init__(spec, now=now)
        self.intrusion = False
        self.tamper = False

    def fields(self, now: float) -> dict[str, Any]:
        return {"intrusion": self.intrusion, "tamper": self.tamper}


class AccessGate(Device):
    kind = "access_gate"

    def passage(self, wall: datetime, direction: str, subject: str,
                credential: str) -> dict[str, Any]:
        return self.event(wall, "pass", direction=direction, subject=subject,
                          credential=credential)


class ThrowDetector(Device):
    kind = "throw_detector"

    def thrown(self, wall: datetime, floor: int) -> dict[str, Any]:
        return self.event(wall, "object_thrown", floor=floor)


class ManholeCover(Device):
    kind = "manhole_cover"

    def __init__(self, spec: SafetySpec, *, now: float) -> None:
        super().__init__(spec, now=now)
        self.tilt_deg = 0.0
        self.open = False
        self.water_level_cm = float(spec.option("water_level_cm"))

    def fields(self, now: float) -> dict[str, Any]:
        return {"tilt_deg": round(self.tilt_deg, 1), "open": self.open,
                "water_level_cm": round(self.water_level_cm, 1)}


def make_device(spec: SafetySpec, *, now: float, seed: int = 0) -> Device:
    """The live device for a spec (the elevator's motion is seeded by `seed` and its id)."""
    if spec.kind == "elevator_controller":
        return ElevatorController(spec, now=now, rng=random.Random(f"{seed}:{spec.id}"))
    cls: type[Device] = {
        "ebike_detector": EbikeDetector, "sos_button": SosButton,
        "fire_hazard_sensor": HazardSensor, "perimeter_detector": PerimeterDetector,
        "access_gate": AccessGate, "throw_detector": ThrowDetector,
        "manhole_cover": ManholeCover,
    }[spec.kind]
    return cls(spec, now=now)


def parse_door_command(payload: bytes) -> bool:
    """`{"door_hold": true|false}` -> the hold; ValueError says what is wrong."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"command is not JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"door_hold"} \
            or not isinstance(doc["door_hold"], bool):
        raise ValueError(f'command must be {{"door_hold": true|false}}, got {doc!r}')
    return doc["door_hold"]
