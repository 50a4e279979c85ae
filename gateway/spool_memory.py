"""What the spool keeps in memory: items not yet committed to its file, and the stretch of
time during which the file cannot be written.

Normally an item waits here for at most the spool's flush interval (50 ms). When the file
cannot be written (the disk is full, the card was remounted read-only) items stay here
until it can; then the buffer has a byte bound, and past it the oldest items of the lowest
priority are dropped and counted, exactly as the spool's byte cap drops them on disk. A
bound, because an edge box that runs out of disk must not also run out of memory. An
envelope the broker acknowledged meanwhile is remembered and deleted from the file later.
Writing is retried on a timer, and the stretch is logged when it starts, when memory runs
out and when it ends, never once per item.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

#: One buffered item: (priority, stream, kind, encoded body).
Row = tuple[int, str, str, bytes]

_MEMORY_CEILING = 32 * 1024 * 1024


def default_memory_bytes(max_bytes: int) -> int:
    """How much the spool may hold in memory while its file cannot be written: a sixteenth
    of its byte cap (16 MiB for the default 256 MiB), never more than 32 MiB."""
    return min(max_bytes // 16, _MEMORY_CEILING)


class WriteBuffer:
    """Rows waiting to be committed, in arrival order, with their total size."""

    __slots__ = ("bytes", "rows")

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.bytes = 0

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        self.bytes += len(row[3])

    def clear(self) -> None:
        self.rows = []
        self.bytes = 0

    def shed(self, target: int) -> dict[str, int]:
        """Drop the oldest rows of the lowest priority until at most `target` bytes remain;
        return how many were dropped per item kind."""
        excess = self.bytes - target
        if excess <= 0:
            return {}
        doomed: set[int] = set()
        dropped: dict[str, int] = {}
        freed = 0
        for priority in sorted({r[0] for r in self.rows}):
            for index, (p, _stream, kind, body) in enumerate(self.rows):
                if p != priority:
                    continue
                doomed.add(index)
                dropped[kind] = dropped.get(kind, 0) + 1
                freed += len(body)
                if freed >= excess:
                    break
            if freed >= excess:
                break
        self.rows = [r for i, r in enumerate(self.rows) if i not in doomed]
        self.bytes -= freed
        return dropped


def is_disk_full(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


@dataclass(slots=True)
class WriteTrouble:
    """One stretch of time during which the spool file could not be written.

    It logs three times at most, whatever the number of items: when writing first fails,
    when the memory bound is first reached, and when writing works again.
    """

    path: Path
    reason: str
    disk_full: bool
    memory_bytes: int
    started: float = field(default_factory=time.monotonic)
    dropped: dict[str, int] = field(default_factory=dict)
    shedding: bool = False

    @classmethod
    def begin(cls, path: Path, exc: sqlite3.Error, memory_bytes: int,
              retry_every: float) -> WriteTrouble:
        trouble = cls(path, str(exc), is_disk_full(exc), memory_bytes)
        log.error("spool %s cannot be written: %s; new items are kept in memory (up to %s) "
                  "and writing is retried every %g s", path, trouble.what(),
                  _size(memory_bytes), retry_every)
        return trouble

    def what(self) -> str:
        if self.disk_full:
            return f"disk full (SQLite: {self.reason}); free space on its filesystem"
        return (f"{self.reason}; check the filesystem holding it (read-only, permissions, "
                "I/O errors)")

    def shed(self, dropped: dict[str, int]) -> None:
        for kind, count in dropped.items():
            self.dropped[kind] = self.dropped.get(kind, 0) + count
        if dropped and not self.shedding:
            self.shedding = True
            log.warning("spool %s: %s of new items are held in memory and it still cannot "
                        "be written; from now on the oldest readings are dropped first "
                        "(counted in the gateway's spool_dropped_total)", self.path,
                        _size(self.memory_bytes))

    def end(self, written: int) -> None:
        seconds = time.monotonic() - self.started
        lost = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}"
                         for kind, n in sorted(self.dropped.items()))
        log.warning("spool %s is writable again after %.1f s: wrote %d items held in memory"
                    "%s", self.path, seconds, written,
                    f"; dropped meanwhile: {lost}" if lost else "; nothing was dropped")


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MiB"
    return f"{n / 1024:.3g} KiB"


class Holding:
    """Everything the spool knows that its file does not yet: buffered rows, drops of
    buffered rows not yet counted in the file, envelopes acknowledged but not yet deleted,
    and the present stretch of trouble with its retry timer."""

    def __init__(self, path: Path, memory_bytes: int, retry_interval: float) -> None:
        self.path = path
        self.memory_bytes = memory_bytes
        self.retry_interval = retry_interval
        self.buffer = WriteBuffer()
        self.trouble: WriteTrouble | None = None
        self.unsaved_drops: dict[str, int] = {}
        self.pending_acks: set[int] = set()
        self._retry: asyncio.TimerHandle | None = None

    def failed(self, exc: sqlite3.Error, retry: Callable[[], object]) -> dict[str, int]:
        """Writing failed: start (or go on with) a stretch of trouble, call `retry` after
        `retry_interval` (when a loop runs; otherwise the caller's next call retries), and
        shed memory; return what was dropped per kind."""
        if self.trouble is None:
            self.trouble = WriteTrouble.begin(self.path, exc, self.memory_bytes,
                                              self.retry_interval)
        if self._retry is None:
            with contextlib.suppress(RuntimeError):
                self._retry = asyncio.get_running_loop().call_later(
                    self.retry_interval, self._fire, retry)
        return self.shed()

    def _fire(self, retry: Callable[[], object]) -> None:
        self._retry = None
        retry()

    def shed(self) -> dict[str, int]:
        """Past the memory bound, drop the oldest lowest-priority buffered rows (to nine
        tenths of the bound, so that it is not done again for every item); return what
        was dropped per kind, also kept to be counted in the file later."""
        if self.buffer.bytes <= self.memory_bytes:
            return {}
        dropped = self.buffer.shed(self.memory_bytes * 9 // 10)
        for kind, count in dropped.items():
            self.unsaved_drops[kind] = self.unsaved_drops.get(kind, 0) + count
        if self.trouble is not None:
            self.trouble.shed(dropped)
        return dropped

    def written(self, rows: int, acks: list[int]) -> bool:
        """The file took `rows` buffered rows, the unsaved drops and `acks`; end any
        trouble. True when writing had been failing until now."""
        self.buffer.clear()
        self.unsaved_drops.clear()
        self.pending_acks.difference_update(acks)
        self.cancel_retry()
        if self.trouble is None:
            return False
        self.trouble.end(rows)
        self.trouble = None
        return True

    def cancel_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
