"""The indicator snapshot store: each community's latest computed indicators with the data
they reflect (migration 0030), written by the evaluator and read by the API, the report
as of now, the county overview and the hourly history.

A snapshot is served while it is younger than a maximum age and either reflects the
community's current data (its data versions and inventory import match) or an evaluator
is alive to replace it (it beat within `ALIVE_WITHIN`): a snapshot a few seconds behind the
data, with its `as_of`, is the point — nobody waits for a computation. Otherwise the
caller computes on demand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.model import IndicatorResult

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

#: A snapshot older than this is not served (the evaluator refreshes each community well
#: within it; past it, the evaluator is stopped or far behind and the caller computes).
DEFAULT_MAX_AGE: Final = timedelta(minutes=10)
#: An evaluator that has not beaten for this long is taken as stopped.
ALIVE_WITHIN: Final = timedelta(seconds=15)
#: First key of the per-community advisory lock under which one evaluator recomputes
#: (the second is hashtext(community)); any fixed 32-bit number.
SNAPSHOT_LOCK: Final = 0x5C60030


def indicators_json(results: Sequence[IndicatorResult]) -> str:
    """The JSON body of GET …/indicators for `results`, computed or stored alike."""
    return json.dumps([r.to_dict() for r in results], ensure_ascii=False,
                      separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class DataVersions:
    """What a community's data is at, as the writer, the importer and the declared store
    leave it: the snapshot taken at these reflects all of it."""

    version: int
    state_version: int
    inventory_at: datetime
    declared_at: datetime | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    community: str
    as_of: datetime
    versions: DataVersions
    compute_ms: int
    indicators: str              # indicators_json(results)
    #: The community's entry in GET /api/overview, and what the report as of the
    #: snapshot's time reuses (`unknown_causes`).
    overview: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Served:
    """A snapshot found fit to serve: its body, time and the data version it reflects;
    `current` when no data arrived since."""

    as_of: datetime
    data_version: int
    current: bool
    indicators: str
    overview: str                # JSON: the overview entry and what the report reuses


_VERSIONS: Final = """
SELECT c.imported_at, coalesce(v.version, 0) AS version,
       coalesce(v.state_version, 0) AS state_version,
       (SELECT max(entered_at) FROM declarations d WHERE d.community = c.id) AS declared_at
FROM communities c LEFT JOIN community_data_versions v ON v.community = c.id
WHERE c.id = $1
"""


async def data_versions(conn: Connection, community: str) -> DataVersions | None:
    """The community's data versions now (None: not in the inventory). Read them in the
    transaction that computes, so the snapshot states exactly what it saw."""
    r = await conn.fetchrow(_VERSIONS, community)
    if r is None:
        return None
    return DataVersions(r["version"], r["state_version"], r["imported_at"], r["declared_at"])


async def store_snapshot(conn: Connection, snap: Snapshot) -> bool:
    """Keep `snap` unless a snapshot as of a later time is already stored; True if kept."""
    v = snap.versions
    status: str = await conn.execute(
        """INSERT INTO indicator_snapshots AS s
               (community, as_of, data_version, state_version, inventory_at, declared_at,
                computed_at, compute_ms, indicators, overview)
           VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9::jsonb)
           ON CONFLICT (community) DO UPDATE SET
               as_of = EXCLUDED.as_of, data_version = EXCLUDED.data_version,
               state_version = EXCLUDED.state_version, inventory_at = EXCLUDED.inventory_at,
               declared_at = EXCLUDED.declared_at, computed_at = EXCLUDED.computed_at,
               compute_ms = EXCLUDED.compute_ms, indicators = EXCLUDED.indicators,
               overview = EXCLUDED.overview
           WHERE EXCLUDED.as_of >= s.as_of""",
        snap.community, snap.as_of, v.version, v.state_version, v.inventory_at,
        v.declared_at, snap.compute_ms, snap.indicators,
        json.dumps(snap.overview, ensure_ascii=False))
    return status.endswith(" 1")


_SERVED: Final = """
SELECT s.as_of, s.data_version, s.indicators, s.overview,
       (s.data_version = coalesce(v.version, 0)
        AND s.state_version = coalesce(v.state_version, 0)
        AND s.inventory_at = c.imported_at) AS current,
       EXISTS (SELECT 1 FROM snapshot_evaluators WHERE beat_at > $2) AS watched
FROM communities c
JOIN indicator_snapshots s ON s.community = c.id
LEFT JOIN community_data_versions v ON v.community = c.id
WHERE c.id = $1 AND s.as_of > $3
"""


async def served_snapshot(conn: Connection, community: str, now: datetime,
                          max_age: timedelta = DEFAULT_MAX_AGE) -> Served | None:
    """The community's snapshot if it may be served at `now` (see the module's rule)."""
    r = await conn.fetchrow(_SERVED, community, now - ALIVE_WITHIN, now - max_age)
    if r is None or not (r["current"] or r["watched"]):
        return None
    return Served(r["as_of"], r["data_version"], r["current"], r["indicators"],
                  r["overview"])


async def snapshot_overviews(conn: Connection, communities: Sequence[str] | None,
                             now: datetime, max_age: timedelta = DEFAULT_MAX_AGE
                             ) -> dict[str, tuple[datetime, Mapping[str, Any]]]:
    """community -> (as_of, overview entry) of the snapshots younger than `max_age`, for
    `communities` (None: all)."""
    rows = await conn.fetch(
        """SELECT community, as_of, overview FROM indicator_snapshots
           WHERE as_of > $1 AND ($2::text[] IS NULL OR community = ANY($2::text[]))""",
        now - max_age, None if communities is None else list(communities))
    return {r["community"]: (r["as_of"], json.loads(r["overview"])) for r in rows}


async def beat(conn: Connection, name: str, started_at: datetime, now: datetime) -> None:
    """Say that the evaluator `name` is alive (see ALIVE_WITHIN)."""
    await conn.execute(
        """INSERT INTO snapshot_evaluators (name, started_at, beat_at) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET started_at = EXCLUDED.started_at,
                                            beat_at = EXCLUDED.beat_at""",
        name, started_at, now)


async def retire(conn: Connection, name: str) -> None:
    """The evaluator `name` stops: its snapshots are no longer served once behind."""
    await conn.execute("DELETE FROM snapshot_evaluators WHERE name = $1", name)
