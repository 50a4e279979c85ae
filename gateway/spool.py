"""The durable spool: every item is written to SQLite before it is sent north, and deleted
only after the broker's PUBACK for the envelope that carried it.

Storage: one SQLite file in WAL mode with `synchronous=NORMAL`. A committed transaction
survives a crash of the gateway process; after a power cut or OS crash the last few
transactions before the most recent WAL checkpoint may be lost (FULL would fsync every
commit, which an SD card on an edge box pays for dearly).

Crash window: `put()` buffers items in memory and writes them in one transaction every
`flush_interval` (50 ms) or `flush_items` items, whichever comes first. Items in that
buffer when the process dies are lost; the uplink never sends an item before it is
committed, so nothing is ever delivered that the spool could forget.

Envelopes: `next_batch()` gives up to N waiting items of one stream a sequence number
(monotonic per gateway, persisted, so it survives restarts) in the same transaction
that marks them. Those items stay until `ack(seq)`. After a reconnect or a restart,
`unacked()` returns those batches again with the SAME seq, and ingest drops the
duplicates by `(gateway, seq)`.

Byte cap: when the items exceed `max_bytes`, the oldest waiting items of the lowest
priority go first (readings and probes, then ordinary events, then alarms, state
changes last) until the spool is a twentieth of the cap (at most 1 MiB) below it, so a
full spool is not trimmed again by every small write. Items already in an envelope are
not dropped. What was dropped is counted per item kind in the file itself, so the count
survives restarts.

A file that cannot be written (disk full) stops nothing: see `gateway.spool_memory`.

All calls run on the caller's thread (the event loop); each is one short transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from gateway.spool_memory import Holding, default_memory_bytes
from telemetry import Event, Item, Severity, StateChange, encode_item, stream_for

log = logging.getLogger(__name__)

#: Sending priority per class of item: higher goes first and is dropped last.
PRIORITY_STATE = 3
PRIORITY_ALARM = 2
PRIORITY_EVENT = 1
PRIORITY_TELEMETRY = 0

_ALARMS = (Severity.ALARM, Severity.CRITICAL)
_CAP_SLACK_MAX = 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id       INTEGER PRIMARY KEY,   -- arrival order
    priority INTEGER NOT NULL,
    stream   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    body     BLOB    NOT NULL,      -- telemetry.encode_item(item)
    seq      INTEGER                -- NULL until the item is put into an envelope
);
CREATE INDEX IF NOT EXISTS items_waiting ON items (priority DESC, id) WHERE seq IS NULL;
CREATE INDEX IF NOT EXISTS items_waiting_stream ON items (stream, priority DESC, id)
    WHERE seq IS NULL;
CREATE INDEX IF NOT EXISTS items_batched ON items (seq) WHERE seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,         -- 'last_seq', 'dropped.<kind>'
    value INTEGER NOT NULL
);
"""


def priority_of(item: Item) -> int:
    """Sending priority of `item`: state changes, then alarms, then events, then the rest."""
    if isinstance(item, StateChange):
        return PRIORITY_STATE
    if isinstance(item, Event):
        return PRIORITY_ALARM if item.severity in _ALARMS else PRIORITY_EVENT
    return PRIORITY_TELEMETRY


class Batch(NamedTuple):
    """Items of one stream that travel in one envelope numbered `seq`: (seq, stream, bodies)."""

    seq: int
    stream: str
    bodies: list[bytes]


@dataclass(frozen=True, slots=True)
class SpoolStats:
    """Items and bytes held (committed and in memory), items dropped per kind ever, and
    whether the file can be written now."""

    items: int
    bytes: int
    dropped: dict[str, int] = field(default_factory=dict)
    writable: bool = True

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


@dataclass(slots=True)
class _Eviction:
    items: int = 0
    bytes: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


class Spool:
    """The gateway's durable outbox. Not thread-safe: use it from one thread (the loop).

    `memory_bytes` bounds what is held in memory while the file cannot be written (by
    default a sixteenth of `max_bytes`, at most 32 MiB). `on_writable_change` is called when
    writing starts failing and when it works again.
    """

    def __init__(self, path: Path | str, max_bytes: int, *, flush_interval: float = 0.05,
                 flush_items: int = 1000, memory_bytes: int | None = None,
                 retry_interval: float = 1.0) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self._slack = min(max_bytes // 20, _CAP_SLACK_MAX)  # trimmed below the cap by this
        self.flush_interval = flush_interval
        self.flush_items = flush_items
        self.on_writable_change: Callable[[], None] | None = None
        #: Set whenever committed items are waiting to be batched; the uplink waits on it.
        self.ready = asyncio.Event()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._held = Holding(self.path, default_memory_bytes(max_bytes) if memory_bytes is None
                             else memory_bytes, retry_interval)
        self._timer: asyncio.TimerHandle | None = None
        self._items, self._bytes = self._db.execute(
            "SELECT count(*), coalesce(sum(length(body)), 0) FROM items").fetchone()
        self._dropped = {name.removeprefix("dropped."): value for name, value in self._db.execute(
            "SELECT name, value FROM counters WHERE name LIKE 'dropped.%'")}
        self._last_seq = self._first_seq_floor()
        if self._waiting():
            self.ready.set()

    # ------------------------------------------------------------ writing

    def put(self, item: Item, *, priority: int | None = None) -> None:
        """Queue `item` (with its kind's priority unless `priority` is given); it is committed
        within `flush_interval` or at `flush_items` items. Never raises for a full disk."""
        held = self._held
        held.buffer.add((priority_of(item) if priority is None else priority,
                         stream_for(item), item.kind, encode_item(item)))
        if held.trouble is not None:
            self._add_drops(held.shed())  # the retry timer writes; no attempt per item
        elif len(held.buffer) >= self.flush_items:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop: the caller flushes (next_batch and close do too)
            self._timer = loop.call_later(self.flush_interval, self._timed_flush)

    def flush(self) -> bool:
        """Commit what is held in memory in one transaction, then enforce the byte cap.
        Returns False when the file cannot be written now: the items stay in memory and
        writing is retried every `retry_interval` seconds."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._held.trouble is None and not self._held.buffer:
            return True
        return self._commit()

    def _timed_flush(self) -> None:
        self._timer = None
        self.flush()

    def _commit(self) -> bool:
        held = self._held
        rows, added = held.buffer.rows, held.buffer.bytes
        drops = dict(held.unsaved_drops)
        acks = sorted(held.pending_acks)
        try:
            with self._transaction():
                if rows:
                    self._db.executemany(
                        "INSERT INTO items (priority, stream, kind, body) VALUES (?, ?, ?, ?)",
                        rows)
                self._count_drops(drops)
                acked_items, acked_bytes = self._delete_batches(acks)
                if not (rows or drops or acks):  # a retry with nothing else to write
                    self._db.execute("UPDATE counters SET value = value "
                                     "WHERE name = 'last_seq'")
                over = self._bytes - acked_bytes + added - self.max_bytes
                evicted = self._evict(over + self._slack) if over > 0 else _Eviction()
        except sqlite3.OperationalError as exc:  # disk full, read-only, I/O error
            self._failed(exc)
            return False
        # Only now, with the transaction committed, do the in-memory counters move.
        recovered = held.written(len(rows), acks)
        self._items += len(rows) - evicted.items - acked_items
        self._bytes += added - evicted.bytes - acked_bytes
        self._add_drops(evicted.kinds)
        if evicted.items:
            log.warning("spool %s is over its cap of %d bytes: dropped the oldest %s",
                        self.path, self.max_bytes,
                        ", ".join(f"{n} {k}{'s' if n != 1 else ''}"
                                  for k, n in evicted.kinds.items()))
        if recovered and self.on_writable_change is not None:
            self.on_writable_change()
        self.ready.set()
        return True

    def _failed(self, exc: sqlite3.Error) -> None:
        began = self._held.trouble is None
        self._add_drops(self._held.failed(exc, self._commit))
        if began and self.on_writable_change is not None:
            self.on_writable_change()

    def _add_drops(self, kinds: dict[str, int]) -> None:
        for kind, count in kinds.items():
            self._dropped[kind] = self._dropped.get(kind, 0) + count

    def _count_drops(self, drops: dict[str, int]) -> None:
        for kind, count in drops.items():
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                (f"dropped.{kind}", count))

    def _evict(self, excess: int) -> _Eviction:
        """Drop the oldest waiting lowest-priority items to free `excess` bytes (inside the
        caller's transaction)."""
        out = _Eviction()
        victims: list[int] = []
        for row_id, kind, size in self._db.execute(
                "SELECT id, kind, length(body) FROM items WHERE seq IS NULL "
                "ORDER BY priority, id"):
            victims.append(row_id)
            out.kinds[kind] = out.kinds.get(kind, 0) + 1
            out.bytes += size
            if out.bytes >= excess:
                break
        out.items = len(victims)
        for chunk in _chunks(victims, 500):
            self._db.execute(f"DELETE FROM items WHERE id IN ({','.join('?' * len(chunk))})",
                             chunk)
        self._count_drops(out.kinds)
        return out

    # ------------------------------------------------------------ sending

    def next_batch(self, max_items: int, max_bytes: int = 512 * 1024) -> Batch | None:
        """Number the next envelope: up to `max_items` waiting items (and about `max_bytes`)
        of the stream whose best item has the highest priority, best and oldest first.
        Returns None when nothing is waiting, or when the file cannot be written now (then
        `ready` is set again once it can)."""
        self.flush()
        try:
            with self._transaction():
                first = self._db.execute(
                    "SELECT stream FROM items WHERE seq IS NULL ORDER BY priority DESC, id "
                    "LIMIT 1").fetchone()
                if first is None:
                    return None
                stream = first[0]
                ids: list[int] = []
                bodies: list[bytes] = []
                size = 0
                for row_id, body in self._db.execute(
                        "SELECT id, body FROM items WHERE seq IS NULL AND stream = ? "
                        "ORDER BY priority DESC, id LIMIT ?", (stream, max_items)):
                    if bodies and size + len(body) > max_bytes:
                        break
                    ids.append(row_id)
                    bodies.append(body)
                    size += len(body)
                seq = self._last_seq + 1
                for chunk in _chunks(ids, 500):
                    self._db.execute(
                        f"UPDATE items SET seq = ? WHERE id IN ({','.join('?' * len(chunk))})",
                        [seq, *chunk])
                self._db.execute(
                    "INSERT INTO counters (name, value) VALUES ('last_seq', ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (seq,))
        except sqlite3.OperationalError as exc:  # disk full, read-only, I/O error
            self._failed(exc)
            return None
        self._last_seq = seq
        return Batch(seq, stream, bodies)

    def ack(self, seq: int) -> None:
        """The envelope `seq` reached the broker: forget its items. When the file cannot be
        written the envelope is remembered as sent and deleted once it can (were the gateway
        to stop first, it would be sent again and ingest would drop the duplicate)."""
        try:
            with self._transaction():
                count, size = self._delete_batches([seq])
        except sqlite3.OperationalError as exc:  # disk full, read-only, I/O error
            self._held.pending_acks.add(seq)
            self._failed(exc)
            return
        self._items -= count
        self._bytes -= size

    def _delete_batches(self, seqs: list[int]) -> tuple[int, int]:
        """Delete the items of envelopes `seqs` (in the caller's transaction); return how
        many items and bytes went."""
        if not seqs:
            return 0, 0
        marks = ",".join("?" * len(seqs))
        count, size = self._db.execute(f"SELECT count(*), coalesce(sum(length(body)), 0) "
                                       f"FROM items WHERE seq IN ({marks})", seqs).fetchone()
        self._db.execute(f"DELETE FROM items WHERE seq IN ({marks})", seqs)
        return int(count), int(size)

    def unacked(self) -> list[Batch]:
        """Envelopes numbered but never acknowledged, in seq order, to send again as they were."""
        batches: list[Batch] = []
        for seq, stream, body in self._db.execute(
                "SELECT seq, stream, body FROM items WHERE seq IS NOT NULL ORDER BY seq, "
                "priority DESC, id"):
            if seq in self._held.pending_acks:
                continue
            if not batches or batches[-1].seq != seq:
                batches.append(Batch(seq, stream, []))
            batches[-1].bodies.append(body)
        return batches

    # ------------------------------------------------------------ state

    def stats(self) -> SpoolStats:
        """Items and bytes held (committed and buffered), items dropped per kind ever, and
        whether the file can be written now."""
        buffer = self._held.buffer
        return SpoolStats(self._items + len(buffer), self._bytes + buffer.bytes,
                          dict(self._dropped), self._held.trouble is None)

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def close(self) -> None:
        """Commit what is held in memory and close the file."""
        try:
            if not self.flush():
                trouble = self._held.trouble
                log.error("spool %s closed with %d items it could not write (%s); they are "
                          "lost", self.path, len(self._held.buffer),
                          trouble.what() if trouble else "unknown error")
        finally:
            self._held.cancel_retry()
            self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _waiting(self) -> bool:
        return self._db.execute("SELECT 1 FROM items WHERE seq IS NULL LIMIT 1").fetchone() \
            is not None

    def _first_seq_floor(self) -> int:
        """The last seq used, or for a new spool file a floor taken from the clock.

        A spool replaced on an edge box (new SD card, file deleted) would otherwise start
        again at 1, and ingest would drop every envelope as a duplicate of one it already
        has. Starting a new file at the current time in milliseconds keeps seqs above the
        old file's unless it sent more than 1000 envelopes a second on average.
        """
        row = self._db.execute("SELECT value FROM counters WHERE name = 'last_seq'").fetchone()
        if row is not None:
            return int(row[0])
        floor = time.time_ns() // 1_000_000
        with self._transaction():
            self._db.execute("INSERT INTO counters (name, value) VALUES ('last_seq', ?)",
                             (floor,))
        return floor

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")  # in WAL mode a full disk often shows only here
        except BaseException:
            # SQLite may already have rolled back by itself (a full disk does that); a
            # second ROLLBACK would then hide the real error.
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
