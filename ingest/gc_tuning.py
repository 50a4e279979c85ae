"""The garbage collector's first threshold while ingest runs.

A batch of 500 messages becomes tens of thousands of container objects (parsed JSON,
items, row tuples) that live for a fraction of a second, from decoding to commit. With
Python's default first threshold of 700 allocations they survive two young collections,
reach the oldest generation and are traversed again by full collections: measured on the
ingest benchmark, about a fifth of ingest's time went to the collector. Collecting the
young generation every 10,000 allocations lets a batch's objects die young instead; the
collector still runs, and nothing else changes for the process.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Final

#: Allocations of container objects between two young-generation collections.
YOUNG_THRESHOLD: Final = 10_000

_holders = 0
_before: tuple[int, int, int] | None = None


@contextlib.contextmanager
def young_objects_collected_less_often() -> Iterator[None]:
    """Raise the first threshold to YOUNG_THRESHOLD (never lower it) while inside; the
    last of several nested or concurrent holders puts the previous thresholds back."""
    global _holders, _before
    if _holders == 0:
        _before = gc.get_threshold()
        if _before[0] < YOUNG_THRESHOLD:
            gc.set_threshold(YOUNG_THRESHOLD, *_before[1:])
    _holders += 1
    try:
        yield
    finally:
        _holders -= 1
        if _holders == 0 and _before is not None:
            gc.set_threshold(*_before)
            _before = None
