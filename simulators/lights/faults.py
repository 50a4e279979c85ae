"""Fault schedules for the light fleet: which flag of which light is on, from when, how long.

A schedule is data (a YAML/JSON list of `{light, flag, at, duration}`, offsets in seconds
after the fleet starts) or drawn at random from a seed and a rate. Overlapping windows
of the same flag merge, so a flag stays on until the last of them ends.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simulators.lights.model import FLAGS

_KEYS = ("light", "flag", "at", "duration")


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """`flag` of `light` rises `at` seconds after start, clears `duration` later (None: never)."""

    light: str
    flag: str
    at: float
    duration: float | None = None


def load_faults(path: str | Path) -> list[FaultWindow]:
    """Read a fault schedule file; ValueError names the file, the entry and the fix."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"fault schedule {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"fault schedule {path}: not valid YAML: {exc}") from None
    return parse_faults(doc, source=str(path))


def parse_faults(doc: Any, *, source: str = "fault schedule") -> list[FaultWindow]:
    """Validate a schedule already parsed from YAML/JSON (a list, or `{faults: [...]}`)."""
    if isinstance(doc, dict) and set(doc) == {"faults"}:
        doc = doc["faults"]
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise ValueError(f"{source}: must be a list of {{light, flag, at, duration}} entries, "
                         f"got {type(doc).__name__}")
    windows = []
    for i, entry in enumerate(doc):
        where = f"{source}: entry {i}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a mapping like "
                             f"{{light: light-001, flag: lamp, at: 10, duration: 30}}")
        unknown = set(entry) - set(_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(map(str, unknown))}; "
                             f"allowed: {', '.join(_KEYS)}")
        light = entry.get("light")
        if not isinstance(light, str) or not light:
            raise ValueError(f"{where}: 'light' must be a light id such as light-001, "
                             f"got {light!r}")
        flag = entry.get("flag")
        if flag not in FLAGS:
            raise ValueError(f"{where}: 'flag' must be one of {', '.join(FLAGS)}, got {flag!r}")
        at = _seconds(entry.get("at"), f"{where}: 'at'")
        duration = entry.get("duration")
        if duration is not None:
            duration = _seconds(duration, f"{where}: 'duration'")
        windows.append(FaultWindow(light, flag, at, duration))
    return windows


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{what} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def random_faults(ids: Sequence[str], *, seed: int, rate_per_hour: float,
                  mean_duration: float = 60.0, horizon: float = 86_400.0,
                  flags: Sequence[str] = FLAGS) -> list[FaultWindow]:
    """Faults arriving at random (Poisson, `rate_per_hour` per light) over `horizon` seconds.

    The same seed, ids and parameters always give the same schedule.
    """
    if rate_per_hour < 0 or mean_duration <= 0:
        raise ValueError("fault rate must be >= 0 per hour and mean duration > 0 seconds")
    rng = random.Random(seed)
    windows: list[FaultWindow] = []
    if rate_per_hour == 0:
        return windows
    for light in ids:
        t = rng.expovariate(rate_per_hour / 3600.0)
        while t < horizon:
            duration = max(1.0, rng.expovariate(1.0 / mean_duration))
            windows.append(FaultWindow(light, rng.choice(list(flags)), round(t, 3),
                                       round(duration, 3)))
            t += duration + rng.expovariate(rate_per_hour / 3600.0)
    return windows


class FaultTimeline:
    """The flag changes of one light's windows, handed out as their time comes."""

    def __init__(self, windows: Iterable[FaultWindow]) -> None:
        deltas: list[tuple[float, int, str, int]] = []
        for w in windows:
            # Order by time, raises before clears at the same instant, so that two windows
            # that touch merge into one instead of blinking off and on.
            deltas.append((w.at, 0, w.flag, +1))
            if w.duration is not None:
                deltas.append((w.at + w.duration, 1, w.flag, -1))
        deltas.sort()
        depth = dict.fromkeys(FLAGS, 0)
        self._edges: list[tuple[float, str, bool]] = []
        for t, _, flag, d in deltas:
            before = depth[flag] > 0
            depth[flag] += d
            if (depth[flag] > 0) != before:
                self._edges.append((t, flag, not before))
        self._next = 0

    @property
    def edges(self) -> list[tuple[float, str, bool]]:
        return list(self._edges)

    def due(self, elapsed: float) -> list[tuple[str, bool]]:
        """Changes whose time is at or before `elapsed` seconds and were not handed out yet."""
        out = []
        while self._next < len(self._edges) and self._edges[self._next][0] <= elapsed:
            _, flag, active = self._edges[self._next]
            out.append((flag, active))
            self._next += 1
        return out
