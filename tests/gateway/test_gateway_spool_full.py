"""The spool when its file cannot be written (a full disk, a read-only filesystem): items
wait in memory up to a bound, the oldest readings go first past it and are counted, the
stretch is logged once, and everything resumes by itself when writing works again.

A full disk is SQLite's own SQLITE_FULL, made by capping the file's page count on the
spool's connection; the end-to-end test (tests/e2e/test_faults.py) fills a real tmpfs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.spool import Spool
from telemetry import DeviceState, Event, Reading, Severity, StateChange, encode_item

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def reading(n: int) -> Reading:
    return Reading("m-1", "energy_kwh", T0 + timedelta(seconds=n), float(n))


def alarm(n: int) -> Event:
    return Event("hz-1", "fire_lane_blocked", Severity.ALARM, T0 + timedelta(seconds=n))


def state(n: int) -> StateChange:
    return StateChange(f"cam-{n}", DeviceState.OFFLINE, T0, "no answer")


def fill_disk(spool: Spool) -> None:
    """No page may be added to the file: the next insert fails with SQLITE_FULL."""
    db = spool._db  # the cap is a property of the spool's own connection
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")


def free_disk(spool: Spool) -> None:
    spool._db.execute("PRAGMA max_page_count = 1073741823")


def drain(spool: Spool) -> list[dict[str, object]]:
    """Every waiting item, batch after batch, acknowledged."""
    out: list[dict[str, object]] = []
    while (batch := spool.next_batch(1000)) is not None:
        out += [json.loads(b) for b in batch.bodies]
        spool.ack(batch.seq)
    return out


def spool_records(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("gateway.spool") and r.levelno == level]


def test_a_full_disk_keeps_items_in_memory_until_space_returns(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path, 1 << 20) as spool:
        fill_disk(spool)
        for n in range(200):
            spool.put(reading(n))
        assert spool.flush() is False
        stats = spool.stats()
        assert (stats.items, stats.writable, stats.dropped) == (200, False, {})
        assert spool.next_batch(10) is None  # nothing committed, nothing to send
        free_disk(spool)
        assert spool.flush() is True
        assert spool.stats().writable is True
        assert [i["value"] for i in drain(spool)] == [float(n) for n in range(200)]
    errors = spool_records(caplog, logging.ERROR)
    assert len(errors) == 1
    assert str(path) in errors[0] and "disk full" in errors[0]
    assert any("writable again" in m and "wrote 200 items" in m and "nothing was dropped" in m
               for m in spool_records(caplog, logging.WARNING))


def test_past_the_memory_bound_the_oldest_readings_go_and_alarms_and_states_stay(
        tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    size = len(encode_item(reading(1000)))
    with Spool(path, 1 << 20, memory_bytes=100 * size) as spool:
        fill_disk(spool)
        spool.put(state(1))
        spool.put(alarm(1))
        for n in range(1000, 1300):
            spool.put(reading(n))
        spool.flush()
        dropped = spool.stats().dropped["reading"]
        assert dropped >= 200  # to nine tenths of the bound
        free_disk(spool)
        assert spool.flush() is True
        items = drain(spool)
        assert [i["kind"] for i in items[:2]] == ["state", "event"]
        kept = [i["value"] for i in items[2:]]
        assert kept == [float(n) for n in range(1300 - len(kept), 1300)]  # the newest
        assert len(kept) + dropped == 300
    with Spool(path, 1 << 20) as spool:
        assert spool.stats().dropped == {"reading": dropped}  # counted in the file too


async def test_writing_is_retried_on_a_timer_and_logged_once_per_stretch(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    woken: list[bool] = []
    with Spool(tmp_path / "s.sqlite", 1 << 20, flush_interval=0.01,
               retry_interval=0.02) as spool:
        spool.on_writable_change = lambda: woken.append(spool.stats().writable)
        fill_disk(spool)
        for n in range(50):
            spool.put(reading(n))
            await asyncio.sleep(0.005)  # many flush and retry attempts fail meanwhile
        assert spool.stats().writable is False
        spool.ready.clear()
        free_disk(spool)
        await asyncio.wait_for(spool.ready.wait(), 2)  # the retry wrote, the uplink wakes
        assert woken == [False, True]
        assert len(drain(spool)) == 50
    assert len(spool_records(caplog, logging.ERROR)) == 1
    assert len([m for m in spool_records(caplog, logging.WARNING)
                if "writable again" in m]) == 1


def test_an_acknowledgement_the_file_cannot_take_is_applied_later(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path, 1 << 20) as spool:
        for n in range(4):
            spool.put(reading(n))
        first, second = spool.next_batch(2), spool.next_batch(2)
        assert first is not None and second is not None
        spool._db.execute("PRAGMA query_only = 1")  # as a filesystem remounted read-only
        spool.ack(first.seq)  # does not raise
        assert spool.unacked() == [second]  # the broker has the first: not sent again
        spool._db.execute("PRAGMA query_only = 0")
        assert spool.flush() is True
        assert spool.stats().items == 2
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT DISTINCT seq FROM items").fetchall() == [(second.seq,)]
    errors = spool_records(caplog, logging.ERROR)
    assert len(errors) == 1 and "readonly" in errors[0] and "disk full" not in errors[0]


def test_closing_while_the_disk_is_full_says_what_is_lost(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path / "s.sqlite", 1 << 20)
    fill_disk(spool)
    for n in range(300):
        spool.put(reading(n))
    spool.close()
    assert "closed with 300 items it could not write" in spool_records(caplog, logging.ERROR)[-1]


def test_trimmed_to_below_the_cap_a_small_write_drops_nothing_more(tmp_path: Path) -> None:
    size = len(encode_item(reading(1000)))
    with Spool(tmp_path / "s.sqlite", max_bytes=200 * size) as spool:
        for n in range(1000, 1201):
            spool.put(reading(n))
        spool.flush()
        assert spool.stats().dropped == {"reading": 11}  # 1 over, and a twentieth below
        for n in range(1201, 1211):
            spool.put(reading(n))
        spool.flush()
        assert spool.stats().dropped == {"reading": 11}
