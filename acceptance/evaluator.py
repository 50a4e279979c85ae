"""The indicator evaluator: recomputes a community's indicators when its data changed and
stores them as its snapshot (`indicators.snapshots`), with the community's entry of the
county overview — each tier's acceptance verdict, every indicator's figure and status,
device counts by state.

It runs inside `scg api` (a background task) or alone as `scg evaluator run`; several may
run at once (one per API process, say): a community is recomputed under an advisory lock
that the others skip. It lives here, above `indicators`, because a snapshot carries the
tiers' verdicts, which only the acceptance tables know.

When a community is due (`EvaluatorSettings`): at once when it has no snapshot, when its
inventory or declarations changed, or when state changes, events or a gateway's birth or
last will arrived — at most every `min_interval`; after `routine_interval` when only
readings or probes arrived; after `refresh` when nothing arrived, since windows move on
(a light silent for 25 h drops out of the 24 h window with no new data). Due communities
with state news go first, then the oldest snapshots.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg

from acceptance.county import CountySettings
from acceptance.report import build_report
from acceptance.report_facts import unknown_causes
from acceptance.security_facts import security_facts
from acceptance.security_texts import JUDGES, security_verdict
from indicators.load import compute_indicators
from indicators.model import IndicatorResult
from indicators.snapshots import (
    SNAPSHOT_LOCK,
    Snapshot,
    beat,
    data_versions,
    indicators_json,
    retire,
    store_snapshot,
)

log = logging.getLogger(__name__)

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
Pool = Any        # asyncpg.Pool

#: The tiers whose verdict the overview shows.
OVERVIEW_TIERS: Final = ("basic", "growth")


@dataclass(frozen=True, slots=True)
class EvaluatorSettings:
    """How often the evaluator looks for changed data and recomputes (module docstring)."""

    poll: timedelta = timedelta(seconds=1)
    min_interval: timedelta = timedelta(seconds=2)
    routine_interval: timedelta = timedelta(seconds=30)
    refresh: timedelta = timedelta(minutes=5)
    #: A community whose computation failed is tried again after this.
    retry_after: timedelta = timedelta(minutes=1)
    #: Communities recomputed at once (each on its own connection).
    workers: int = 1

    def __post_init__(self) -> None:
        for name in ("poll", "min_interval", "routine_interval", "refresh", "retry_after"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"evaluator {name.replace('_', ' ')} must be longer than "
                                 f"zero, got {getattr(self, name)}")
        if self.workers < 1:
            raise ValueError(f"evaluator workers must be at least 1, got {self.workers}")


_DUE: Final = """
SELECT c.id, c.imported_at, coalesce(v.version, 0) AS version,
       coalesce(v.state_version, 0) AS state_version,
       (SELECT max(entered_at) FROM declarations d WHERE d.community = c.id) AS declared_at,
       s.as_of, s.data_version AS snap_version, s.state_version AS snap_state,
       s.inventory_at AS snap_inventory, s.declared_at AS snap_declared
FROM communities c
LEFT JOIN community_data_versions v ON v.community = c.id
LEFT JOIN indicator_snapshots s ON s.community = c.id
"""


def due_order(rows: Sequence[Mapping[str, Any]], now: datetime,
              settings: EvaluatorSettings) -> list[str]:
    """The communities due for a snapshot at `now`, those with state news first, then by
    the age of their snapshot (pure: rows of the _DUE query)."""
    due: list[tuple[int, datetime, str]] = []
    never = datetime.min.replace(tzinfo=UTC)
    for r in rows:
        as_of = r["as_of"]
        if as_of is None:
            due.append((0, never, r["id"]))
            continue
        age = now - as_of
        news = (r["state_version"] > r["snap_state"] or r["imported_at"] != r["snap_inventory"]
                or r["declared_at"] != r["snap_declared"])
        if news and age >= settings.min_interval:
            due.append((0, as_of, r["id"]))
        elif (r["version"] > r["snap_version"] and age >= settings.routine_interval) or \
                age >= settings.refresh:
            due.append((1, as_of, r["id"]))
    return [c for _, _, c in sorted(due)]


async def device_counts(conn: Connection, community: str) -> dict[str, Any]:
    rows = await conn.fetch(
        """SELECT state, count(*) AS n FROM device_effective_state WHERE community = $1
           GROUP BY state ORDER BY state""", community)
    return {"total": sum(r["n"] for r in rows), "by_state": {r["state"]: r["n"] for r in rows}}


async def overview_entry(conn: Connection, community: str,
                         results: Sequence[IndicatorResult], now: datetime,
                         county: CountySettings | None) -> dict[str, Any]:
    """The community's entry of the county overview as of `now` (the live parts — gateways
    and open alarms — are added when it is served). The information-security facts are
    read once for both tiers, so their rows agree."""
    causes = await unknown_causes(conn, community, now)
    security = await security_facts(conn, community, now)
    tiers: dict[str, Any] = {}
    for tier in OVERVIEW_TIERS:
        report = await build_report(conn, community, tier, now=now, results=results,
                                    county=county, causes=causes, security=security)
        tiers[tier] = {"verdict": report.verdict, "counts": report.counts}
    outcomes = [judge(security) for judge in JUDGES.values()]
    return {
        "unknown_causes": causes.to_dict(),
        "tiers": tiers,
        # 信息安全 (basic row 21 / growth row 26): its verdict and each check's status.
        "information_security": {
            "verdict": security_verdict(outcomes),
            "checks": {o.check: o.status for o in outcomes}},
        "indicators": [{"id": r.id, "value": r.value, "unit": r.unit,
                        "numerator": r.numerator, "denominator": r.denominator,
                        "status": r.status} for r in results],
        "devices": await device_counts(conn, community),
    }


async def evaluate(conn: Connection, community: str, now: datetime,
                   county: CountySettings | None = None) -> Snapshot | None:
    """Compute and store the snapshot of `community` as of `now`, in one repeatable-read
    transaction (the data versions stored are those of the data read). None when another
    evaluator holds the community or it is not in the inventory."""
    async with conn.transaction(isolation="repeatable_read"):
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, hashtext($2))",
                                   SNAPSHOT_LOCK, community):
            return None
        versions = await data_versions(conn, community)
        if versions is None:
            return None
        started = time.perf_counter()
        results = await compute_indicators(conn, community, now)
        overview = await overview_entry(conn, community, results, now, county)
        snap = Snapshot(community, now, versions,
                        round((time.perf_counter() - started) * 1000),
                        indicators_json(results), overview)
        await store_snapshot(conn, snap)
    return snap


class Evaluator:
    """Keeps every community's snapshot up to date until stopped. A community whose
    computation fails is logged and tried again after `retry_after`; an unreachable
    database is logged once and waited out."""

    def __init__(self, pool: Pool, settings: EvaluatorSettings | None = None, *,
                 county: CountySettings | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.pool = pool
        self.settings = settings or EvaluatorSettings()
        self.county = county
        self.clock = clock or (lambda: datetime.now(UTC))
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.evaluated = 0          # snapshots stored, for tests and logs
        self._stop = asyncio.Event()
        self._busy: set[str] = set()
        self._failed: dict[str, datetime] = {}
        self._down = False
        self._started = self.clock()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        workers = [asyncio.create_task(self._work(i), name=f"evaluator-{i}")
                   for i in range(self.settings.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            try:
                async with self.pool.acquire() as conn:
                    await retire(conn, self.name)
            except Exception:  # the database is gone: the beat simply ages out
                log.debug("evaluator %s: could not retire", self.name)

    async def _work(self, index: int) -> None:
        while not self._stop.is_set():
            try:
                worked = await self._step(beating=index == 0)
            except Exception as exc:  # the database is unreachable or failing
                if not self._down:
                    log.warning("indicator evaluator: cannot reach the database (%s: %s); "
                                "retrying", type(exc).__name__, exc)
                    self._down = True
                worked = False
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(),
                                           self.settings.poll.total_seconds())

    async def _step(self, *, beating: bool) -> bool:
        """Recompute the first due community nobody else here is on; False when none."""
        now = self.clock()
        async with self.pool.acquire() as conn:
            if beating:
                await beat(conn, self.name, self._started, now)
            rows = await conn.fetch(_DUE)
            if self._down:
                log.warning("indicator evaluator: the database is reachable again")
                self._down = False
            for community in due_order(rows, now, self.settings):
                if community in self._busy or self._failed.get(community, now) > now:
                    continue
                self._busy.add(community)
                try:
                    return await self._evaluate(conn, community, now)
                finally:
                    self._busy.discard(community)
        return False

    async def _evaluate(self, conn: Connection, community: str, now: datetime) -> bool:
        try:
            snap = await evaluate(conn, community, now, self.county)
        except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
            raise   # the connection, not the community: waited out by _work
        except Exception:
            if community not in self._failed:
                log.exception("indicator evaluator: community %s could not be evaluated; "
                              "trying again every %s", community, self.settings.retry_after)
            self._failed[community] = now + self.settings.retry_after
            return False
        if community in self._failed:
            log.warning("indicator evaluator: community %s evaluates again", community)
            del self._failed[community]
        if snap is not None:
            self.evaluated += 1
            log.debug("snapshot of %s as of %s in %d ms", community, now, snap.compute_ms)
        return snap is not None
