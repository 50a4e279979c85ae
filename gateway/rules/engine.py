"""The rule engine: hands each item a driver emits to the rules watching its device (one
dict lookup for every other item), ticks the rules so that timeouts fire without items,
and gives rules their `Effects`: events onto the normal path north, commands to drivers.

Rules get the wall clock (their events carry real times), but a jump of it (NTP setting the
clock of an edge box without a real-time clock) is detected against the monotonic clock and
moved out of the rules' stored times, so `max_hold` never fires early or late because of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.rules.actions import Commander, DriverCommands
from gateway.rules.base import Rule, RuleSpec
from gateway.rules.config import KINDS
from telemetry import Event, Item

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_CLOCK_JUMP = timedelta(seconds=2)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Effects:
    def __init__(self, record: Callable[[Item], None], commands: DriverCommands) -> None:
        self._record = record
        self._commands = commands

    def record(self, event: Event) -> None:
        self._record(event)

    def command(self, device: str, payload: dict[str, Any]) -> None:
        self._commands.command(device, payload)


class RuleEngine:
    """Every rule of one gateway. `see()` is called for each item before it is spooled;
    `run()` ticks the rules until cancelled. A rule that raises is logged (once per rule)
    and never reaches the driver that emitted the item."""

    def __init__(self, specs: Sequence[RuleSpec], *, record: Callable[[Item], None],
                 owner: Callable[[str], Commander | None], clock: Clock = _utc_now,
                 monotonic: Callable[[], float] = time.monotonic,
                 tick_every: float = 0.1) -> None:
        self.clock = clock
        self.monotonic = monotonic
        self.tick_every = tick_every
        self.commands = DriverCommands(owner)
        effects = _Effects(record, self.commands)
        self.rules: dict[str, Rule] = {
            spec.name: KINDS[spec.kind].build(spec, effects) for spec in specs}
        self._by_device: dict[str, tuple[Rule, ...]] = {}
        for rule in self.rules.values():
            for device in rule.watches():
                self._by_device[device] = (*self._by_device.get(device, ()), rule)
        self._broken: set[str] = set()
        self._last = (clock(), monotonic())

    def see(self, item: Item) -> None:
        rules = self._by_device.get(item.device)
        if rules is None:
            return
        now = self.now()
        for rule in rules:
            try:
                rule.see(item, now)
            except Exception:
                self._broke(rule, f"on an item of device {item.device}")

    def now(self) -> datetime:
        """The wall clock, after moving the rules' times by any jump of it."""
        wall, mono = self.clock(), self.monotonic()
        jump = (wall - self._last[0]) - timedelta(seconds=mono - self._last[1])
        self._last = (wall, mono)
        if abs(jump) > _CLOCK_JUMP:
            log.warning("the system clock jumped by %+.1f s; the rules' timers follow it",
                        jump.total_seconds())
            for rule in self.rules.values():
                try:
                    rule.shift_clock(jump)
                except Exception:
                    self._broke(rule, "moving its clock")
        return wall

    def tick(self) -> None:
        now = self.now()
        for rule in self.rules.values():
            try:
                rule.tick(now)
            except Exception:
                self._broke(rule, "on a tick")

    async def run(self) -> None:
        """Tick every `tick_every` seconds until cancelled; then drop pending commands."""
        try:
            while True:
                await asyncio.sleep(self.tick_every)
                self.tick()
        finally:
            self.commands.cancel()

    def _broke(self, rule: Rule, when: str) -> None:
        # A bug in a rule must not stop the items of its devices reaching the spool.
        if rule.name not in self._broken:
            self._broken.add(rule.name)
            log.exception("rule %s failed %s; it keeps running, the item goes north as "
                          "usual (logged once per rule)", rule.name, when)
