"""Latest values as of a time, read from the tables the writer keeps (`device_status`,
`reading_latest`, `condition_latest`) instead of scanning history.

For `as_of` now, every answer comes from those tables. A latest value newer than `as_of`
(a report as of a past time, or a gateway clock running ahead) is looked up in the history
for that device alone, one index probe per device (`LATERAL … LIMIT 1`), so a past
`as_of` gives the same answers the history would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
Record = Any


async def latest_states(conn: Connection, community: str, ids: Sequence[str],
                        as_of: datetime) -> dict[str, Record]:
    """device -> its latest state change at or before as_of (gateway, state, since,
    reason); devices with none are absent."""
    if not ids:
        return {}
    out: dict[str, Record] = {}
    later: list[str] = []
    for r in await conn.fetch(
            """SELECT device, gateway, state, since, reason FROM device_status
               WHERE community = $1 AND device = ANY($2) AND state IS NOT NULL""",
            community, list(ids)):
        if r["since"] <= as_of:
            out[r["device"]] = r
        else:
            later.append(r["device"])
    if later:
        for r in await conn.fetch(
                """SELECT d.id AS device, s.gateway, s.state, s.since, s.reason
                   FROM unnest($2::text[]) AS d(id) JOIN LATERAL (
                       SELECT gateway, state, since, reason FROM device_state_changes
                       WHERE community = $1 AND device = d.id AND since <= $3
                       ORDER BY since DESC LIMIT 1) s ON true""",
                community, later, as_of):
            out[r["device"]] = r
    return out


async def latest_probes(conn: Connection, community: str, ids: Sequence[str],
                        as_of: datetime) -> dict[str, Record]:
    """device -> its latest picture probe at or before as_of (time, ok, reason, data)."""
    if not ids:
        return {}
    out: dict[str, Record] = {}
    later: list[str] = []
    for r in await conn.fetch(
            """SELECT device, probe_time AS time, probe_ok AS ok, probe_reason AS reason,
                      probe_data AS data
               FROM device_status
               WHERE community = $1 AND device = ANY($2) AND probe_time IS NOT NULL""",
            community, list(ids)):
        if r["time"] <= as_of:
            out[r["device"]] = r
        else:
            later.append(r["device"])
    if later:
        for r in await conn.fetch(
                """SELECT d.id AS device, p.time, p.ok, p.reason, p.data
                   FROM unnest($2::text[]) AS d(id) JOIN LATERAL (
                       SELECT time, ok, reason, data FROM probes
                       WHERE community = $1 AND device = d.id AND time <= $3
                       ORDER BY time DESC LIMIT 1) p ON true""",
                community, later, as_of):
            out[r["device"]] = r
    return out


async def latest_valid_readings(conn: Connection, community: str, ids: Sequence[str],
                                metric: str, as_of: datetime) -> dict[str, datetime]:
    """device -> time of its latest reading of `metric` at or before as_of whose value is
    valid (finite, not negative)."""
    if not ids:
        return {}
    out: dict[str, datetime] = {}
    again: list[str] = []
    for r in await conn.fetch(
            """SELECT device, time, value FROM reading_latest
               WHERE community = $1 AND device = ANY($2) AND metric = $3""",
            community, list(ids), metric):
        if r["time"] <= as_of and _valid(r["value"]):
            out[r["device"]] = r["time"]
        else:
            again.append(r["device"])
    if again:
        # NaN sorts above +Infinity in PostgreSQL, so `< 'Infinity'` drops both.
        for r in await conn.fetch(
                """SELECT m.id, r.time FROM unnest($2::text[]) AS m(id)
                   JOIN LATERAL (
                       SELECT time FROM readings
                       WHERE community = $1 AND device = m.id AND metric = $3 AND time <= $4
                         AND value >= 0 AND value < 'Infinity'::float8
                       ORDER BY time DESC LIMIT 1) r ON true""",
                community, again, metric, as_of):
            out[r["id"]] = r["time"]
    return out


def _valid(value: float) -> bool:
    return value >= 0 and value != float("inf")  # NaN fails `>= 0`


async def latest_conditions(conn: Connection, community: str, ids: Sequence[str],
                            types: Sequence[str], as_of: datetime) -> list[Record]:
    """The latest condition event (active set) at or before as_of per device, type and
    zone (`data.zone` as text, null when none): rows of (device, type, zone, time,
    active)."""
    if not ids:
        return []
    rows = await conn.fetch(
        """SELECT device, type, data->>'zone' AS zone, time, active FROM condition_latest
           WHERE community = $1 AND device = ANY($2) AND type = ANY($3)""",
        community, list(ids), list(types))
    later = sorted({r["device"] for r in rows if r["time"] > as_of})
    kept = [r for r in rows if r["device"] not in later]
    if later:
        kept += await conn.fetch(
        """SELECT DISTINCT ON (device, type, data->>'zone') device, type,
                  data->>'zone' AS zone, time, active
               FROM events
               WHERE community = $1 AND device = ANY($2) AND type = ANY($3)
                 AND active IS NOT NULL AND time <= $4
               ORDER BY device, type, data->>'zone', time DESC""",
            community, later, list(types), as_of)
    # One row per (device, type, zone): keys written differently for one zone collapse.
    newest: dict[tuple[str, str, str | None], Record] = {}
    for r in kept:
        key = (r["device"], r["type"], r["zone"])
        if key not in newest or r["time"] > newest[key]["time"]:
            newest[key] = r
    return list(newest.values())
