"""One street-light controller as the hardware sees it: switching, dimming, power draw,
the energy it has metered, its fault flags, and the status document it reports.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FLAGS: tuple[str, ...] = ("lamp", "gear", "relay")


@dataclass(frozen=True, slots=True)
class LightSpec:
    """How one controller starts: its id (also its MQTT address), lamp rating and state."""

    id: str
    rated_w: float = 100.0
    on: bool = True
    dim: int = 100
    energy_kwh: float = 0.0

    def __post_init__(self) -> None:
        if not self.id or any(c in self.id for c in "/+#"):
            raise ValueError(f"light id {self.id!r} cannot be an MQTT topic level "
                             "(it must be non-empty, without '/', '+', '#')")
        if not 0 <= self.dim <= 100:
            raise ValueError(f"light {self.id}: dim {self.dim} must be 0..100")
        if self.rated_w < 0:
            raise ValueError(f"light {self.id}: rated_w {self.rated_w} must not be negative")


def make_lights(count: int, *, start: int = 1, pattern: str = "light-{n:03d}",
                rated_w: float = 100.0) -> list[LightSpec]:
    """`count` lights named by `pattern` with n = start .. start+count-1 (inventory style)."""
    if count < 0:
        raise ValueError(f"count {count} must not be negative")
    try:
        ids = [pattern.format(n=n) for n in range(start, start + count)]
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"id pattern {pattern!r} must use only {{n}} (e.g. 'light-{{n:03d}}'): "
                         f"{exc}") from None
    if len(set(ids)) != len(ids):
        raise ValueError(f"id pattern {pattern!r} gives the same id to several lights; "
                         "it must contain {n}")
    return [LightSpec(i, rated_w=rated_w) for i in ids]


def format_ts(t: datetime) -> str:
    """RFC 3339 UTC with milliseconds, the controller's own clock format."""
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Light:
    """The live state of one controller. Times passed in are the event loop's monotonic clock."""

    def __init__(self, spec: LightSpec, *, now: float, rng: random.Random,
                 noise: float = 0.01) -> None:
        self.id = spec.id
        self.rated_w = spec.rated_w
        self.on = spec.on
        self.dim = spec.dim
        self.energy_kwh = spec.energy_kwh
        self.faults: dict[str, bool] = dict.fromkeys(FLAGS, False)
        self._rng = rng
        self._noise = noise
        self._last = now
        self._last_ms = -1  # ms since epoch of the last ts reported, to keep ts unique

    @property
    def nominal_w(self) -> float:
        return self.rated_w * self.dim / 100.0 if self.on else 0.0

    def advance(self, now: float) -> None:
        """Meter the energy drawn since the last call at the present power."""
        dt = max(0.0, now - self._last)
        self.energy_kwh += self.nominal_w * dt / 3_600_000.0
        self._last = now

    def command(self, now: float, *, on: bool | None = None, dim: int | None = None) -> None:
        self.advance(now)  # energy up to the switch is metered at the old power
        if on is not None:
            self.on = on
        if dim is not None:
            self.dim = dim

    def set_fault(self, flag: str, active: bool) -> None:
        if flag not in self.faults:
            raise ValueError(f"fault flag {flag!r} is not one of {', '.join(FLAGS)}")
        self.faults[flag] = active

    def status(self, now: float, wall: datetime) -> tuple[str, dict[str, Any]]:
        """The status document at this instant, and its `ts` (unique per light)."""
        self.advance(now)
        ms = max(math.floor(wall.timestamp() * 1000), self._last_ms + 1)
        self._last_ms = ms
        ts = format_ts(datetime.fromtimestamp(ms / 1000, UTC))
        power = self.nominal_w
        if power > 0 and self._noise:
            # Measurement noise, bounded so that a dimmed lamp never reads negative.
            power *= 1.0 + max(-3.0, min(3.0, self._rng.gauss(0.0, 1.0))) * self._noise
        doc = {"ts": ts, "on": self.on, "dim": self.dim, "power_w": round(power, 2),
               "energy_kwh": round(self.energy_kwh, 6), "faults": dict(self.faults)}
        return ts, doc


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def parse_command(payload: bytes) -> tuple[bool | None, int | None]:
    """`{"on": bool}` and/or `{"dim": 0..100}` -> (on, dim); ValueError says what is wrong."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"command is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"command must be a JSON object like {{\"on\": true}}, got {doc!r}")
    unknown = set(doc) - {"on", "dim"}
    if unknown:
        raise ValueError(f"command has unknown keys {sorted(unknown)}; allowed: on, dim")
    if not doc:
        raise ValueError("command is empty; send {\"on\": true|false} and/or {\"dim\": 0..100}")
    on, dim = doc.get("on"), doc.get("dim")
    if on is not None and not isinstance(on, bool):
        raise ValueError(f"command 'on' must be true or false, got {on!r}")
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int | float)
                            or not 0 <= dim <= 100):
        raise ValueError(f"command 'dim' must be a number 0..100, got {dim!r}")
    return on, None if dim is None else round(dim)
