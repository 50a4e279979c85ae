"""Retry delays that double from a floor up to a ceiling, as a value the caller owns.

Shared by everything that reconnects to a broker (gateway uplink, drivers, simulators,
ingest): the jitter is part of how a fleet of gateways should treat a central broker.
"""

from __future__ import annotations

import random


class Backoff:
    """`next()` gives first, 2·first, 4·first … up to `ceiling`; `reset()` after a success.

    `jitter` (0..1) shortens each delay by up to that fraction at random, so that a hundred
    gateways cut off by the same central outage do not all reconnect in the same instant.
    """

    def __init__(self, first: float, ceiling: float, *, jitter: float = 0.0) -> None:
        if not 0 < first <= ceiling:
            raise ValueError(f"backoff needs 0 < first <= ceiling, got {first} and {ceiling}")
        if not 0 <= jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {jitter}")
        self.first = first
        self.ceiling = ceiling
        self.jitter = jitter
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.ceiling)
        if self.jitter:
            delay *= 1 - random.uniform(0, self.jitter)
        return delay

    def reset(self) -> None:
        self._next = self.first
