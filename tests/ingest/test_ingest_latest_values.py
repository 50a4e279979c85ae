"""The latest values the writer keeps in the history's transaction: they only move forward
in time, whatever order the data arrives in; the daily energy rollup folds late readings
in."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from ingest_support import T0, envelope, msg, reading, state

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



async def test_devices_that_only_sent_readings_keep_their_state_beside_ones_that_changed(
        loaded: str) -> None:
    conn = await asyncpg.connect(loaded)
    try:
        await write_batch(conn, [msg(envelope(1, [
            state("light-002", DeviceState.ONLINE, T0, "answers")]))])
        await write_batch(conn, [msg(envelope(2, [
            reading("light-001", T0 + M), reading("light-002", T0 + M),
            reading("light-900", T0 + M),
            state("light-900", DeviceState.OFFLINE, T0 + M, "no answer"),
            Probe("cam-01", T0 + M, False, "black", {"check": "black"})]))])
        rows = {r["device"]: tuple(r)[1:] for r in await conn.fetch(
            "SELECT device, state, since, reason, last_seen, probe_time, probe_ok "
            "FROM device_status ORDER BY device")}
        assert rows == {
            "cam-01": (None, None, "", T0 + M, T0 + M, False),
            "light-001": (None, None, "", T0 + M, None, None),
            "light-002": ("online", T0, "answers", T0 + M, None, None),
            "light-900": ("offline", T0 + M, "no answer", T0 + M, None, None)}
    finally:
        await conn.close()
