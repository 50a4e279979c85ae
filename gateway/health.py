"""Device health: turns drivers' observations and missed report periods into debounced
device states. Pure and clock-injected (every call takes `now`), so tests need no sleeps.

Rules: a device starts `unknown`; one OK makes it `online`; N consecutive FAILED
(observations, or report periods that passed without any observation) make it `offline`;
N consecutive DEGRADED make it `degraded`; one OK from anywhere brings it back `online`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from drivers.base import DeviceSpec, Observation, Outcome
from telemetry import DeviceState, StateChange

log = logging.getLogger(__name__)

_BAD = (DeviceState.OFFLINE, DeviceState.DEGRADED)


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """What the gateway currently believes about one device."""

    device: str
    state: DeviceState
    since: datetime
    reason: str
    last_heard: datetime | None


class _Track:
    """Mutable bookkeeping of one device."""

    __slots__ = ("device", "heard", "last_heard", "missed", "period", "reason", "since",
                 "state", "streak", "streak_outcome")

    def __init__(self, device: str, period: timedelta, now: datetime) -> None:
        self.device = device
        self.period = period
        self.state = DeviceState.UNKNOWN
        self.since = now
        self.reason = ""
        self.last_heard = now  # missed periods count from here (gateway start or last word)
        self.heard = False
        self.missed = 0  # periods since last_heard already counted as failures
        self.streak_outcome: Outcome | None = None
        self.streak = 0


class Health:
    """The health state machine of every device of one gateway."""

    def __init__(self, devices: Iterable[DeviceSpec], failures_to_offline: int,
                 now: datetime) -> None:
        if failures_to_offline < 1:
            raise ValueError(f"failures_to_offline must be at least 1, got {failures_to_offline}")
        self.threshold = failures_to_offline
        self._tracks = {d.id: _Track(d.id, d.period, now) for d in devices}
        self._strangers: set[str] = set()

    def observe(self, observation: Observation, now: datetime) -> StateChange | None:
        """Record one attempt to hear a device; return the state change it causes, if any."""
        track = self._tracks.get(observation.device)
        if track is None:
            if observation.device not in self._strangers:
                self._strangers.add(observation.device)
                log.warning("a driver reported device %r, which is not in the gateway config; "
                            "its health is not tracked (add it to devices)", observation.device)
            return None
        track.last_heard = now
        track.heard = True
        track.missed = 0
        return self._record(track, observation.outcome, observation.reason, now)

    def tick(self, now: datetime) -> list[StateChange]:
        """Count report periods that passed in silence as failures; return the changes."""
        changes: list[StateChange] = []
        for track in self._tracks.values():
            periods = (now - track.last_heard) // track.period
            new = periods - track.missed
            if new <= 0:
                continue
            track.missed = periods
            reason = self._silence_reason(track, now)
            # Past the threshold more misses change nothing; don't loop over a week of them.
            for _ in range(min(new, self.threshold)):
                change = self._record(track, Outcome.FAILED, reason, now)
                if change is not None:
                    changes.append(change)
        return changes

    def shift_clock(self, jump: timedelta) -> None:
        """The wall clock jumped by `jump` (an NTP sync on a box without a real-time clock):
        move every silence timer with it, so a jump is not mistaken for silent devices."""
        for track in self._tracks.values():
            track.last_heard += jump
            track.since += jump

    def state(self, device: str) -> DeviceHealth:
        """The current health of `device` (KeyError if it is not configured)."""
        track = self._tracks[device]
        return DeviceHealth(track.device, track.state, track.since, track.reason,
                            track.last_heard if track.heard else None)

    def states(self) -> dict[str, DeviceHealth]:
        """The current health of every configured device."""
        return {device: self.state(device) for device in self._tracks}

    def _record(self, track: _Track, outcome: Outcome, reason: str,
                now: datetime) -> StateChange | None:
        if outcome is Outcome.OK:
            track.streak_outcome, track.streak = None, 0
            if track.state is DeviceState.ONLINE:
                return None
            return self._enter(track, DeviceState.ONLINE, "", now)
        if track.streak_outcome is outcome:
            track.streak += 1
        else:
            track.streak_outcome, track.streak = outcome, 1
        target = DeviceState.OFFLINE if outcome is Outcome.FAILED else DeviceState.DEGRADED
        if track.streak >= self.threshold and track.state is not target:
            if not reason:
                reason = ("no answer" if outcome is Outcome.FAILED else "wrong answers") + \
                    f" {track.streak} times in a row"
            return self._enter(track, target, reason, now)
        return None

    def _enter(self, track: _Track, state: DeviceState, reason: str,
               now: datetime) -> StateChange:
        before, was_since = track.state, track.since
        track.state, track.since, track.reason = state, now, reason
        if state in _BAD:
            log.warning("device %s is %s: %s", track.device, state.value, reason)
        elif before in _BAD:
            log.info("device %s is back online after %s %s", track.device,
                     _human((now - was_since).total_seconds()), before.value)
        else:
            log.debug("device %s is online", track.device)
        return StateChange(track.device, state, now, reason)

    def _silence_reason(self, track: _Track, now: datetime) -> str:
        silent = _human((now - track.last_heard).total_seconds())
        every = _human(track.period.total_seconds())
        if track.heard:
            return f"no answer for {silent} (expected every {every})"
        return f"no answer in the {silent} since the gateway started (expected every {every})"


def _human(seconds: float) -> str:
    """`31 s`, `0.5 s`, `5 min`, `2.5 h`: short enough for a log line or a device page."""
    if seconds >= 7200:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 120:
        return f"{seconds / 60:.3g} min"
    if seconds >= 10:
        return f"{seconds:.0f} s"
    return f"{seconds:.2g} s"
