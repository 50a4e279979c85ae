"""The TimescaleDB storage mode on a real server that preloads the extension: hypertables,
policies (or their skip on an Apache-only server), de-duplicated writes into chunks, the
lighting indicator, re-running migrate. Skips where the extension is not installed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from ingest_support import INVENTORY, T0, envelope, event, msg, reading, state

from indicators.load import compute_indicators
from ingest.messages import Received
from ingest.schema.migrate import (
    PLAIN_DIR,
    TIME_SERIES,
    TIMESCALE_DIR,
    TIMESCALE_PREFIX,
    MigrationError,
    discover,
    migrate,
    storage_mode,
)
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from scg.localsvc import PostgresCluster
from telemetry import DeviceState, Probe

PLAIN = [m.name for m in discover(PLAIN_DIR)]
TIMESCALE = [m.name for m in discover(TIMESCALE_DIR, TIMESCALE_PREFIX)]
#: The server settings TimescaleDB needs; telemetry off: these servers must not phone home.
PRELOAD = {"shared_preload_libraries": "timescaledb", "timescaledb.telemetry_level": "off"}
NOT_INSTALLED = ("the timescaledb extension is not installed on this PostgreSQL server (not in "
                 "pg_available_extensions); the plain-PostgreSQL path is tested elsewhere")


def _start(root: Path, name: str, settings: dict[str, str]) -> PostgresCluster:
    cluster = PostgresCluster(root / name, durable=False, settings=settings)
    cluster.start()
    return cluster


@pytest.fixture(scope="module")
def timescale_root(pg_cluster: PostgresCluster, scratch_root: Path) -> Path:
    """Where this module's clusters live; skips the module without the extension."""
    count = pg_cluster.psql("SELECT count(*) FROM pg_available_extensions "
                            "WHERE name = 'timescaledb'").strip()
    if count != "1":
        pytest.skip(NOT_INSTALLED)
    return scratch_root


@pytest.fixture(scope="module")
def timescale_cluster(timescale_root: Path) -> Iterator[PostgresCluster]:
    cluster = _start(timescale_root, "pg-timescaledb", PRELOAD)
    yield cluster
    cluster.stop()


def _db_name(request: pytest.FixtureRequest) -> str:
    return "ts_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]


@pytest.fixture
def ts_database(timescale_cluster: PostgresCluster, request: pytest.FixtureRequest) -> str:
    """DSN of an empty database of this test's own on the TimescaleDB server."""
    return timescale_cluster.create_database(_db_name(request))


@pytest.fixture
async def ts_loaded(ts_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a TimescaleDB-mode database holding the sample inventory."""
    await migrate(ts_database, timescaledb=True)
    conn = await asyncpg.connect(ts_database)
    await import_inventory(conn, parse_inventory(INVENTORY, "sample.yaml"))
    yield conn
    await conn.close()


async def _fetch_dict(dsn: str, sql: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {r[0]: r[1] for r in await conn.fetch(sql)}
    finally:
        await conn.close()


async def test_migrate_makes_each_time_series_table_a_hypertable_on_its_time_column(
        ts_database: str) -> None:
    assert await migrate(ts_database, timescaledb=True) == PLAIN + TIMESCALE
    dimensions = await _fetch_dict(
        ts_database, "SELECT hypertable_name, column_name FROM timescaledb_information.dimensions "
                     "WHERE hypertable_name NOT LIKE '\\_materialized%'")
    assert dimensions == TIME_SERIES
    conn = await asyncpg.connect(ts_database)
    try:
        mode, note = await storage_mode(conn)
        indexes = {r["indexname"] for r in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'readings'")}
    finally:
        await conn.close()
    assert mode == "timescaledb"
    assert re.fullmatch(r"TimescaleDB 2\.\d+\.\d+: time-series tables are hypertables", note)
    # The plain migration's indexes serve both modes; no default index is added on top.
    assert indexes == {"readings_device_metric_time", "readings_time"}


async def test_policies_follow_the_storage_settings(ts_database: str) -> None:
    await migrate(ts_database, timescaledb=True)
    conn = await asyncpg.connect(ts_database)
    try:
        jobs = {(r["hypertable_name"], r["proc_name"]): r["config"] for r in await conn.fetch(
            "SELECT hypertable_name, proc_name, config::text FROM timescaledb_information.jobs "
            "WHERE hypertable_name IS NOT NULL")}
        segments = {r["hypertable"]: (r["segmentby"], r["orderby"]) for r in await conn.fetch(
            "SELECT hypertable::text, segmentby, orderby "
            "FROM timescaledb_information.hypertable_compression_settings "
            "WHERE segmentby IS NOT NULL")}
    finally:
        await conn.close()
    # The defaults of ingest.schema.storage: compress after 7 days, readings and probes
    # kept 400 days, events and state changes kept, rollups two years.
    assert {key: _interval_of(config) for key, config in jobs.items()} == {
        ("readings", "policy_compression"): "7 days",
        ("events", "policy_compression"): "7 days",
        ("probes", "policy_compression"): "7 days",
        ("readings", "policy_retention"): "400 days",
        ("probes", "policy_retention"): "400 days",
        ("availability_hourly", "policy_retention"): "800 days",
        ("energy_daily", "policy_retention"): "800 days",
        ("availability_hourly", "policy_refresh_continuous_aggregate"): "01:00:00",
        ("energy_daily", "policy_refresh_continuous_aggregate"): "01:00:00",
    }
    newest_first = '"time" DESC'
    assert segments == {"readings": ("community,device,metric", newest_first),
                        "events": ("community,device", newest_first),
                        "probes": ("community,device", newest_first)}


def _interval_of(config: str) -> str:
    m = re.search(r'"(?:compress_after|drop_after|end_offset)": "([^"]+)"', config)
    assert m, f"no compress_after / drop_after / end_offset in job config {config}"
    return m.group(1)


async def test_concurrent_and_repeated_migrations_apply_everything_exactly_once(
        ts_database: str) -> None:
    first, second = await asyncio.gather(migrate(ts_database, timescaledb=True),
                                         migrate(ts_database, timescaledb=True))
    assert sorted([first, second], key=len) == [[], PLAIN + TIMESCALE]
    jobs_sql = "SELECT job_id::text, proc_name FROM timescaledb_information.jobs"
    jobs = await _fetch_dict(ts_database, jobs_sql)
    # Once the extension is in the database, the mode stays TimescaleDB whatever is asked.
    for want in (True, None, False):
        assert await migrate(ts_database, timescaledb=want) == []
    assert await _fetch_dict(ts_database, jobs_sql) == jobs
    conn = await asyncpg.connect(ts_database)
    try:
        assert (await storage_mode(conn))[0] == "timescaledb"
    finally:
        await conn.close()


def _telemetry_batch(seq: int, day: timedelta = timedelta(0)) -> list[Received]:
    t = T0 + day
    return [msg(envelope(seq, [
        reading("light-001", t), reading("light-001", t, "energy_kwh", 12.5),
        event("light-001", t), state("light-001", DeviceState.ONLINE, t),
        Probe("cam-01", t, True, "", {"rtt_ms": 12.0}),
    ], sent_at=t))]


async def _counts(conn: asyncpg.Connection) -> dict[str, tuple[int, int]]:
    """Per time-series table: (rows, rows left in the hypertable's root instead of a chunk)."""
    out = {}
    for table in list(TIME_SERIES)[:4]:
        out[table] = (await conn.fetchval(f"SELECT count(*) FROM {table}"),
                      await conn.fetchval(f"SELECT count(*) FROM ONLY {table}"))
    return out


async def test_write_batch_stores_items_in_chunks_once_even_when_redelivered(
        ts_loaded: asyncpg.Connection) -> None:
    first = await write_batch(ts_loaded, _telemetry_batch(1))
    again = await write_batch(ts_loaded, _telemetry_batch(1))
    assert (first.envelopes, first.readings, first.events, first.states, first.probes) == (
        1, 2, 1, 1, 1)
    assert (again.envelopes, again.duplicates, again.readings) == (0, 1, 0)
    assert await _counts(ts_loaded) == {"readings": (2, 0), "events": (1, 0),
                                        "device_state_changes": (1, 0), "probes": (1, 0)}
    row = await ts_loaded.fetchrow("SELECT state, since, last_seen FROM device_status "
                                   "WHERE community = 'demo' AND device = 'light-001'")
    assert (row["state"], row["since"], row["last_seen"]) == ("online", T0, T0)


async def test_late_items_land_in_compressed_chunks_and_redelivery_stays_deduplicated(
        ts_loaded: asyncpg.Connection) -> None:
    old = -timedelta(days=20)  # past the 7-day compression horizon of readings
    await write_batch(ts_loaded, _telemetry_batch(1, old))
    # The compression policy's own job may get there first: compressing twice is no error.
    await ts_loaded.execute("SELECT compress_chunk(c, if_not_compressed => true) "
                            "FROM show_chunks('readings') c")
    compressed = await ts_loaded.fetch(
        "SELECT is_compressed FROM timescaledb_information.chunks "
        "WHERE hypertable_name = 'readings'")
    assert [r["is_compressed"] for r in compressed] == [True]
    late = [msg(envelope(2, [reading("light-001", T0 + old + timedelta(minutes=1),
                                     value=80.0)], sent_at=T0))]
    result = await write_batch(ts_loaded, late + _telemetry_batch(1, old))
    assert (result.envelopes, result.duplicates, result.readings) == (1, 1, 1)
    values = [r["value"] for r in await ts_loaded.fetch(
        "SELECT value FROM readings WHERE metric = 'power_w' ORDER BY time")]
    assert values == [72.5, 80.0]
    chunks = await ts_loaded.fetchval(
        "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'readings'")
    assert chunks == 1  # the late reading went into the compressed chunk, not a new one


def _lighting_batches() -> list[Received]:
    # light-001 reports again 30 h later: for as_of T0 + 2 h its last report up to as_of
    # comes from the readings hypertable, not from device_status.
    return [
        msg(envelope(1, [state("light-001", DeviceState.ONLINE), state("light-002",
                                                                       DeviceState.ONLINE),
                         reading("light-001", T0 + timedelta(hours=1)),
                         reading("light-002", T0 + timedelta(hours=1))])),
        msg(envelope(2, [reading("light-001", T0 + timedelta(hours=30))],
                     sent_at=T0 + timedelta(hours=30))),
        msg(envelope(1, [state("light-201", DeviceState.ONLINE),
                         event("light-201", T0 + timedelta(minutes=5))], gateway="demo-gw2"),
            gateway="demo-gw2"),
    ]


async def _lighting(conn: asyncpg.Connection) -> list[tuple[object, ...]]:
    await write_batch(conn, _lighting_batches())
    out = []
    for as_of in (T0 + timedelta(hours=2), T0 + timedelta(hours=31)):
        r = (await compute_indicators(conn, "demo", as_of, timedelta(hours=24)))[0]
        out.append((r.numerator, r.denominator, r.value, r.numerator_devices, r.breakdown))
    return out


async def test_lighting_indicator_is_the_same_on_hypertables_and_plain_tables(
        ts_loaded: asyncpg.Connection, database: str) -> None:
    on_timescale = await _lighting(ts_loaded)
    await migrate(database, timescaledb=False)
    plain = await asyncpg.connect(database)
    try:
        await import_inventory(plain, parse_inventory(INVENTORY, "sample.yaml"))
        on_postgresql = await _lighting(plain)
    finally:
        await plain.close()
    assert on_timescale == on_postgresql
    (n_then, d_then, v_then, counted_then, _), (n_later, _, _, counted_later, _) = on_timescale
    assert (n_then, d_then, v_then) == (3, 6, 50.0)
    assert counted_then == ("light-001", "light-002", "light-201")
    # 31 h on, only light-001 has reported within the last 24 h.
    assert (n_later, counted_later) == (1, ("light-001",))


async def test_an_apache_only_server_gets_hypertables_without_policies_and_says_so(
        timescale_root: Path, request: pytest.FixtureRequest) -> None:
    cluster = _start(timescale_root, "pg-timescaledb-apache",
                     PRELOAD | {"timescaledb.license": "apache"})
    try:
        dsn = cluster.create_database(_db_name(request))
        assert await migrate(dsn, timescaledb=True) == [*PLAIN, "timescaledb/0001_hypertables"]
        assert await migrate(dsn, timescaledb=True) == []  # the skip is no failure on re-run
        conn = await asyncpg.connect(dsn)
        try:
            mode, note = await storage_mode(conn)
            hypertables = {r[0]: r[1] for r in await conn.fetch(
                "SELECT hypertable_name, compression_enabled "
                "FROM timescaledb_information.hypertables")}
            policies = await conn.fetchval(
                "SELECT count(*) FROM timescaledb_information.jobs "
                "WHERE hypertable_name IS NOT NULL")
            await import_inventory(conn, parse_inventory(INVENTORY, "sample.yaml"))
            written = await write_batch(conn, _telemetry_batch(1))
        finally:
            await conn.close()
    finally:
        cluster.stop()
    assert mode == "timescaledb"
    assert "skipped timescaledb/0002_policies" in note
    assert "runs the 'apache' one): no compression or retention policies" in note
    assert hypertables == dict.fromkeys(TIME_SERIES, False)
    assert policies == 0
    assert written.readings == 2


async def test_a_server_restarted_without_the_preload_is_refused_with_the_fix(
        timescale_root: Path, request: pytest.FixtureRequest) -> None:
    name = _db_name(request)
    cluster = _start(timescale_root, "pg-timescaledb-restarted", PRELOAD)
    try:
        await migrate(cluster.create_database(name), timescaledb=True)
    finally:
        cluster.stop()
    # Same data, no preload; a leftover setting of the loader's name is only a placeholder.
    bare = _start(timescale_root, "pg-timescaledb-restarted", {"timescaledb.disable_load": "off"})
    dsn = bare.dsn(name)
    try:
        for want in (None, False):
            with pytest.raises(MigrationError, match=r"has the timescaledb extension \(2\.\d+"
                                                     r"\.\d+\) but the server does not load its "
                                                     "library; add timescaledb to shared_"):
                await migrate(dsn, timescaledb=want)
    finally:
        bare.stop()


async def test_an_owner_role_migrates_once_a_superuser_created_the_extension(
        timescale_cluster: PostgresCluster, request: pytest.FixtureRequest) -> None:
    # The deployment documented in deploy/central: scg connects as a plain role, which can
    # read neither shared_preload_libraries nor create the (untrusted) extension itself.
    name = _db_name(request)
    timescale_cluster.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    timescale_cluster.psql("DROP ROLE IF EXISTS scg_owner")
    timescale_cluster.psql("CREATE ROLE scg_owner LOGIN")
    timescale_cluster.psql(f"CREATE DATABASE {name} OWNER scg_owner")
    timescale_cluster.psql("CREATE EXTENSION timescaledb", database=name)
    dsn = f"postgresql://scg_owner@127.0.0.1:{timescale_cluster.port}/{name}"
    assert await migrate(dsn, timescaledb=True) == PLAIN + TIMESCALE
    owners = await _fetch_dict(dsn, "SELECT hypertable_name, owner::text "
                                    "FROM timescaledb_information.hypertables")
    assert owners == dict.fromkeys(TIME_SERIES, "scg_owner")
