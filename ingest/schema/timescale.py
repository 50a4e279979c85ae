"""TimescaleDB layout from Python: turn the time-series tables into hypertables (moving a
populated plain database over in batches), and set chunk intervals, compression,
retention and refresh policies from the storage settings.

A populated table is not converted in one transaction (create_hypertable's migrate_data
would hold a lock on the whole history for as long as the copy takes, and a failure
halfway would undo it all): the old table is renamed, an empty hypertable takes its name,
and the rows move over one time slice per transaction (`DELETE … RETURNING` into the
hypertable), so an interrupted conversion resumes where it stopped. Stop ingest and the
API while it runs: until it ends, part of the history is still in the old table.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Final

from ingest.schema.storage import StorageSettings

log = logging.getLogger(__name__)

Connection = Any  # asyncpg.Connection

#: Suffix of a table being moved into its hypertable.
OLD_SUFFIX: Final = "_before_timescaledb"
#: Rows move over in slices of this much time, one transaction each.
SLICE: Final = timedelta(days=1)
#: Continuous aggregates (timescaledb/0011) and how often their policy refreshes them.
AGGREGATES: Final = {"availability_hourly": timedelta(minutes=5),
                     "energy_daily": timedelta(minutes=30)}
_CREATE_HYPERTABLE: Final = (
    "SELECT create_hypertable($1::regclass, $2::name, chunk_time_interval => $3::interval, "
    "create_default_indexes => false)")
COMPRESSED: Final = {"readings": "community, device, metric", "events": "community, device",
                     "probes": "community, device"}


async def is_hypertable(conn: Connection, table: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables "
        "WHERE hypertable_name = $1)", table))


async def ensure_hypertables(conn: Connection, tables: dict[str, str],
                             settings: StorageSettings,
                             slice_: timedelta = SLICE) -> dict[str, int]:
    """Make each of `tables` (name -> time column) a hypertable; return, for those
    converted from a populated (or partitioned) table, how many transactions moved rows."""
    converted: dict[str, int] = {}
    for table, column in tables.items():
        if await is_hypertable(conn, table) and await conn.fetchval(
                "SELECT to_regclass($1) IS NULL", table + OLD_SUFFIX):
            continue
        interval = settings.chunk_interval_of(table)
        old = table + OLD_SUFFIX
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", old):
            relkind = await conn.fetchval(
                "SELECT relkind::text FROM pg_class WHERE oid = $1::regclass", table)
            populated = await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})")
            if relkind == "r" and not populated:
                await conn.execute(_CREATE_HYPERTABLE, table, column, interval)
                continue
            await _swap_in_hypertable(conn, table, column, interval)
        converted[table] = await _move_rows(conn, table, column, slice_)
    return converted


async def _swap_in_hypertable(conn: Connection, table: str, column: str,
                              interval: timedelta) -> None:
    """Rename `table` aside and put an empty hypertable with its columns, checks and
    indexes (same names) in its place, in one transaction."""
    old = table + OLD_SUFFIX
    async with conn.transaction():
        indexes = await conn.fetch(
            """SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE i.indrelid = $1::regclass""", table)
        await conn.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        await conn.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS '
                           "INCLUDING CONSTRAINTS)")
        for n, idx in enumerate(indexes):
            await conn.execute(f'ALTER INDEX "{idx["name"]}" RENAME TO "{table[:40]}_old_{n}"')
            definition = idx["def"].replace(" ON ONLY ", " ON ").replace(
                f".{old} ", f".{table} ")
            await conn.execute(definition)
        await conn.execute(_CREATE_HYPERTABLE, table, column, interval)
    log.info("converting %s to a hypertable: moving its rows over in slices of %s",
             table, SLICE)


async def _move_rows(conn: Connection, table: str, column: str, slice_: timedelta) -> int:
    """Move the old table's rows, oldest first, one slice per transaction; drop it."""
    old = table + OLD_SUFFIX
    transactions = 0
    while True:
        first: datetime | None = await conn.fetchval(f'SELECT min("{column}") FROM "{old}"')
        if first is None:
            break
        async with conn.transaction():
            moved = await conn.execute(
                f'WITH moved AS (DELETE FROM "{old}" WHERE "{column}" < $1 RETURNING *) '
                f'INSERT INTO "{table}" SELECT * FROM moved', first + slice_)
        transactions += 1
        log.debug("%s: %s", table, moved)
    async with conn.transaction():
        await conn.execute(f'DROP TABLE "{old}" CASCADE')
        if await conn.fetchval("SELECT to_regclass('time_partitions') IS NOT NULL"):
            await conn.execute("DELETE FROM time_partitions WHERE parent = $1", table)
    return transactions


async def refresh_aggregates(conn: Connection) -> list[str]:
    """Materialize the continuous aggregates that exist (outside any transaction)."""
    done = []
    for name in AGGREGATES:
        if await _is_aggregate(conn, name):
            await conn.execute(f"CALL refresh_continuous_aggregate('{name}', NULL, NULL)")
            done.append(name)
    return done


async def _is_aggregate(conn: Connection, name: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM timescaledb_information.continuous_aggregates "
        "WHERE view_name = $1)", name))


async def apply_policies(conn: Connection, tables: dict[str, str],
                         settings: StorageSettings) -> list[str]:
    """Bring chunk intervals and, where the licence has them, compression, retention and
    refresh policies in line with `settings`; return what changed."""
    changed: list[str] = []
    license_ = await conn.fetchval("SELECT current_setting('timescaledb.license', true)")
    for table in tables:
        want = settings.chunk_interval_of(table)
        have = await conn.fetchval(
            "SELECT time_interval FROM timescaledb_information.dimensions "
            "WHERE hypertable_name = $1", table)
        if have != want:
            await conn.execute("SELECT set_chunk_time_interval($1::regclass, $2::interval)",
                               table, want)
            changed.append(f"{table}: chunks of {want}")
    if license_ != "timescale":
        return changed
    for table, segment_by in COMPRESSED.items():
        changed += await _compression(conn, table, segment_by, settings.compress_after)
    for table in tables:
        changed += await _policy(conn, table, "policy_retention", "drop_after",
                                 settings.horizon_of(table))
    for name, every in AGGREGATES.items():
        if await _is_aggregate(conn, name):
            changed += await _refresh_policy(conn, name, every)
            changed += await _policy(conn, name, "policy_retention", "drop_after",
                                     settings.rollup_retention)
    return changed


async def _compression(conn: Connection, table: str, segment_by: str,
                       after: timedelta | None) -> list[str]:
    enabled = await conn.fetchval(
        "SELECT compression_enabled FROM timescaledb_information.hypertables "
        "WHERE hypertable_name = $1", table)
    if after is not None and not enabled:
        time_column = await conn.fetchval(
            "SELECT column_name FROM timescaledb_information.dimensions "
            "WHERE hypertable_name = $1", table)
        await conn.execute(f"ALTER TABLE {table} SET (timescaledb.compress, "
                           f"timescaledb.compress_segmentby = '{segment_by}', "
                           f"timescaledb.compress_orderby = '{time_column} DESC')")
    return await _policy(conn, table, "policy_compression", "compress_after", after)


async def _policy(conn: Connection, relation: str, proc: str, key: str,
                  value: timedelta | None) -> list[str]:
    """Make `relation`'s policy `proc` have `key` = value (None: no policy)."""
    row = await conn.fetchrow(
        "SELECT job_id, config->>$3 AS current FROM timescaledb_information.jobs "
        "WHERE hypertable_name = $1 AND proc_name = $2", relation, proc, key)
    current = row["current"] if row else None
    wanted = None if value is None else await conn.fetchval("SELECT $1::interval::text", value)
    if current == wanted:
        return []
    noun = proc.removeprefix("policy_")
    remove = {"policy_retention": "remove_retention_policy",
              "policy_compression": "remove_compression_policy"}[proc]
    add = {"policy_retention": "add_retention_policy",
           "policy_compression": "add_compression_policy"}[proc]
    if row is not None:
        await conn.execute(f"SELECT {remove}($1::regclass)", relation)
    if value is not None:
        await conn.execute(f"SELECT {add}($1::regclass, $2::interval)", relation, value)
    return [f"{relation}: {noun} {wanted or 'off'}"]


async def _refresh_policy(conn: Connection, name: str, every: timedelta) -> list[str]:
    exists = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM timescaledb_information.jobs "
        "WHERE hypertable_name = $1 AND proc_name = 'policy_refresh_continuous_aggregate')",
        name)
    if exists:
        return []
    # From the beginning (start_offset null: a late state change may rewrite old hours)
    # to an hour ago; newer hours come from the raw rows in real time.
    await conn.execute(
        "SELECT add_continuous_aggregate_policy($1::regclass, start_offset => NULL, "
        "end_offset => INTERVAL '1 hour', schedule_interval => $2::interval)", name, every)
    return [f"{name}: refreshed every {every}"]
