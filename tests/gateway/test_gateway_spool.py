"""The durable spool: numbering, acknowledgement, re-sending after restart, priorities,
the byte cap and write batching."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.spool import Spool
from telemetry import DeviceState, Event, Reading, Severity, StateChange, encode_item

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def reading(n: int, device: str = "m-1") -> Reading:
    return Reading(device, "energy_kwh", T0 + timedelta(seconds=n), float(n))


def event(n: int, severity: Severity = Severity.INFO) -> Event:
    return Event("gate-1", f"pass{n}", severity, T0 + timedelta(seconds=n))


def state(n: int) -> StateChange:
    return StateChange(f"cam-{n}", DeviceState.OFFLINE, T0, "no answer")


def values(bodies: list[bytes]) -> list[float]:
    return [json.loads(b)["value"] for b in bodies]


def test_batches_are_numbered_consecutively_and_acked_items_go(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.sqlite", 1 << 20) as spool:
        for n in range(5):
            spool.put(reading(n))
        first = spool.next_batch(2)
        second = spool.next_batch(2)
        third = spool.next_batch(2)
        assert spool.next_batch(2) is None
        assert first is not None and second is not None and third is not None
        assert [second.seq - first.seq, third.seq - second.seq] == [1, 1]
        assert first.stream == "telemetry"
        assert [values(b.bodies) for b in (first, second, third)] == [[0, 1], [2, 3], [4]]
        assert first.bodies[0] == encode_item(reading(0))
        spool.ack(first.seq)
        spool.ack(third.seq)
        stats = spool.stats()
        assert stats.items == 2
        assert stats.bytes == sum(len(b) for b in second.bodies)


def test_seq_keeps_increasing_across_reopen_even_when_empty(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path, 1 << 20) as spool:
        spool.put(reading(1))
        batch = spool.next_batch(10)
        assert batch is not None
        spool.ack(batch.seq)
        assert spool.stats().items == 0
    with Spool(path, 1 << 20) as spool:
        spool.put(reading(2))
        again = spool.next_batch(10)
        assert again is not None and again.seq == batch.seq + 1


def test_a_new_spool_starts_numbering_above_the_clock_in_ms(tmp_path: Path) -> None:
    # A replaced spool file must not restart at 1, or ingest would drop its envelopes as
    # duplicates of the old file's.
    before = time.time_ns() // 1_000_000
    with Spool(tmp_path / "s.sqlite", 1 << 20) as spool:
        spool.put(reading(1))
        batch = spool.next_batch(1)
        assert batch is not None and batch.seq > before


def test_unacked_batches_come_back_after_reopen_with_the_same_seq(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path, 1 << 20) as spool:
        for n in range(5):
            spool.put(reading(n))
        a, b, c = (spool.next_batch(2) for _ in range(3))
        assert a is not None and b is not None and c is not None
        spool.ack(b.seq)
        spool.put(reading(99))  # never batched
    with Spool(path, 1 << 20) as spool:
        assert spool.unacked() == [a, c]
        assert spool.ready.is_set()  # unbatched items wait: the uplink must not sleep
        fresh = spool.next_batch(10)
        assert fresh is not None
        assert fresh.seq == c.seq + 1 and values(fresh.bodies) == [99]
        assert spool.unacked() == [a, c, fresh]


def test_states_then_alarms_then_events_then_readings(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.sqlite", 1 << 20) as spool:
        spool.put(reading(1))
        spool.put(event(1))
        spool.put(event(2, Severity.ALARM))
        spool.put(reading(2))
        spool.put(state(1))
        spool.put(event(3, Severity.CRITICAL))
        spool.put(state(2))
        batches = []
        while (batch := spool.next_batch(10)) is not None:
            batches.append((batch.stream, [json.loads(b).get("device") + "/" +
                                           str(json.loads(b).get("type", "")) for b in
                                           batch.bodies]))
        assert batches == [
            ("state", ["cam-1/", "cam-2/"]),
            ("events", ["gate-1/pass2", "gate-1/pass3", "gate-1/pass1"]),
            ("telemetry", ["m-1/", "m-1/"]),
        ]


def test_one_batch_holds_one_stream_only(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.sqlite", 1 << 20) as spool:
        spool.put(event(1))
        spool.put(reading(1))
        first = spool.next_batch(10)
        second = spool.next_batch(10)
        assert first is not None and second is not None
        assert (first.stream, len(first.bodies)) == ("events", 1)
        assert (second.stream, len(second.bodies)) == ("telemetry", 1)


def test_batches_stay_under_a_byte_budget(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.sqlite", 1 << 20) as spool:
        for n in range(10):
            spool.put(reading(n))
        size = len(encode_item(reading(0)))
        batch = spool.next_batch(100, max_bytes=3 * size)
        assert batch is not None and len(batch.bodies) == 3


def test_over_the_cap_the_oldest_readings_go_first_and_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    size = len(encode_item(reading(10)))
    with Spool(path, max_bytes=10 * size) as spool:
        spool.put(state(1))
        spool.put(event(1, Severity.ALARM))
        for n in range(10, 20):
            spool.put(reading(n))
        spool.flush()
        stats = spool.stats()
        assert stats.bytes <= 10 * size
        assert stats.dropped == {"reading": 3}  # the state and the alarm are bigger
        kept = []
        while (batch := spool.next_batch(100)) is not None:
            kept.append((batch.stream, batch.bodies))
        assert [s for s, _ in kept] == ["state", "events", "telemetry"]
        assert values(kept[2][1]) == list(range(13, 20))  # the three oldest went
    with Spool(path, max_bytes=10 * size) as spool:
        assert spool.stats().dropped == {"reading": 3}  # the count survives a restart


def test_when_only_events_remain_the_oldest_plain_events_go_before_alarms(
        tmp_path: Path) -> None:
    big = len(encode_item(event(10, Severity.ALARM))) + 3 * len(encode_item(event(11)))
    with Spool(tmp_path / "s.sqlite", max_bytes=big) as spool:
        spool.put(event(10, Severity.ALARM))
        for n in range(11, 16):
            spool.put(event(n))
        spool.flush()
        # two over the cap, and one more to get a twentieth of the cap below it
        assert spool.stats().dropped == {"event": 3}
        batch = spool.next_batch(100)
        assert batch is not None
        assert [json.loads(b)["type"] for b in batch.bodies] == ["pass10", "pass14", "pass15"]


def test_batched_items_are_never_evicted(tmp_path: Path) -> None:
    size = len(encode_item(reading(10)))
    with Spool(tmp_path / "s.sqlite", max_bytes=4 * size) as spool:
        for n in range(10, 14):
            spool.put(reading(n))
        sent = spool.next_batch(4)
        assert sent is not None
        for n in range(14, 16):
            spool.put(reading(n))
        spool.flush()
        assert spool.unacked() == [sent]
        assert spool.stats().dropped == {"reading": 2}


def test_put_without_a_loop_waits_for_flush_and_next_batch_flushes(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path, 1 << 20) as spool:
        spool.put(reading(1))
        assert _rows(path) == 0
        assert spool.stats().items == 1  # buffered items count too
        batch = spool.next_batch(10)
        assert batch is not None and _rows(path) == 1


def test_flush_items_commits_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path, 1 << 20, flush_items=3) as spool:
        spool.put(reading(1))
        spool.put(reading(2))
        assert _rows(path) == 0
        spool.put(reading(3))
        assert _rows(path) == 3


async def test_puts_in_a_loop_are_committed_together_after_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path, 1 << 20, flush_interval=0.05) as spool:
        assert not spool.ready.is_set()
        for n in range(100):
            spool.put(reading(n))
        assert _rows(path) == 0
        await asyncio.wait_for(spool.ready.wait(), 2)
        assert _rows(path) == 100


def test_close_commits_the_buffer(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    spool = Spool(path, 1 << 20)
    spool.put(reading(1))
    spool.close()
    assert _rows(path) == 1


def test_spool_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Spool(path, 1 << 20).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM items").fetchone()[0])
