"""`scg db maintain` on plain PostgreSQL: partitions created ahead and for late rows,
dropped whole past retention with the indicators over the remaining window unchanged;
de-duplication keys pruned to a bounded window that still drops redeliveries; dead
letters expired; settings stored and applied by the next run."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from ingest_support import T0, envelope, msg, reading, state

from indicators.load import compute_indicators
from ingest.maintenance import MaintenanceError, maintain
from ingest.messages import Received
from ingest.schema.migrate import TIME_SERIES
from ingest.schema.storage import SettingError, load_settings
from ingest.writer import write_batch
from scg.cli import main
from scg.localsvc import PostgresCluster
from telemetry import DeviceState

pytestmark = pytest.mark.integration

NOW = T0 + timedelta(days=1)
OLD = T0 - timedelta(days=60)  # 2026-09-24: the September partition


def _history() -> list[Received]:
    return [
        msg(envelope(1, [state("light-001", DeviceState.ONLINE, OLD),
                         reading("light-001", OLD), reading("light-002", OLD)], sent_at=OLD)),
        msg(envelope(2, [state("light-002", DeviceState.ONLINE, T0),
                         reading("light-001", T0 + timedelta(hours=1)),
                         reading("light-002", T0 + timedelta(hours=1))])),
        msg(envelope(3, [reading("light-001", T0 + timedelta(hours=30))],
                     sent_at=T0 + timedelta(hours=30))),
    ]


async def _indicators(conn: asyncpg.Connection) -> list[tuple[object, ...]]:
    out = []
    for as_of in (T0 + timedelta(hours=2), T0 + timedelta(hours=31)):
        for r in await compute_indicators(conn, "demo", as_of):
            out.append((r.id, r.numerator, r.denominator, r.numerator_devices, r.breakdown))
    return out


async def _partitions(conn: asyncpg.Connection, table: str) -> list[str]:
    return [r["name"] for r in await conn.fetch(
        "SELECT name FROM time_partitions WHERE parent = $1 ORDER BY upper", table)]


async def test_maintain_drops_an_expired_partition_and_the_indicators_stay_the_same(
        loaded: str) -> None:
    conn = await asyncpg.connect(loaded)
    try:
        await write_batch(conn, _history())
        # Rows older than the partitions the migration made wait in the default partition
        # until maintain gives them partitions of their own.
        assert await conn.fetchval("SELECT count(*) FROM readings_p_default") == 5
        first = await maintain(loaded, now=NOW)
        assert [n for n in first.created if n.startswith("readings_")] == [
            "readings_p20260901", "readings_p20261001", "readings_p20261101"]
        assert await conn.fetchval("SELECT count(*) FROM readings_p_default") == 0
        assert await conn.fetchval("SELECT count(*) FROM readings_p20260901") == 2
        before = await _indicators(conn)

        second = await maintain(loaded, {"storage.retention.readings": "30d"}, now=NOW)
        assert second.dropped == ["readings_p20260901"]
        assert await _partitions(conn, "readings") == [
            "readings_p20261001", "readings_p20261101", "readings_p20261201",
            "readings_p20270101"]
        assert await conn.fetchval("SELECT min(time) FROM readings") == T0 + timedelta(hours=1)
        # State changes are kept (no retention by default): their September partition stays.
        assert "device_state_changes_p20260901" in await _partitions(conn,
                                                                     "device_state_changes")
        assert await _indicators(conn) == before
        # The setting was stored: the timer's next run, with no options, keeps applying it.
        assert (await load_settings(conn)).readings_retention == timedelta(days=30)
        assert (await maintain(loaded, now=NOW)).dropped == []
    finally:
        await conn.close()


def _envelopes(first: int, count: int, received: timedelta) -> list[Received]:
    return [msg(envelope(seq, [reading("light-001", T0 + timedelta(seconds=seq))]),
                now=T0 + received) for seq in range(first, first + count)]


async def test_deduplication_keys_stay_bounded_and_redeliveries_are_still_dropped(
        loaded: str) -> None:
    conn = await asyncpg.connect(loaded)
    settings = {"storage.dedup.window": "1000", "storage.dedup.min_age": "1h"}
    try:
        await write_batch(conn, _envelopes(1, 1500, timedelta(hours=1)))
        await maintain(loaded, settings, now=T0 + timedelta(hours=3))
        keys = await conn.fetchrow("SELECT count(*) AS n, min(seq) AS low FROM "
                                   "received_envelopes")
        floor, high = await conn.fetchrow("SELECT seq_floor, seq_high_water FROM gateways "
                                          "WHERE gateway = 'demo-gw1'")
        assert (keys["n"], keys["low"], floor, high) == (1000, 501, 500, 1500)

        inside = await write_batch(conn, _envelopes(1200, 1, timedelta(hours=4)))
        below = await write_batch(conn, _envelopes(300, 1, timedelta(hours=4)))
        fresh = await write_batch(conn, _envelopes(1501, 1, timedelta(hours=4)))
        assert [(r.envelopes, r.duplicates) for r in (inside, below, fresh)] == [
            (0, 1), (0, 1), (1, 0)]
        assert await conn.fetchval("SELECT count(*) FROM readings") == 1501

        # Another 3000 envelopes: the keys kept stay at the window (plus the young ones).
        await write_batch(conn, _envelopes(1502, 3000, timedelta(hours=5)))
        await maintain(loaded, settings, now=T0 + timedelta(hours=7))
        assert await conn.fetchval("SELECT count(*) FROM received_envelopes") == 1000
        # Keys younger than the minimum age are kept whatever the window says.
        await write_batch(conn, _envelopes(4502, 2000, timedelta(hours=8)))
        await maintain(loaded, settings, now=T0 + timedelta(hours=8, minutes=30))
        assert await conn.fetchrow(
            "SELECT count(*), min(seq) FROM received_envelopes") == (2000, 4502)
    finally:
        await conn.close()


async def test_dead_letters_expire_and_nothing_else_is_touched(loaded: str) -> None:
    conn = await asyncpg.connect(loaded)
    try:
        bad = msg(b"{not json", now=T0)
        await write_batch(conn, [bad])
        assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 1
        report = await maintain(loaded, {"storage.retention.dead_letters": "7d"},
                                now=T0 + timedelta(days=6))
        assert report.deleted["dead_letters"] == 0
        report = await maintain(loaded, now=T0 + timedelta(days=8))
        assert report.deleted["dead_letters"] == 1
        assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 0
    finally:
        await conn.close()


async def test_bad_settings_and_an_unmigrated_database_are_refused_with_the_fix(
        loaded: str, pg_cluster: PostgresCluster) -> None:
    with pytest.raises(SettingError, match=r"storage.retention.readings '10x' is not a "
                                           r"duration: write a whole number with a unit"):
        await maintain(loaded, {"storage.retention.readings": "10x"})
    with pytest.raises(SettingError, match="partition interval 'year' is not one of day, "
                                           "week, month"):
        await maintain(loaded, {"storage.partition_interval": "year"})
    with pytest.raises(MaintenanceError, match=r"lacks migrations 0001_inventory.*run `scg db "
                                               "migrate` first"):
        await maintain(pg_cluster.create_database("t_maintain_unmigrated"))


def test_scg_db_maintain_stores_its_options_and_reports_what_it_did(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "migrate", "--database-url", database, "--partitions-ahead", "3"]) == 0
    capsys.readouterr()
    assert main(["db", "maintain", "--database-url", database, "--keep-readings", "30d"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "storage: postgresql"
    # Partitions further ahead than the migration made, for each time-series table.
    assert out[1].startswith("created ")
    assert all(f" {table}_p20" in out[1] for table in TIME_SERIES)
    assert main(["db", "maintain", "--database-url", database, "--keep-probes", "a year"]) == 2
    err = capsys.readouterr().err
    assert err == ("scg db: storage.retention.probes 'a year' is not a duration: write a whole "
                   "number with a unit, e.g. 400d, 12h, 30min, 2w (or 0 to keep forever)\n")
