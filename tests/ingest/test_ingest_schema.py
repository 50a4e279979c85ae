from __future__ import annotations

import asyncio

import asyncpg
import pytest

from ingest.schema.migrate import (
    PLAIN_DIR,
    TIME_SERIES,
    TIMESCALE_DIR,
    MigrationError,
    discover,
    migrate,
    storage_mode,
)

PLAIN = [m.name for m in discover(PLAIN_DIR)]


async def test_migrate_applies_every_migration_once_and_reapplying_does_nothing(
        database: str) -> None:
    assert await migrate(database) == PLAIN
    assert await migrate(database) == []
    conn = await asyncpg.connect(database)
    try:
        names = [r["name"] for r in await conn.fetch(
            "SELECT name FROM schema_migrations ORDER BY name")]
        tables = {r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()
    assert names == PLAIN
    assert {"communities", "compounds", "buildings", "devices", "readings", "events",
            "device_state_changes", "device_status", "gateways", "probes",
            "received_envelopes", "dead_letters", "settings"} <= tables


async def test_two_processes_migrating_at_once_apply_each_migration_exactly_once(
        database: str) -> None:
    first, second = await asyncio.gather(migrate(database), migrate(database))
    assert sorted([first, second], key=len) == [[], PLAIN]


async def test_plain_postgresql_mode_is_recorded_with_the_reason(database: str) -> None:
    await migrate(database, timescaledb=False)
    conn = await asyncpg.connect(database)
    try:
        mode, note = await storage_mode(conn)
    finally:
        await conn.close()
    assert mode == "postgresql"
    assert "not requested" in note


async def test_unmigrated_database_reports_its_storage_mode_as_unmigrated(
        database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        mode, note = await storage_mode(conn)
    finally:
        await conn.close()
    assert (mode, note) == ("unmigrated",
                            "the database has no scg schema yet; run `scg db migrate`")


async def test_an_edited_applied_migration_is_refused(database: str) -> None:
    await migrate(database)
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("UPDATE schema_migrations SET checksum = 'x' "
                           "WHERE name = '0001_inventory'")
    finally:
        await conn.close()
    with pytest.raises(MigrationError, match="0001_inventory was changed after it was applied"):
        await migrate(database)


def test_timescaledb_migrations_make_every_time_series_table_a_hypertable() -> None:
    migrations = discover(TIMESCALE_DIR, "timescaledb/")
    sql = "\n".join(m.sql for m in migrations)
    # The first four come from the migration; migrate makes every TIME_SERIES table a
    # hypertable before the TimescaleDB migrations run (ingest.schema.timescale).
    for table, column in list(TIME_SERIES.items())[:4]:
        assert f"create_hypertable('{table}', '{column}'" in sql
    # Hypertables work on the Apache-2 build; compression, retention and continuous
    # aggregates need the other one.
    assert [(m.name, m.requires_license) for m in migrations] == [
        ("timescaledb/0001_hypertables", None), ("timescaledb/0002_policies", "timescale"),
        ("timescaledb/0011_continuous_aggregates", "timescale")]


async def _timescaledb_available(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"))


async def test_without_the_extension_requiring_timescaledb_fails_with_the_fix(
        database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        if await _timescaledb_available(conn):
            pytest.skip("TimescaleDB is installed here; this checks the server without it")
    finally:
        await conn.close()
    with pytest.raises(MigrationError, match="TimescaleDB was required but the timescaledb "
                                             "extension is not installed on this server"):
        await migrate(database, timescaledb=True)
    assert await migrate(database) == PLAIN  # nothing half-applied by the failed attempt


async def test_with_the_extension_installed_but_not_preloaded_migrate_names_the_fix(
        database: str) -> None:
    # The session cluster does not preload timescaledb; CREATE EXTENSION there would end
    # the connection (FATAL), so migrate must not try it. The hypertable path itself is
    # tested in test_ingest_timescaledb.py on a server that preloads the library.
    conn = await asyncpg.connect(database)
    try:
        if not await _timescaledb_available(conn):
            pytest.skip("the timescaledb extension is not installed on this server; the "
                        "missing-extension case is tested instead")
    finally:
        await conn.close()
    with pytest.raises(MigrationError, match="TimescaleDB was required but the timescaledb "
                                             "library is not in shared_preload_libraries"):
        await migrate(database, timescaledb=True)
    assert await migrate(database) == PLAIN
    conn = await asyncpg.connect(database)
    try:
        mode, note = await storage_mode(conn)
    finally:
        await conn.close()
    assert mode == "postgresql"
    assert note.startswith("plain PostgreSQL tables: the timescaledb library is not in "
                           "shared_preload_libraries")
