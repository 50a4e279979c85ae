"""Logging a problem that repeats: once when it starts, then a count, not a line per try.

Shared by everything that retries or polls (gateway, drivers, simulators, the demo): a
link that fails every second for an hour is one line when it fails, a reminder with the
count every `remind_every` seconds while it lasts, and one line when it ends saying how
many times and how long — so a log stays readable and bounded, and still tells the story.

`ConditionLog` is for our own code, which knows when a condition ends. `RepeatFilter` is
for other libraries' loggers (pymodbus, …), whose calls we do not control: it lets the
first record of a kind through, drops its repeats, and lets one through again every
`remind_every` seconds with how many were dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

#: Default seconds between two reminders of a condition that goes on.
REMIND_EVERY = 600.0


@dataclass
class _Stretch:
    started: float
    reminded: float
    count: int = 1


class ConditionLog:
    """Problems by key: `problem()` logs the first occurrence of a key (with `exc_info`
    when given) and counts the rest; `cleared()` logs the end of a key's stretch."""

    def __init__(self, logger: logging.Logger, *, remind_every: float = REMIND_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.remind_every = remind_every
        self.clock = clock
        self._open: dict[Hashable, _Stretch] = {}

    def problem(self, key: Hashable, level: int, msg: str, *args: object,
                exc_info: BaseException | bool | None = None) -> bool:
        """Record one occurrence of `key`; return True when it was logged (the first, or
        a reminder carrying the count so far)."""
        now = self.clock()
        stretch = self._open.get(key)
        if stretch is None:
            self._open[key] = _Stretch(now, now)
            self.logger.log(level, msg, *args, exc_info=exc_info)
            return True
        stretch.count += 1
        if now - stretch.reminded < self.remind_every:
            return False
        stretch.reminded = now
        self.logger.log(level, msg + " (still; %d times in %s)", *args, stretch.count,
                        _span(now - stretch.started))
        return True

    def cleared(self, key: Hashable, msg: str, *args: object,
                level: int = logging.INFO) -> bool:
        """End `key`'s stretch: log `msg` with how many times and how long; nothing when
        the key was not failing (so it can be called on every success)."""
        stretch = self._open.pop(key, None)
        if stretch is None:
            return False
        self.logger.log(level, msg + " (after %d failures over %s)", *args, stretch.count,
                        _span(self.clock() - stretch.started))
        return True

    def active(self, key: Hashable) -> bool:
        return key in self._open

    def count(self, key: Hashable) -> int:
        stretch = self._open.get(key)
        return 0 if stretch is None else stretch.count


class RepeatFilter(logging.Filter):
    """A logging filter for a library's logger: records with the same logger, level and
    message template as one let through less than `remind_every` seconds ago are dropped
    and counted; the next one let through says how many were dropped."""

    def __init__(self, *, remind_every: float = REMIND_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.remind_every = remind_every
        self.clock = clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg)[:200])
        now = self.clock()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self.remind_every:
            self._seen[key] = (last[0], last[1] + 1)
            return False
        dropped = last[1] if last is not None else 0
        self._seen[key] = (now, 0)
        if dropped:
            record.msg = f"{record.msg} (and {dropped} more like this in the last " \
                         f"{_span(now - last[0]) if last else ''}, not logged)"
        return True


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
