"""Apply the numbered SQL migrations in `migrations/` (and, where TimescaleDB exists, those
in `timescaledb/`) once each, under an advisory lock, each in its own transaction.

Between the two sets, in TimescaleDB mode, every time-series table is made a hypertable
(`ingest.schema.timescale`: a populated plain database moves over in batches); after
them, the storage settings (`ingest.schema.storage`) are applied to the policies.

A few migrations have a step in Python run right after their SQL, in the same transaction
(`AFTER_MIGRATION`): 0035 chains the records already there. Last, the runtime role
(default `scg_app`) gets exactly its privileges (`ingest.schema.roles`): the role that
migrates owns the tables; ingest and the API connect as the runtime role.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import asyncpg

from ingest.schema import timescale
from ingest.schema.chain import CHAINS
from ingest.schema.chain_audit import seal
from ingest.schema.roles import DEFAULT_APP_ROLE, RoleError, prepare_runtime_role
from ingest.schema.storage import load_settings, settings_from

log = logging.getLogger(__name__)

HERE: Final = Path(__file__).parent
PLAIN_DIR: Final = HERE / "migrations"
TIMESCALE_DIR: Final = HERE / "timescaledb"
TIMESCALE_PREFIX: Final = "timescaledb/"

#: Key of the session advisory lock that serialises migrations (any fixed 64-bit number).
LOCK_KEY: Final = 0x5C6_0001

#: Tables that become hypertables in TimescaleDB mode (partitioned tables on plain
#: PostgreSQL, migration 0014), with their time column.
TIME_SERIES: Final = {"readings": "time", "events": "time", "device_state_changes": "since",
                      "probes": "time", "device_state_intervals": "start"}

StorageMode = Literal["timescaledb", "postgresql"]
_NAME_RE: Final = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
#: First-line directive of a TimescaleDB migration that needs the Timescale licence.
_LICENSE_RE: Final = re.compile(r"^-- scg:requires-license (\w+)\s*$", re.MULTILINE)


class MigrationError(RuntimeError):
    """The schema cannot be brought up to date; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str        # recorded in schema_migrations, e.g. "0002_telemetry" or "timescaledb/0001_…"
    sql: str
    checksum: str

    @property
    def requires_license(self) -> str | None:
        """`timescale` for files using features the Apache-2 TimescaleDB build lacks."""
        m = _LICENSE_RE.search(self.sql)
        return m.group(1) if m else None


def discover(directory: Path, prefix: str = "") -> list[Migration]:
    """The migrations in `directory`, in order; raise MigrationError on a misnamed file."""
    found: dict[str, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        m = _NAME_RE.match(path.name)
        if not m:
            raise MigrationError(f"{path}: migration files are named NNNN_lower_snake.sql")
        number = m.group(1)
        if number in found:
            raise MigrationError(f"{path}: number {number} is already used by "
                                 f"{found[number].name}; give it the next free number")
        sql = path.read_text(encoding="utf-8")
        found[number] = Migration(prefix + path.stem, sql,
                                  hashlib.sha256(sql.encode()).hexdigest())
    return [found[n] for n in sorted(found)]


async def _chain_existing_rows(conn: asyncpg.Connection) -> None:
    """0035: chain the records written before the chains, then refuse unchained rows."""
    sealed = await seal(conn)
    for chain in CHAINS.values():
        await conn.execute(f"ALTER TABLE {chain.table} ALTER COLUMN prev_hash SET NOT NULL, "
                           "ALTER COLUMN hash SET NOT NULL")
    if any(sealed.values()):
        log.info("chained the records already stored: %s",
                 ", ".join(f"{n} {name}" for name, n in sealed.items()))


#: Steps in Python run right after a migration's SQL, inside its transaction.
AFTER_MIGRATION: Final[dict[str, Callable[[asyncpg.Connection], Awaitable[Any]]]] = {
    "0035_hash_chains": _chain_existing_rows,
}


async def migrate(dsn: str, *, timescaledb: bool | None = None,
                  storage: Mapping[str, str] | None = None,
                  app_role: str | None = DEFAULT_APP_ROLE,
                  app_password: str | None = None) -> list[str]:
    """Bring the database at `dsn` up to date; return the names applied by this call.

    `timescaledb`: None uses TimescaleDB when the extension can be created, True requires
    it (MigrationError otherwise), False keeps plain PostgreSQL tables. `storage`: storage
    settings to store and apply (setting key -> text, see `ingest.schema.storage`). Safe to
    run from several processes at once: the second waits for the first and then finds
    nothing to do.

    `app_role`: the runtime role to create if missing and grant its privileges to (None:
    leave roles alone); `app_password` sets its password. MigrationError
    when the role cannot be made ready — the migrations themselves are applied by then.
    """
    settings_from({}, storage or {})  # refuse a bad setting before changing anything
    conn = await asyncpg.connect(dsn)
    try:
        if app_role is not None and app_role == await conn.fetchval("SELECT current_user"):
            raise MigrationError(
                f"the runtime role {app_role!r} is the role migrating: migrate as the owner "
                "of the schema (ingest and the API then connect as the runtime role, which "
                "owns nothing), or name another runtime role")
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            applied = await _migrate_locked(conn, timescaledb, storage or {})
            if app_role is not None:
                await _prepare_role(conn, app_role, app_password)
            return applied
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()


#: Attempts at the runtime role's grants while something else changes the same catalogue rows.
ROLE_ATTEMPTS: Final = 5


async def _prepare_role(conn: asyncpg.Connection, role: str, password: str | None) -> None:
    """The runtime role's privileges, in one transaction, tried again when PostgreSQL says
    "tuple concurrently updated": a GRANT rewrites each table's catalogue row (a hypertable's
    chunks' too) without a lock that waits for another writer of that row, so TimescaleDB's
    background jobs (compression, aggregate refresh) or an operator's GRANT can make it fail
    outright. The transaction changed nothing then; the next attempt sees the new row."""
    for attempt in range(1, ROLE_ATTEMPTS + 1):
        try:
            async with conn.transaction():
                await prepare_runtime_role(conn, role, password)
            return
        except RoleError as exc:
            raise MigrationError(str(exc)) from None
        except asyncpg.InternalServerError as exc:
            if "tuple concurrently updated" not in str(exc) or attempt == ROLE_ATTEMPTS:
                raise
            log.info("granting the runtime role %r met a concurrent change of the catalogue "
                     "(%s); trying again (%d of %d)", role, exc, attempt + 1, ROLE_ATTEMPTS)
            await asyncio.sleep(0.05 * 2 ** attempt)


async def _migrate_locked(conn: asyncpg.Connection, want_timescale: bool | None,
                          storage: Mapping[str, str]) -> list[str]:
    # The storage mode first: requiring TimescaleDB where it is missing changes nothing, and
    # a database whose extension the server does not load is refused before any DDL.
    mode, note = await _timescale_mode(conn, want_timescale)
    await conn.execute("""
        CREATE TABLE IF NOT EXISTS schema_migrations (
            name        text PRIMARY KEY,
            checksum    text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )""")
    applied_now = await _apply(conn, discover(PLAIN_DIR))
    settings = await load_settings(conn, storage)
    if mode == "timescaledb":
        converted = await timescale.ensure_hypertables(conn, TIME_SERIES, settings)
        for table, transactions in converted.items():
            log.info("moved the rows of %s into its hypertable in %d transactions", table,
                     transactions)
        license_ = await conn.fetchval("SELECT current_setting('timescaledb.license', true)")
        usable: list[Migration] = []
        skipped: list[Migration] = []
        for mig in discover(TIMESCALE_DIR, TIMESCALE_PREFIX):
            wanted = mig.requires_license
            (skipped if wanted and wanted != license_ else usable).append(mig)
        applied_now += await _apply(conn, usable)
        if skipped:
            note += (f"; skipped {', '.join(m.name for m in skipped)} (needs the Timescale "
                     f"licence, this server runs the {license_!r} one): no compression or "
                     "retention policies")
        if any(name.startswith(TIMESCALE_PREFIX) and "aggregate" in name
               for name in applied_now):
            # Built WITH NO DATA inside their migration: fill them once, here. Later on,
            # their refresh policies keep them current.
            await timescale.refresh_aggregates(conn)
        await timescale.apply_policies(conn, TIME_SERIES, settings)
    await conn.execute("""
        INSERT INTO settings (key, value) VALUES ('storage_mode', $1), ('storage_note', $2)
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
        WHERE settings.value IS DISTINCT FROM EXCLUDED.value""", mode, note)
    if applied_now:
        log.info("applied %d migration(s): %s; storage mode %s", len(applied_now),
                 ", ".join(applied_now), mode)
    return applied_now


async def _apply(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    rows = await conn.fetch("SELECT name, checksum FROM schema_migrations")
    done = {r["name"]: r["checksum"] for r in rows}
    applied: list[str] = []
    for mig in migrations:
        if mig.name in done:
            if done[mig.name] != mig.checksum:
                raise MigrationError(
                    f"migration {mig.name} was changed after it was applied to this database; "
                    "never edit an applied migration: restore it and add a new numbered one")
            continue
        try:
            async with conn.transaction():
                await conn.execute(mig.sql)
                after = AFTER_MIGRATION.get(mig.name)
                if after is not None:
                    await after(conn)
                await conn.execute("INSERT INTO schema_migrations (name, checksum) "
                                   "VALUES ($1, $2)", mig.name, mig.checksum)
        except asyncpg.PostgresError as exc:
            raise MigrationError(f"migration {mig.name} failed and was rolled back: "
                                 f"{type(exc).__name__}: {exc}") from exc
        applied.append(mig.name)
    return applied


async def _timescale_mode(conn: asyncpg.Connection,
                          want: bool | None) -> tuple[StorageMode, str]:
    """Create the extension when wanted and possible; return the mode and why."""
    installed = await conn.fetchval(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    preloaded = await _loader_preloaded(conn)
    if installed:
        if not preloaded:
            # Any DDL would then end the session (TimescaleDB's event trigger raises FATAL),
            # and rows written meanwhile land in the hypertables' root tables, out of sight.
            raise MigrationError(
                f"this database has the timescaledb extension ({installed}) but the server "
                "does not load its library; add timescaledb to shared_preload_libraries and "
                "restart PostgreSQL before migrating or running ingest")
        return "timescaledb", f"TimescaleDB {installed}: time-series tables are hypertables"
    if want is False:
        return "postgresql", "plain PostgreSQL tables (TimescaleDB not requested)"
    available = await conn.fetchval(
        "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")
    if not available:
        why = "the timescaledb extension is not installed on this server"
        if want:
            raise MigrationError(f"TimescaleDB was required but {why}; install it, or "
                                 "migrate without requiring it")
        return "postgresql", f"plain PostgreSQL tables: {why} (not in pg_available_extensions)"
    if not preloaded:
        # Checked first because CREATE EXTENSION without the preload is a FATAL error in
        # TimescaleDB 2.x: the server closes the connection instead of raising an error.
        why = "the timescaledb library is not in shared_preload_libraries"
        if want:
            raise MigrationError(f"TimescaleDB was required but {why}; add timescaledb to "
                                 "shared_preload_libraries and restart PostgreSQL")
        log.warning("using plain PostgreSQL tables: %s", why)
        return "postgresql", f"plain PostgreSQL tables: {why}"
    try:
        async with conn.transaction():
            await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except asyncpg.PostgresError as exc:
        why = f"CREATE EXTENSION timescaledb failed: {exc}"
        if want:
            raise MigrationError(f"TimescaleDB was required but {why}; migrate as a role "
                                 "that may create extensions (a superuser), or see the "
                                 "PostgreSQL log") from exc
        log.warning("using plain PostgreSQL tables: %s", why)
        return "postgresql", f"plain PostgreSQL tables: {why}"
    version = await conn.fetchval(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    return "timescaledb", f"TimescaleDB {version}: time-series tables are hypertables"


async def _loader_preloaded(conn: asyncpg.Connection) -> bool:
    """True when the server preloaded TimescaleDB's loader library.

    shared_preload_libraries itself is readable by superusers only, so this asks for a
    setting the loader defines at preload instead; a mere placeholder of that name (set in
    postgresql.conf without the library) has type string, not bool.
    """
    return bool(await conn.fetchval(
        "SELECT vartype = 'bool' FROM pg_settings WHERE name = 'timescaledb.disable_load'"))


async def storage_mode(conn: asyncpg.Connection) -> tuple[str, str]:
    """The storage mode recorded by the last migration and its note ('unmigrated' if none)."""
    exists = await conn.fetchval("SELECT to_regclass('settings') IS NOT NULL")
    if not exists:
        return "unmigrated", "the database has no scg schema yet; run `scg db migrate`"
    rows = await conn.fetch("SELECT key, value FROM settings "
                            "WHERE key IN ('storage_mode', 'storage_note')")
    got = {r["key"]: r["value"] for r in rows}
    return got.get("storage_mode", "unmigrated"), got.get("storage_note", "")


async def pending(conn: asyncpg.Connection) -> list[str]:
    """Plain migrations not yet applied (empty when the schema is up to date)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    names = [m.name for m in discover(PLAIN_DIR)]
    if not exists:
        return names
    done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
    return [n for n in names if n not in done]
