"""When, within a window, a camera answered its gateway but did not let us in: the time the
windowed networked rate must not count as networked.

The live rate judges one moment (`video_facts.access_refused`): a degraded camera whose
state reason says its credentials were refused, or whose last probe during that state
failed the `auth` check. The state intervals of the windowed rate hold the state only, so
the same two signs are laid out over time here:

- a state change to `degraded` whose reason matches `ACCESS_REASON` refuses until the
  device's next state change;
- within a degraded span, a probe whose check is `auth` refuses until the device's next
  probe or the span's end.

Both lie within a degraded span by construction (a probe counts only during the state, as
in the live rule). Their union, outside the gateway's offline time, is the refused time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from indicators.video_facts import ACCESS_CHECKS, ACCESS_REASON

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
Span = tuple[datetime, datetime]

# Each device's rows in [start, end) and its last row before start, with the time of the
# row after each (NULL for the last): the span a row stands for.
# Each device's state changes in [start, end) and its last one before start, with the
# time of the change after each: the degraded spans, with their reasons.
_DEGRADED = """
SELECT device, at, next, reason FROM (
    SELECT d.id AS device, c.at, c.state, c.reason,
           lead(c.at) OVER (PARTITION BY d.id ORDER BY c.at) AS next
    FROM unnest($2::text[]) AS d(id)
    JOIN LATERAL (
        (SELECT since AS at, state, reason FROM device_state_changes
         WHERE community = $1 AND device = d.id AND since < $3
         ORDER BY since DESC LIMIT 1)
        UNION ALL
        SELECT since, state, reason FROM device_state_changes
        WHERE community = $1 AND device = d.id AND since >= $3 AND since < $4) c ON true
) changes WHERE state = 'degraded'
"""
# The probes within each degraded span (from the window's start on, and the last before
# it), with the time of the probe after each; only the refusing ones leave the server.
_AUTH_PROBES = """
SELECT device, at, coalesce(next, b) AS until FROM (
    SELECT t.device, t.b, p.at, p.refused,
           lead(p.at) OVER (PARTITION BY t.device, t.a ORDER BY p.at) AS next
    FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS t(device, a, b)
    JOIN LATERAL (
        (SELECT time AS at, NOT ok AND data->>'check' = ANY($6::text[]) AS refused
         FROM probes WHERE community = $1 AND device = t.device AND time >= t.a
                       AND time < $5
         ORDER BY time DESC LIMIT 1)
        UNION ALL
        SELECT time, NOT ok AND data->>'check' = ANY($6::text[]) FROM probes
        WHERE community = $1 AND device = t.device AND time >= greatest(t.a, $5)
          AND time < t.b) p ON true
) probed WHERE refused
"""


async def refused_spans(conn: Connection, community: str, devices: Sequence[str],
                        start: datetime, end: datetime) -> dict[str, list[Span]]:
    """device -> sorted, disjoint spans within [start, end) in which it was degraded and
    refused access. Probes are read only within degraded spans whose reason does not
    already say so: a camera that is never degraded costs one index lookup."""
    if not devices:
        return {}
    spans: dict[str, list[Span]] = {}
    unexplained: list[tuple[str, datetime, datetime]] = []
    for r in await conn.fetch(_DEGRADED, community, list(devices), start, end):
        span = (r["at"], r["next"] or end)
        if ACCESS_REASON.search(r["reason"]):
            spans.setdefault(r["device"], []).append(span)
        else:
            unexplained.append((r["device"], *span))
    if unexplained:
        for r in await conn.fetch(_AUTH_PROBES, community, [u[0] for u in unexplained],
                                  [u[1] for u in unexplained], [u[2] for u in unexplained],
                                  start, sorted(ACCESS_CHECKS)):
            spans.setdefault(r["device"], []).append((r["at"], r["until"]))
    return {device: clipped for device, found in spans.items()
            if (clipped := merged([(max(a, start), min(b, end)) for a, b in found]))}


def merged(spans: Sequence[Span]) -> list[Span]:
    """The union of `spans` as sorted, disjoint, non-empty spans."""
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[0] < s[1]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def without(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """The parts of the disjoint `spans` outside every span of `holes`."""
    out: list[Span] = []
    for a, b in spans:
        pieces = [(a, b)]
        for ha, hb in holes:
            pieces = [p for pa, pb in pieces
                      for p in ((pa, min(pb, ha)), (max(pa, hb), pb)) if p[0] < p[1]]
        out += pieces
    return out


def clipped_to_gateways(spans: Mapping[str, list[Span]], gateway_of: Mapping[str, str | None],
                        offline: Mapping[str, list[Span]]) -> list[tuple[str, datetime, datetime]]:
    """(device, from, to) of each refused span outside its gateway's offline time."""
    return [(device, a, b) for device, found in sorted(spans.items())
            for a, b in without(found, offline.get(gateway_of.get(device) or "", []))]
