"""The latest values the writer keeps in the history's transaction: they only move forward
in time, whatever order the data arrives in; the daily energy rollup folds late readings
in; the handoff from paho's thread wakes the loop once per group, and paho's small reads
are served from one large one."""

from __future__ import annotations

import asyncio
import socket
import threading
from datetime import timedelta

import asyncpg
import pytest
from ingest_support import T0, envelope, msg, reading, state

from ingest.handoff import Inbox
from ingest.mqtt_socket import ReadAheadSocket
from ingest.writer import write_batch
from telemetry import DeviceState, Event, Probe, Severity

pytestmark = pytest.mark.integration

M = timedelta(minutes=1)


def _fault(t: object, active: bool, zone: int | None = None) -> Event:
    data = {} if zone is None else {"zone": zone}
    return Event("cam-01", "tamper", Severity.ALARM, t, active, data)  # type: ignore[arg-type]


async def test_latest_values_never_move_back_for_late_or_redelivered_data(
        loaded: str) -> None:
    conn = await asyncpg.connect(loaded)
    try:
        await write_batch(conn, [msg(envelope(2, [
            reading("light-001", T0 + 10 * M, value=80.0),
            Probe("cam-01", T0 + 10 * M, True, "", {"check": "ok"}),
            _fault(T0 + 10 * M, False), _fault(T0 + 10 * M, True, zone=3),
            state("cam-01", DeviceState.ONLINE, T0 + 10 * M)]))])
        # Older data arriving later (a spool drained after a newer envelope).
        late = await write_batch(conn, [msg(envelope(1, [
            reading("light-001", T0, value=70.0),
            Probe("cam-01", T0, False, "black", {"check": "black"}),
            _fault(T0, True), _fault(T0, False, zone=3),
            state("cam-01", DeviceState.OFFLINE, T0)]))])
        assert (late.envelopes, late.readings) == (1, 1)
        assert await conn.fetchrow(
            "SELECT time, value FROM reading_latest WHERE device = 'light-001' "
            "AND metric = 'power_w'") == (T0 + 10 * M, 80.0)
        assert await conn.fetchrow(
            "SELECT state, since, probe_time, probe_ok, probe_reason FROM device_status "
            "WHERE device = 'cam-01'") == ("online", T0 + 10 * M, T0 + 10 * M, True, "")
        assert {(r["key"], r["active"]) for r in await conn.fetch(
            "SELECT key, active FROM condition_latest WHERE device = 'cam-01'")} == {
            ("", False), ("zone=3", True)}
        # A redelivered copy of the newest envelope changes nothing.
        again = await write_batch(conn, [msg(envelope(2, [
            reading("light-001", T0 + 10 * M, value=99.0)]))])
        assert (again.duplicates, again.readings) == (1, 0)
        assert await conn.fetchval("SELECT value FROM reading_latest WHERE "
                                   "device = 'light-001' AND metric = 'power_w'") == 80.0
    finally:
        await conn.close()


async def test_daily_energy_keeps_the_first_and_last_reading_of_each_local_day(
        loaded: str) -> None:
    conn = await asyncpg.connect(loaded)
    try:
        # T0 is 16:00 in Shandong; 20:00 UTC is 04:00 the next local day.
        await write_batch(conn, [msg(envelope(1, [
            reading("light-001", T0, "energy_kwh", 10.0),
            reading("light-001", T0 + timedelta(hours=3), "energy_kwh", 11.0),
            reading("light-001", T0 + timedelta(hours=12), "energy_kwh", 14.0)]))])
        await write_batch(conn, [msg(envelope(2, [
            reading("light-001", T0 - timedelta(hours=2), "energy_kwh", 9.5)]))])
        rows = [tuple(r) for r in await conn.fetch(
            "SELECT day, first_time, first_value, last_time, last_value, readings "
            "FROM energy_daily WHERE device = 'light-001' ORDER BY day")]
        day1 = T0 - timedelta(hours=16)  # local midnight of 2026-11-23, in UTC
        assert rows == [
            (day1, T0 - timedelta(hours=2), 9.5, T0 + timedelta(hours=3), 11.0, 3),
            (day1 + timedelta(days=1), T0 + timedelta(hours=12), 14.0,
             T0 + timedelta(hours=12), 14.0, 1)]
    finally:
        await conn.close()


async def test_a_burst_from_the_network_thread_wakes_the_loop_once_per_group() -> None:
    inbox: Inbox[int] = Inbox()
    inbox.bind(asyncio.get_running_loop())

    def burst() -> None:
        for i in range(5000):
            inbox.put(i)

    waiter = asyncio.create_task(inbox.wait(5000, 10))
    await asyncio.sleep(0)  # the loop is waiting now
    thread = threading.Thread(target=burst)
    thread.start()
    await waiter
    thread.join()
    taken: list[int] = []
    inbox.take(10_000, taken)
    assert taken == list(range(5000))
    # The loop asked for 5000: one wake-up when they were all there, not one per message.
    assert inbox.wakeups == 1
    # Nobody waiting: a put wakes nobody.
    inbox.put(1)
    assert inbox.wakeups == 1


def test_the_read_ahead_socket_serves_small_reads_from_one_large_one() -> None:
    left, right = socket.socketpair()
    try:
        right.setblocking(False)
        wrapped = ReadAheadSocket(right)
        with pytest.raises(BlockingIOError):  # nothing sent yet: what paho expects
            wrapped.recv(1)
        left.sendall(b"\x30\x05hello" * 3)
        got = [wrapped.recv(1), wrapped.recv(1), wrapped.recv(5)]
        assert got == [b"\x30", b"\x05", b"hello"]
        assert wrapped.pending() == 14  # paho skips select while this is above 0
        assert wrapped.recv(100) == b"\x30\x05hello" * 2
        assert wrapped.pending() == 0
        assert wrapped.fileno() == right.fileno()
    finally:
        left.close()
        right.close()
