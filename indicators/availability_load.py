"""Load windowed availability from the hourly rollup, the state intervals and the gateway
status history, and run the windowed networked rate.

For a window [as_of - window, as_of): whole hours come from `availability_hourly` (a
rollup table on plain PostgreSQL, a continuous aggregate on TimescaleDB; same columns),
the partial hours at either end from `device_state_intervals`, and the time after each
device's latest state change (not yet an interval) from `device_status`. The time each
device's gateway was offline (`gateway_status_changes`: from a last will to the next
birth) is then taken out of the state seconds and reported apart, and so is the time
before scg first heard of each device or its gateway (`first_heard`). For the cameras, the
degraded time in which they refused our credentials is found apart (access_spans.py): it
answered the gateway but is not networked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from indicators.access_spans import Span, clipped_to_gateways, refused_spans
from indicators.availability import (
    AVAILABILITY_WINDOW,
    DeviceAvailability,
    networked_time_rate,
)
from indicators.model import IndicatorResult

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
STATES = ("online", "degraded", "offline", "unknown")
_HOUR = timedelta(hours=1)


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(t: datetime) -> datetime:
    floor = _floor_hour(t)
    return floor if floor == t else floor + _HOUR


def _overlap(a: Span, b: Span) -> float:
    return max(0.0, (min(a[1], b[1]) - max(a[0], b[0])).total_seconds())


async def load_availability(conn: Connection, community: str,
                            gateway_of: Mapping[str, str | None], as_of: datetime,
                            window: timedelta = AVAILABILITY_WINDOW) -> list[DeviceAvailability]:
    """Each device's seconds per state in the window; `gateway_of` maps the devices to
    their gateways (None: no gateway, never excluded)."""
    ids = sorted(gateway_of)
    if not ids:
        return []
    start, end = as_of - window, as_of
    seconds: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(STATES, 0.0))
    first_hour, last_hour = _ceil_hour(start), _floor_hour(end)
    if first_hour < last_hour:
        for r in await conn.fetch(
                """SELECT device, sum(online_s) AS online, sum(degraded_s) AS degraded,
                          sum(offline_s) AS offline, sum(unknown_s) AS unknown
                   FROM availability_hourly
                   WHERE community = $1 AND device = ANY($2) AND hour >= $3 AND hour < $4
                   GROUP BY device""", community, ids, first_hour, last_hour):
            for state in STATES:
                seconds[r["device"]][state] += float(r[state])
        edges = [(start, first_hour), (last_hour, end)]
    else:
        edges = [(start, end)]
    edges = [(a, b) for a, b in edges if a < b]
    for device, state, secs in await _piece_seconds(
            conn, community, [(d, a, b) for d in ids for a, b in edges]):
        seconds[device][state] += secs
    open_spans = await _open_spans(conn, community, ids, end)
    for device, (state, since) in open_spans.items():
        seconds[device][state] += _overlap((since, end), (start, end))
    offline = await gateway_offline_spans(
        conn, community, sorted({g for g in gateway_of.values() if g}), start, end)
    during: list[tuple[str, datetime, datetime]] = []
    gateway_s: dict[str, float] = {}
    for device in ids:
        spans = offline.get(gateway_of[device] or "", [])
        gateway_s[device] = sum((b - a).total_seconds() for a, b in spans)
        during += [(device, a, b) for a, b in spans]
        if device in open_spans:
            state, since = open_spans[device]
            seconds[device][state] -= sum(_overlap((since, end), s) for s in spans)
    for device, state, secs in await _piece_seconds(conn, community, during):
        seconds[device][state] -= secs
    heard = await first_heard(conn, community, gateway_of)
    total = window.total_seconds()
    return [DeviceAvailability(device, total, seconds[device]["online"],
                               seconds[device]["degraded"], seconds[device]["offline"],
                               seconds[device]["unknown"], gateway_s[device],
                               before_connection_s=round(_overlap((start, heard[device]),
                                                                  (start, end)), 3)
                               if device in heard else 0.0)
            for device in ids]


async def first_heard(conn: Connection, community: str,
                      gateway_of: Mapping[str, str | None]) -> dict[str, datetime]:
    """device -> the first time scg heard of it or of its gateway: the gateway's first birth
    or will, or the device's first state. Devices of which nothing was heard are absent:
    their whole window is observed, so a camera nobody connected counts against the rate.
    (State intervals older than the retention are gone; a window reaching past it starts
    from the oldest kept.)"""
    ids = sorted(gateway_of)
    return {r["device"]: r["first"] for r in await conn.fetch(
        """SELECT t.device,
                  least((SELECT min(at) FROM gateway_status_changes g
                         WHERE g.community = $1 AND g.gateway = t.gateway),
                        (SELECT min(start) FROM device_state_intervals p
                         WHERE p.community = $1 AND p.device = t.device),
                        (SELECT since FROM device_status s
                         WHERE s.community = $1 AND s.device = t.device
                           AND s.state IS NOT NULL)) AS first
           FROM unnest($2::text[], $3::text[]) AS t(device, gateway)""",
        community, ids, [gateway_of[d] for d in ids]) if r["first"] is not None}


async def _piece_seconds(conn: Connection, community: str,
                         spans: Sequence[tuple[str, datetime, datetime]]
                         ) -> list[tuple[str, str, float]]:
    """(device, state, seconds) of the state intervals within each (device, from, to)."""
    if not spans:
        return []
    rows = await conn.fetch(
        """SELECT t.device, p.state,
                  sum(extract(epoch FROM least(p.stop, t.b) - greatest(p.start, t.a)))::float8
                      AS seconds
           FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS t(device, a, b)
           JOIN device_state_intervals p
             ON p.community = $1 AND p.device = t.device AND p.start < t.b AND p.stop > t.a
            AND p.start >= t.a - interval '1 hour'
           GROUP BY t.device, p.state""",
        community, [s[0] for s in spans], [s[1] for s in spans], [s[2] for s in spans])
    return [(r["device"], r["state"], float(r["seconds"])) for r in rows]


async def _open_spans(conn: Connection, community: str, ids: Sequence[str],
                      end: datetime) -> dict[str, tuple[str, datetime]]:
    """device -> (state, since) of its latest state when that began before `end`: the
    span not yet cut into intervals runs from there to now."""
    return {r["device"]: (r["state"], r["since"]) for r in await conn.fetch(
        """SELECT device, state, since FROM device_status
           WHERE community = $1 AND device = ANY($2) AND state IS NOT NULL AND since < $3""",
        community, list(ids), end)}


async def gateway_offline_spans(conn: Connection, community: str, gateways: Sequence[str],
                                start: datetime, end: datetime) -> dict[str, list[Span]]:
    """gateway -> the spans within [start, end) between a last will and the next birth."""
    if not gateways:
        return {}
    rows = await conn.fetch(
        """SELECT g.id AS gateway, c.at, c.online
           FROM unnest($2::text[]) AS g(id)
           JOIN LATERAL (
               (SELECT at, online FROM gateway_status_changes
                WHERE community = $1 AND gateway = g.id AND at < $3
                ORDER BY at DESC LIMIT 1)
               UNION ALL
               SELECT at, online FROM gateway_status_changes
               WHERE community = $1 AND gateway = g.id AND at >= $3 AND at < $4) c ON true
           ORDER BY g.id, c.at""", community, list(gateways), start, end)
    out: dict[str, list[Span]] = {}
    went: dict[str, datetime | None] = {}
    for r in rows:
        g, at = r["gateway"], max(r["at"], start)
        if not r["online"] and went.get(g) is None:
            went[g] = at
        elif r["online"] and went.get(g) is not None:
            out.setdefault(g, []).append((went[g], at))  # type: ignore[arg-type]
            went[g] = None
    for g, since in went.items():
        if since is not None:
            out.setdefault(g, []).append((since, end))
    return {g: [s for s in spans if s[0] < s[1]] for g, spans in out.items()}


async def video_networked_time_rate(conn: Connection, community: str, as_of: datetime,
                                    window: timedelta | None = None) -> IndicatorResult:
    """The windowed networked rate of the key-position cameras of `community`."""
    span = window or AVAILABILITY_WINDOW
    gateway_of = {r["id"]: r["gateway"] for r in await conn.fetch(
        """SELECT d.id, coalesce(s.gateway, d.gateway) AS gateway
           FROM devices d
           LEFT JOIN device_status s ON s.community = d.community AND s.device = d.id
           WHERE d.community = $1 AND d.kind = 'camera' AND d.key_position IS NOT NULL""",
        community)}
    devices = await load_availability(conn, community, gateway_of, as_of, span)
    refused = await refused_seconds(conn, community, gateway_of, as_of - span, as_of)
    return networked_time_rate(
        [replace(d, refused_s=min(d.degraded_s, refused.get(d.device, 0.0))) for d in devices],
        as_of, span)


async def refused_seconds(conn: Connection, community: str,
                          gateway_of: Mapping[str, str | None], start: datetime,
                          end: datetime) -> dict[str, float]:
    """device -> its `degraded` seconds in [start, end), outside its gateway's offline
    time, during which it refused our credentials (indicators/access_spans.py)."""
    spans = await refused_spans(conn, community, sorted(gateway_of), start, end)
    if not spans:
        return {}
    offline = await gateway_offline_spans(
        conn, community, sorted({g for d in spans if (g := gateway_of.get(d))}), start, end)
    out: dict[str, float] = defaultdict(float)
    for device, a, b in clipped_to_gateways(spans, gateway_of, offline):
        out[device] += (b - a).total_seconds()
    return dict(out)
