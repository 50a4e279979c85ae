"""`scg db maintain`: age the history by the storage settings, and keep de-duplication
state bounded. Meant for a daily timer (deploy/central/scg-db-maintain.timer); safe to
run at any time and concurrently with ingest, and idempotent.

- Plain PostgreSQL: create the coming partitions (and partitions for rows that landed in
  the default partition), drop partitions wholly past retention, delete expired rollup
  rows. TimescaleDB: bring chunk intervals and policies in line with the settings (its
  own jobs then compress, drop and refresh).
- Both: expire dead letters and old gateway status changes (keeping each gateway's last
  word before the horizon), thin the indicator history past its hourly horizon to the
  first recording of each Beijing day (and expire it past its own), and prune
  de-duplication keys (migration 0012 says why the floor is safe). Audit records —
  operation log, alarm changes, declared values — are never touched: they are kept for
  ever by design.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from ingest.schema import timescale
from ingest.schema.migrate import LOCK_KEY, TIME_SERIES, pending, storage_mode
from ingest.schema.storage import StorageSettings, load_settings

log = logging.getLogger(__name__)

_STEP = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=31)}


class MaintenanceError(RuntimeError):
    """Maintenance cannot run (the schema is not migrated); the message says what to do."""


@dataclass
class MaintenanceReport:
    mode: str
    settings: StorageSettings
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"storage: {self.mode}"]
        if self.created:
            out.append(f"created {len(self.created)} partition(s): {', '.join(self.created)}")
        if self.dropped:
            out.append(f"dropped {len(self.dropped)} partition(s) past retention: "
                       f"{', '.join(self.dropped)}")
        out += [f"policy: {p}" for p in self.policies]
        out += [f"deleted {n} row(s) from {table}" for table, n in self.deleted.items() if n]
        return out


async def maintain(dsn: str, given: Mapping[str, str] | None = None, *,
                   now: datetime | None = None) -> MaintenanceReport:
    """Apply the storage settings (after storing those `given`) to the database at `dsn`.
    `now` stands for the current time (tests)."""
    conn = await asyncpg.connect(dsn)
    try:
        missing = await pending(conn)
        if missing:
            raise MaintenanceError(f"the database lacks migrations {', '.join(missing)}; run "
                                   "`scg db migrate` first")
        # Not while a migration (or another maintain) runs.
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            return await _maintain_locked(conn, given or {}, now or datetime.now(UTC))
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()


async def _maintain_locked(conn: Any, given: Mapping[str, str],
                           now: datetime) -> MaintenanceReport:
    settings = await load_settings(conn, given)
    mode, _ = await storage_mode(conn)
    report = MaintenanceReport(mode, settings)
    if mode == "timescaledb":
        report.policies = await timescale.apply_policies(conn, TIME_SERIES, settings)
        if not await timescale_aggregates(conn):
            await _expire_rollups(conn, settings, now, report)
    else:
        await _partitions(conn, settings, now, report)
        await _expire_rollups(conn, settings, now, report)
    await _expire_rows(conn, settings, now, report)
    await thin_indicator_history(conn, settings, now, report)
    report.deleted["received_envelopes"] = await prune_deduplication(conn, settings, now)
    for line in report.lines():
        log.info("%s", line)
    return report


async def timescale_aggregates(conn: Any) -> bool:
    """True when the rollups are continuous aggregates (their own policies expire them)."""
    return bool(await conn.fetchval(
        "SELECT relkind = 'v' FROM pg_class WHERE oid = 'availability_hourly'::regclass"))


async def _partitions(conn: Any, settings: StorageSettings, now: datetime,
                      report: MaintenanceReport) -> None:
    unit = settings.partition_interval
    ahead = now + _STEP[unit] * settings.partitions_ahead
    for table, column in TIME_SERIES.items():
        partitioned = await conn.fetchval(
            "SELECT relkind = 'p' FROM pg_class WHERE oid = $1::regclass", table)
        if not partitioned:
            continue
        retention = settings.horizon_of(table)
        horizon = now - retention if retention is not None else None
        # Rows that fell outside every partition (late data older than the oldest one)
        # get a partition of their own, unless they are past retention anyway.
        stray = await conn.fetchval(
            f'SELECT min("{column}") FROM "{table}_p_default" '
            f'WHERE $1::timestamptz IS NULL OR "{column}" >= $1', horizon)
        start = min(stray, now) if stray is not None else now
        async with conn.transaction():
            before = {r["name"] for r in await conn.fetch(
                "SELECT name FROM time_partitions WHERE parent = $1", table)}
            await conn.fetchval("SELECT scg_ensure_partitions($1, $2, $3, $4, $5)",
                                table, column, unit, start, ahead)
            after = {r["name"] for r in await conn.fetch(
                "SELECT name FROM time_partitions WHERE parent = $1", table)}
            report.created += sorted(after - before)
        if horizon is not None:
            async with conn.transaction():
                report.dropped += await conn.fetchval(
                    "SELECT scg_drop_partitions($1, $2, $3)", table, column, horizon)


async def _expire_rollups(conn: Any, settings: StorageSettings, now: datetime,
                          report: MaintenanceReport) -> None:
    if settings.rollup_retention is None:
        return
    horizon = now - settings.rollup_retention
    for table, column in (("availability_hourly", "hour"), ("energy_daily", "day")):
        report.deleted[table] = _count(await conn.execute(
            f"DELETE FROM {table} WHERE {column} < $1", horizon))


async def _expire_rows(conn: Any, settings: StorageSettings, now: datetime,
                       report: MaintenanceReport) -> None:
    if settings.dead_letter_retention is not None:
        report.deleted["dead_letters"] = _count(await conn.execute(
            "DELETE FROM dead_letters WHERE received_at < $1",
            now - settings.dead_letter_retention))
    if settings.state_retention is not None:
        # Each gateway keeps its last word before the horizon: whether it was offline at
        # the start of a window that begins there depends on it.
        report.deleted["gateway_status_changes"] = _count(await conn.execute(
            """DELETE FROM gateway_status_changes c
               WHERE c.at < $1 AND EXISTS (
                   SELECT 1 FROM gateway_status_changes later
                   WHERE later.community = c.community AND later.gateway = c.gateway
                     AND later.at > c.at AND later.at < $1)""",
            now - settings.state_retention))


async def thin_indicator_history(conn: Any, settings: StorageSettings, now: datetime,
                                 report: MaintenanceReport) -> None:
    """Past `hourly_history_retention`, keep each community's and indicator's first
    recording of a Beijing day; past `history_retention`, none."""
    if settings.history_retention is not None:
        report.deleted["indicator_history"] = _count(await conn.execute(
            "DELETE FROM indicator_history WHERE recorded_at < $1",
            now - settings.history_retention))
    if settings.hourly_history_retention is None:
        return
    report.deleted["indicator_history (thinned to daily)"] = _count(await conn.execute(
        """DELETE FROM indicator_history h
           WHERE h.recorded_at < $1 AND EXISTS (
               SELECT 1 FROM indicator_history e
               WHERE e.community = h.community AND e.indicator = h.indicator
                 AND e.recorded_at < h.recorded_at
                 AND e.recorded_at >= date_trunc('day', h.recorded_at, 'Asia/Shanghai'))""",
        now - settings.hourly_history_retention))


async def prune_deduplication(conn: Any, settings: StorageSettings, now: datetime) -> int:
    """Delete the keys each gateway's floor now covers, raise the floors; return how many
    keys went. A floor only rises to the seq of a key received at least dedup_min_age ago,
    below every younger key and dedup_window seqs below the high-water mark."""
    status = await conn.execute(
        """WITH young AS (
               SELECT community, gateway, min(seq) AS first_young FROM received_envelopes
               WHERE received_at >= $1 GROUP BY community, gateway),
           cut AS (
               SELECT e.community, e.gateway, max(e.seq) AS cutoff
               FROM received_envelopes e
               JOIN gateways g USING (community, gateway)
               LEFT JOIN young y USING (community, gateway)
               WHERE e.received_at < $1 AND e.seq <= g.seq_high_water - $2
                 AND (y.first_young IS NULL OR e.seq < y.first_young)
               GROUP BY e.community, e.gateway),
           raised AS (
               UPDATE gateways g SET seq_floor = greatest(g.seq_floor, cut.cutoff)
               FROM cut WHERE g.community = cut.community AND g.gateway = cut.gateway)
           DELETE FROM received_envelopes e USING cut
           WHERE e.community = cut.community AND e.gateway = cut.gateway
             AND e.seq <= cut.cutoff""",
        now - settings.dedup_min_age, settings.dedup_window)
    return _count(status)


def _count(status: str) -> int:
    """Rows affected, from a command status such as `DELETE 12`."""
    return int(status.rsplit(" ", 1)[-1])
