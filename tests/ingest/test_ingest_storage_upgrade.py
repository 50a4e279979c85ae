"""Populated databases brought forward: a database written before the latest-value tables,
rollups and partitions gets them filled from its history; a populated plain database
moves to TimescaleDB in batches. The indicators are the same before and after."""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg
import pytest
from ingest_support import INVENTORY, T0, envelope, event, msg, reading, state, status_msg
from migrate_support import migrate_until
from timescale_support import timescale_server, ts_database  # noqa: F401 (fixtures)

from indicators.availability_load import load_availability
from indicators.load import compute_indicators
from ingest.messages import Received
from ingest.schema.migrate import TIME_SERIES, migrate
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from scg.localsvc import PostgresCluster
from telemetry import DeviceState, Probe

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)
#: Tables the latest-value and rollup migrations fill from history, with their key.
DERIVED = {"reading_latest": "community, device, metric",
           "condition_latest": "community, device, type, key",
           "device_state_intervals": "community, device, start",
           "availability_hourly": "community, device, hour",
           "energy_daily": "community, device, metric, day"}


def _history() -> list[Received]:
    """Four days of lights, a camera and an outage of demo-gw2."""
    out: list[Received] = []
    seq = 0
    for day in range(4):
        t = T0 - (3 - day) * DAY
        seq += 1
        out.append(msg(envelope(seq, [
            state("light-001", DeviceState.ONLINE if day % 2 == 0 else DeviceState.OFFLINE,
                  t),
            state("cam-01", DeviceState.ONLINE, t + timedelta(hours=1)),
            reading("light-001", t), reading("light-002", t + timedelta(hours=2)),
            reading("light-001", t, "energy_kwh", 10.0 + day),
            reading("light-001", t + timedelta(hours=5), "energy_kwh", 10.5 + day),
            event("light-001", t),
            Probe("cam-01", t + timedelta(hours=3), day != 2, "" if day != 2 else "black",
                  {"check": "ok" if day != 2 else "black"}),
        ], sent_at=t), now=t + timedelta(minutes=1)))
        seq += 1
        out.append(msg(envelope(seq, [state("light-201", DeviceState.ONLINE, t),
                                      reading("light-201", t)], gateway="demo-gw2",
                                sent_at=t), gateway="demo-gw2", now=t + timedelta(minutes=1)))
    out.append(status_msg(False, gateway="demo-gw2", t=T0 - 2 * DAY + timedelta(hours=6)))
    out.append(status_msg(True, gateway="demo-gw2", t=T0 - 2 * DAY + timedelta(hours=9)))
    return out


async def _figures(conn: asyncpg.Connection, gateway_history: bool = True) -> list[object]:
    """Every indicator at two times, and availability over three days. Without
    `gateway_history` (a database written before gateway status changes were kept) the
    devices behind the outage of demo-gw2 are left out."""
    devices = {"light-001": "demo-gw1", "cam-01": "demo-gw1"}
    if gateway_history:
        devices["light-201"] = "demo-gw2"
    out: list[object] = []
    for as_of in (T0 - DAY + timedelta(hours=4), T0 + timedelta(hours=6)):
        out += [(r.id, r.numerator, r.denominator, r.numerator_devices, r.breakdown)
                for r in await compute_indicators(conn, "demo", as_of)]
        out += await load_availability(conn, "demo", devices, as_of, 3 * DAY)
    return out


async def _derived(conn: asyncpg.Connection) -> dict[str, list[tuple[object, ...]]]:
    return {table: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {table} "
                                                       f"ORDER BY {key}")]
            for table, key in DERIVED.items()}




async def test_an_older_populated_database_gets_its_latest_values_and_rollups_from_history(
        loaded: str, pg_cluster: PostgresCluster) -> None:
    reference = await asyncpg.connect(loaded)
    old_dsn = pg_cluster.create_database("t_upgrade_older_populated")
    await migrate_until(old_dsn, "0010_dead_letter_details")
    old = await asyncpg.connect(old_dsn)
    try:
        await write_batch(reference, _history())
        # The older database holds the same inventory and history, as the older writer
        # left it (the columns it had).
        for table in ("communities", "compounds", "buildings", "key_positions", "devices",
                      "readings", "events", "device_state_changes", "probes", "gateways",
                      "received_envelopes"):
            attrs = await old.fetch(
                "SELECT a.attname, CASE WHEN a.attnotnull THEN pg_get_expr(d.adbin, d.adrelid) "
                "END AS fallback FROM pg_attribute a LEFT JOIN pg_attrdef d "
                "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped "
                "AND a.attidentity = ''", table)
            columns = [r["attname"] for r in attrs]
            # A later migration may have made a column nullable that the older one filled.
            select = [f"coalesce({r['attname']}, {r['fallback']})" if r["fallback"]
                      else r["attname"] for r in attrs]
            rows = await reference.fetch(f"SELECT {', '.join(select)} FROM {table}")
            await old.copy_records_to_table(table, records=[tuple(r) for r in rows],
                                            columns=columns)
        rows = await reference.fetch("SELECT community, device, gateway, state, since, reason, "
                                     "last_seen FROM device_status")
        await old.copy_records_to_table("device_status", records=[tuple(r) for r in rows],
                                        columns=["community", "device", "gateway", "state",
                                                 "since", "reason", "last_seen"])
        await old.close()
        await migrate(old_dsn, timescaledb=False)
        old = await asyncpg.connect(old_dsn)
        assert await _derived(old) == await _derived(reference)
        probe = "SELECT device, probe_time, probe_ok, probe_reason FROM device_status ORDER BY 1"
        assert await old.fetch(probe) == await reference.fetch(probe)
        # The whole history went into the partition for everything before the next month.
        legacy = await old.fetch("SELECT name, lower, upper FROM time_partitions "
                                 "WHERE parent = 'readings' ORDER BY upper")
        assert legacy[0]["name"] == "readings_p_legacy" and legacy[0]["lower"] is None
        assert await old.fetchval("SELECT count(*) FROM readings_p_legacy") == \
            await reference.fetchval("SELECT count(*) FROM readings")
        # Inventory columns added since 0010 are not this test's subject: import it again.
        await import_inventory(old, parse_inventory(INVENTORY, "sample.yaml"))
        assert await _figures(old, False) == await _figures(reference, False)
    finally:
        await old.close()
        await reference.close()


async def test_a_populated_plain_database_moves_to_timescaledb_in_batches(
        ts_database: str, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    await migrate(ts_database, timescaledb=False)
    conn = await asyncpg.connect(ts_database)
    try:
        await import_inventory(conn, parse_inventory(INVENTORY, "sample.yaml"))
        await write_batch(conn, _history())
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TIME_SERIES}
        before = await _figures(conn)
        energy = await conn.fetch("SELECT * FROM energy_daily ORDER BY device, metric, day")
        hourly = await conn.fetch("SELECT * FROM availability_hourly ORDER BY device, hour")
    finally:
        await conn.close()

    with caplog.at_level(logging.INFO, logger="ingest.schema.migrate"):
        await migrate(ts_database, timescaledb=True)
    moves = [r.getMessage() for r in caplog.records
             if r.getMessage().startswith("moved the rows of")]
    # One transaction per day of history, not one for the whole table.
    assert "moved the rows of readings into its hypertable in 4 transactions" in moves
    assert len(moves) == len(TIME_SERIES)

    conn = await asyncpg.connect(ts_database)
    try:
        hypertables = {r[0] for r in await conn.fetch(
            "SELECT hypertable_name FROM timescaledb_information.hypertables "
            "WHERE hypertable_name NOT LIKE '\\_materialized%'")}
        assert hypertables == set(TIME_SERIES)
        assert {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TIME_SERIES} \
            == counts
        assert await conn.fetchval("SELECT count(*) FROM pg_class "
                                   "WHERE relname LIKE '%before_timescaledb%'") == 0
        assert await conn.fetchval("SELECT count(*) FROM time_partitions") == 0
        assert await _figures(conn) == before
        # The rollups are continuous aggregates now, with the same rows.
        assert await conn.fetch("SELECT * FROM energy_daily ORDER BY device, metric, day") \
            == energy
        assert await conn.fetch("SELECT * FROM availability_hourly ORDER BY device, hour") \
            == hourly
        # And the writer goes on writing into them.
        more = [msg(envelope(100, [reading("light-001", T0 + timedelta(hours=7))]))]
        assert (await write_batch(conn, more)).readings == 1
    finally:
        await conn.close()
