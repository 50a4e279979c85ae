"""Indicator history: every community's measured indicators recorded at least hourly in
`indicator_history`, read back per indicator over a period, and "as of" a past time.

Recording happens in `HistoryRecorder` (a task in `scg api`'s lifespan, see
`web.main`) and in `scg history record` (for cron). Several recorders may run at
once: a recording is skipped when another one stored the community less than a tenth of
an interval ago.

A recording is the community's indicator snapshot (`indicators.snapshots`) when one may
be served and was taken at most `SNAPSHOT_WITHIN` before the recording time; it is then
recorded at the snapshot's own `as_of`. Otherwise the indicators are computed then.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from indicators.load import INDICATOR_IDS, compute_indicators
from indicators.snapshots import served_snapshot

log = logging.getLogger(__name__)

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
Pool = Any        # asyncpg.Pool

#: How often the recorder stores every community's indicators unless configured otherwise.
DEFAULT_INTERVAL: Final = timedelta(hours=1)
#: Advisory lock key that serialises recorders (any fixed 64-bit number).
HISTORY_LOCK: Final = 0x5C6_0009
#: A snapshot taken this long before a recording time at most stands for it.
SNAPSHOT_WITHIN: Final = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What one recording pass did: indicators stored per community, and skipped ones."""

    at: datetime
    stored: dict[str, int]
    skipped: tuple[str, ...] = ()
    failed: dict[str, str] | None = None


async def record_indicators(conn: Connection, at: datetime,
                            communities: Sequence[str] | None = None, *,
                            skip_within: timedelta | None = None) -> Recorded:
    """Compute and store the indicators of `communities` (default: all) as of `at`.

    `skip_within`: leave out a community that already has a recording in
    `(at - skip_within, at]` (another recorder just did it). A community whose computation
    fails is logged and reported in `failed`; the others are still recorded.
    """
    if at.tzinfo is None:
        raise ValueError(f"recording time {at!r} has no timezone; use an aware UTC datetime")
    if communities is None:
        communities = [r["id"] for r in await conn.fetch(
            "SELECT id FROM communities ORDER BY id")]
    stored: dict[str, int] = {}
    skipped: list[str] = []
    failed: dict[str, str] = {}
    for community in communities:
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", HISTORY_LOCK)
                if skip_within is not None and await conn.fetchval(
                        """SELECT EXISTS (SELECT 1 FROM indicator_history
                           WHERE community = $1 AND recorded_at > $2 AND recorded_at <= $3)""",
                        community, at - skip_within, at):
                    skipped.append(community)
                    continue
                stored[community] = await _record_one(conn, community, at)
        except Exception as exc:  # one community's fault must not stop the others
            log.exception("recording the indicators of community %s as of %s failed",
                          community, iso(at))
            failed[community] = f"{type(exc).__name__}: {exc}"
    return Recorded(at=at, stored=stored, skipped=tuple(skipped), failed=failed or None)


async def _record_one(conn: Connection, community: str, at: datetime) -> int:
    served = await served_snapshot(conn, community, at, SNAPSHOT_WITHIN)
    if served is not None and served.as_of <= at:
        results: list[dict[str, Any]] = json.loads(served.indicators)
        at = served.as_of
    else:
        results = [r.to_dict() for r in await compute_indicators(conn, community, at)]
    await conn.executemany(
        """INSERT INTO indicator_history (community, indicator, recorded_at, value, numerator,
                                          denominator, status, result)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)
           ON CONFLICT (community, indicator, recorded_at) DO NOTHING""",
        [(community, r["id"], at, r["value"], r["numerator"], r["denominator"],
          json.dumps(r["status"]), json.dumps(r, ensure_ascii=False)) for r in results])
    return len(results)


async def latest_recording(conn: Connection) -> datetime | None:
    t: datetime | None = await conn.fetchval("SELECT max(recorded_at) FROM indicator_history")
    return t


def next_tick(now: datetime, interval: timedelta) -> datetime:
    """The next multiple of `interval` since the Unix epoch after `now` (on the hour for an
    hourly interval), so recorders on several hosts record at the same instants."""
    step = interval.total_seconds()
    ticks = math.floor(now.timestamp() / step) + 1
    return datetime.fromtimestamp(ticks * step, UTC)


#: After a failed pass (database down), the next try comes this soon at the latest.
RETRY_AFTER: Final = timedelta(minutes=1)


class HistoryRecorder:
    """Records every community's indicators on each tick of `interval`, and at start when
    the last recording is older than one interval. A failed pass is retried within a
    minute. Errors are logged once when recording starts to fail and once when it works
    again."""

    def __init__(self, pool: Pool, interval: timedelta = DEFAULT_INTERVAL,
                 clock: Callable[[], datetime] | None = None) -> None:
        if interval <= timedelta(0):
            raise ValueError(f"history interval must be longer than zero, got {interval}")
        self.pool = pool
        self.interval = interval
        self.clock = clock or (lambda: datetime.now(UTC))
        self.passes = 0        # recording passes attempted, for tests and health
        self.last: Recorded | None = None
        self._stop = asyncio.Event()
        self._failing = False

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        await self._pass(startup=True)
        while not self._stop.is_set():
            now = self.clock()
            delay = next_tick(now, self.interval) - now
            if self._failing:
                delay = min(delay, RETRY_AFTER)
            try:
                await asyncio.wait_for(self._stop.wait(),
                                       timeout=max(delay.total_seconds(), 0.0))
            except TimeoutError:
                await self._pass(startup=self._failing)

    async def _pass(self, *, startup: bool) -> None:
        now = self.clock()
        try:
            async with self.pool.acquire() as conn:
                if startup:
                    last = await latest_recording(conn)
                    if last is not None and last > now - self.interval:
                        self._recovered()
                        return
                done = await record_indicators(conn, now, skip_within=self.interval / 10)
                self.last = done
        except Exception as exc:
            if not self._failing:
                log.warning("indicator history: recording failed (%s: %s); retrying every "
                            "%s", type(exc).__name__, exc, self.interval)
                self._failing = True
        else:
            self._recovered()
            log.debug("indicator history recorded as of %s: %s", iso(now), done.stored)
        finally:
            self.passes += 1

    def _recovered(self) -> None:
        if self._failing:
            log.warning("indicator history: recording works again")
            self._failing = False


async def history_entries(conn: Connection, community: str, ids: Sequence[str],
                          start: datetime, end: datetime, *,
                          full: bool = False) -> list[dict[str, Any]]:
    """Recorded values of indicators `ids` (all when empty) in `[start, end]`, oldest
    first, and per time in INDICATOR_IDS order. `full` adds each whole result."""
    rows = await conn.fetch(
        f"""SELECT indicator, recorded_at, value, numerator, denominator, status,
                   result->>'unit' AS unit{', result' if full else ''}
            FROM indicator_history
            WHERE community = $1 AND recorded_at >= $2 AND recorded_at <= $3
              AND (cardinality($4::text[]) = 0 OR indicator = ANY($4::text[]))
            ORDER BY recorded_at, array_position($5::text[], indicator), indicator""",
        community, start, end, list(ids), list(INDICATOR_IDS))
    out = []
    for r in rows:
        entry = {"id": r["indicator"], "recorded_at": iso(r["recorded_at"]),
                 "value": r["value"], "numerator": r["numerator"],
                 "denominator": r["denominator"], "unit": r["unit"],
                 "status": json.loads(r["status"])}
        if full:
            entry["result"] = json.loads(r["result"])
        out.append(entry)
    return out


async def indicators_as_of(conn: Connection, community: str, as_of: datetime,
                           within: timedelta = DEFAULT_INTERVAL) -> list[dict[str, Any]]:
    """Every measured indicator of `community` as it was at `as_of`, in INDICATOR_IDS order,
    each as the API serves it plus `source`:

    - `recorded`: the recording closest before `as_of` and no older than `within` (its
      `as_of` is the recording's time, also given as `recorded_at`);
    - `computed`: no such recording, so computed now from the stored telemetry with
      `compute_indicators(conn, community, as_of)`.
    """
    if as_of.tzinfo is None:
        raise ValueError(f"as_of {as_of!r} has no timezone; use an aware UTC datetime")
    rows = await conn.fetch(
        """SELECT DISTINCT ON (indicator) indicator, recorded_at, result
           FROM indicator_history
           WHERE community = $1 AND recorded_at <= $2 AND recorded_at >= $3
           ORDER BY indicator, recorded_at DESC""", community, as_of, as_of - within)
    recorded = {r["indicator"]: (r["recorded_at"], json.loads(r["result"])) for r in rows}
    computed: dict[str, dict[str, Any]] = {}
    if any(ident not in recorded for ident in INDICATOR_IDS):
        computed = {r.id: r.to_dict() for r in await compute_indicators(conn, community, as_of)}
    out: list[dict[str, Any]] = []
    for ident in INDICATOR_IDS:
        if ident in recorded:
            at, result = recorded[ident]
            out.append({**result, "source": "recorded", "recorded_at": iso(at)})
        elif ident in computed:
            out.append({**computed[ident], "source": "computed"})
    return out


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
