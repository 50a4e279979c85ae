"""E-bike lift lockout: when the detector in a lift confirms an e-bike, hold that lift's door
open (so the lift cannot leave with it) until the bike leaves, or `max_hold` passes.

The rule believes the controller's own status readings, not the command: the lockout counts
as in force when the controller reports `door_hold` = 1, and the detection-to-block latency
runs from the first detection of the confirming burst to that reading. Both ends are stamped
with the gateway's clock when the item reaches the rule, so two device clocks that disagree
cannot distort it. A command the controller does not follow within `command_timeout` is sent
again (the wait doubling up to a minute) and raises `ebike_lockout_failed` until it does.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from gateway.rules.base import Effects, Rule, RuleKind, RuleSpec
from gateway.rules.ebike_spec import KEYS, KIND, EbikeLockoutSpec, parse_spec
from telemetry import Event, Item, Reading, Severity

log = logging.getLogger(__name__)

DETECTED = "ebike_detected"
LOCKOUT = "ebike_lockout"
LOCKOUT_FAILED = "ebike_lockout_failed"
DOOR_HOLD = "door_hold"
_MAX_RETRY_WAIT = timedelta(seconds=60)


class Phase(StrEnum):
    IDLE = "idle"            # no bike confirmed; collecting hits
    HOLDING = "holding"      # a bike is confirmed; the door is (to be) held
    RELEASING = "releasing"  # the hold is over; waiting for the controller to show it


@dataclass(slots=True)
class _Pending:
    """A command whose effect the controller's readings have not shown yet."""

    hold: bool
    first_sent: datetime
    next_try: datetime
    wait: timedelta
    attempts: int = 1


class EbikeLiftLockout:
    def __init__(self, spec: EbikeLockoutSpec, effects: Effects) -> None:
        self.spec = spec
        self.name = spec.name
        self._effects = effects
        self.phase = Phase.IDLE
        self._hits: deque[datetime] = deque()
        self._burst_start: datetime | None = None
        self._engaged_at: datetime | None = None
        self._held_since: datetime | None = None   # the controller showed door_hold = 1
        self._pending: _Pending | None = None
        self._failed = False                        # ebike_lockout_failed is raised
        self._resting_until: datetime | None = None  # after a max_hold release
        #: detections below min_confidence or without one, ignored
        self.weak_hits = 0
        #: detection-to-block latency of each lockout, in ms
        self.latencies_ms: list[int] = []

    def watches(self) -> frozenset[str]:
        return frozenset((self.spec.detector, self.spec.controller))

    # ------------------------------------------------------------ items

    def see(self, item: Item, now: datetime) -> None:
        if item.device == self.spec.detector and isinstance(item, Event):
            if item.type == DETECTED:
                self._detected(item, now)
            elif item.type == self.spec.release_when:
                self._left(now)
        elif item.device == self.spec.controller and isinstance(item, Reading) \
                and item.metric == DOOR_HOLD:
            self._door(item.value >= 0.5, now)

    def _detected(self, event: Event, now: datetime) -> None:
        confidence = event.data.get("confidence")
        if isinstance(confidence, bool) or not isinstance(confidence, int | float) \
                or confidence < self.spec.min_confidence:
            self.weak_hits += 1
            return
        if self.phase is Phase.HOLDING:
            return  # already held
        if self._resting_until is not None and now < self._resting_until:
            return  # max_hold released this bike; it may not hold the door again at once
        self._hits.append(now)
        while now - self._hits[0] > self.spec.within:
            self._hits.popleft()
        if len(self._hits) >= self.spec.hits:
            self._engage(self._hits[0], now)

    def _left(self, now: datetime) -> None:
        self._hits.clear()
        self._resting_until = None
        if self.phase is Phase.HOLDING:
            self._release(now, self.spec.release_when)

    def _door(self, held: bool, now: datetime) -> None:
        if self.phase is Phase.HOLDING:
            if held:
                if self._held_since is None:
                    self._locked(now)
                self._confirmed(now)
            elif self._held_since is not None and self._pending is None:
                log.warning("rule %s: controller %s released the door while the e-bike is "
                            "still in the lift; holding it again", self.name,
                            self.spec.controller)
                self._send(True, now)
        elif self.phase is Phase.RELEASING and not held:
            self._confirmed(now)
            self.phase = Phase.IDLE

    # ------------------------------------------------------------ time

    def tick(self, now: datetime) -> None:
        if self.phase is Phase.HOLDING and self._engaged_at is not None \
                and now - self._engaged_at >= self.spec.max_hold:
            log.warning("rule %s: door of %s held for max_hold (%g s) without %s from %s; "
                        "releasing it", self.name, self.spec.controller,
                        self.spec.max_hold.total_seconds(), self.spec.release_when,
                        self.spec.detector)
            # The same bike must not take the door again at once: wait for it to leave, or
            # for another max_hold to pass.
            self._resting_until = now + self.spec.max_hold
            self._release(now, "max_hold")
        pending = self._pending
        if pending is None or now < pending.next_try:
            return
        pending.attempts += 1
        pending.wait = min(pending.wait * 2, _MAX_RETRY_WAIT)
        pending.next_try = now + pending.wait
        self._effects.command(self.spec.controller, {DOOR_HOLD: pending.hold})
        if not self._failed:
            self._failed = True
            waited = (now - pending.first_sent).total_seconds()
            log.error("rule %s: controller %s has not shown door_hold %s %.1f s after the "
                      "command; sending it again and raising %s", self.name,
                      self.spec.controller, str(pending.hold).lower(), waited, LOCKOUT_FAILED)
            self._record(LOCKOUT_FAILED, now, True, {
                "action": _action(pending.hold), "attempts": pending.attempts,
                "waited_s": round(waited, 3),
                "reason": f"controller {self.spec.controller} has not shown door_hold "
                          f"{str(pending.hold).lower()} {waited:.1f} s after the command; "
                          "the command is being sent again"})

    def shift_clock(self, jump: timedelta) -> None:
        self._hits = deque(t + jump for t in self._hits)
        if self._burst_start is not None:
            self._burst_start += jump
        if self._engaged_at is not None:
            self._engaged_at += jump
        if self._held_since is not None:
            self._held_since += jump
        if self._resting_until is not None:
            self._resting_until += jump
        if self._pending is not None:
            self._pending.first_sent += jump
            self._pending.next_try += jump

    # ------------------------------------------------------------ transitions

    def _engage(self, first: datetime, now: datetime) -> None:
        self._hits.clear()
        self.phase = Phase.HOLDING
        self._burst_start, self._engaged_at, self._held_since = first, now, None
        log.info("rule %s: e-bike confirmed by %s (%d hits within %g s); holding the door "
                 "of %s", self.name, self.spec.detector, self.spec.hits,
                 self.spec.within.total_seconds(), self.spec.controller)
        self._send(True, now)

    def _locked(self, now: datetime) -> None:
        assert self._burst_start is not None
        self._held_since = now
        latency = round((now - self._burst_start).total_seconds() * 1000)
        self.latencies_ms.append(latency)
        log.info("rule %s: door of %s held, %d ms after the first detection", self.name,
                 self.spec.controller, latency)
        self._record(LOCKOUT, now, True, {"latency_ms": latency})

    def _release(self, now: datetime, reason: str) -> None:
        # A hold the controller never showed was no lockout: nothing to close (the
        # ebike_lockout_failed alarm, if raised, stays until the release is shown).
        if self._held_since is not None:
            held = (now - self._held_since).total_seconds()
            log.info("rule %s: releasing the door of %s after %.1f s (%s)", self.name,
                     self.spec.controller, held, reason)
            self._record(LOCKOUT, now, False, {"held_s": round(held, 3), "reason": reason})
        self.phase = Phase.RELEASING
        self._held_since = self._burst_start = self._engaged_at = None
        self._send(False, now)

    def _send(self, hold: bool, now: datetime) -> None:
        timeout = self.spec.command_timeout
        self._pending = _Pending(hold, now, now + timeout, timeout)
        self._effects.command(self.spec.controller, {DOOR_HOLD: hold})

    def _confirmed(self, now: datetime) -> None:
        pending, self._pending = self._pending, None
        if self._failed and pending is not None:
            self._failed = False
            log.info("rule %s: controller %s follows commands again (door_hold %s after %d "
                     "attempts)", self.name, self.spec.controller, str(pending.hold).lower(),
                     pending.attempts)
            self._record(LOCKOUT_FAILED, now, False, {
                "action": _action(pending.hold), "attempts": pending.attempts,
                "waited_s": round((now - pending.first_sent).total_seconds(), 3)})

    def _record(self, kind: str, now: datetime, active: bool, data: dict[str, Any]) -> None:
        self._effects.record(Event(
            self.spec.controller, kind, Severity.ALARM, now, active,
            {"rule": self.name, "detector": self.spec.detector,
             "controller": self.spec.controller, **data}))


def _action(hold: bool) -> str:
    return "hold" if hold else "release"


def _build(spec: RuleSpec, effects: Effects) -> Rule:
    assert isinstance(spec, EbikeLockoutSpec), spec
    return EbikeLiftLockout(spec, effects)


EBIKE_LIFT_LOCKOUT = RuleKind(KIND, KEYS, parse_spec, _build,
                              example="{name: ebike-lockout-e1, kind: ebike_lift_lockout, "
                                      "detector: lift-cam-e1, controller: lift-e1, confirm: "
                                      "{hits: 2, within: 3s, min_confidence: 0.6}, "
                                      "release_when: ebike_left, max_hold: 10m}")
