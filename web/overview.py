"""The county overview: every community the user may see, at a glance — from each
community's indicator snapshot (tier verdicts, indicator figures and statuses, device
counts by state, as the evaluator left them), with the small live parts read now: its
gateways (online or offline, since when, last envelope) and its alarms not yet closed.

One query per part for all communities, so a page costs the same four round trips for one
community or a hundred; nothing is computed here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from indicators.snapshots import DEFAULT_MAX_AGE
from web.models import TiersStatus

Connection = Any  # asyncpg.Connection (asyncpg ships no type information)


class TierVerdictOut(BaseModel):
    verdict: Literal["pass", "fail", "incomplete", "not_judged"] = Field(
        description="the acceptance table's overall verdict, declared rows included")
    counts: dict[str, int] = Field(description="rows per verdict: pass, fail, no_data, "
                                               "not_judged")


class IndicatorFigureOut(BaseModel):
    id: str
    value: float | None = Field(description="percent, one decimal (truncated)")
    unit: str
    numerator: int | float
    denominator: int | float
    status: TiersStatus


class SnapshotDevicesOut(BaseModel):
    total: int
    by_state: dict[str, int] = Field(description="effective state -> devices")


class GatewayOut(BaseModel):
    id: str
    online: bool | None = Field(description="its last birth (true) or last will (false); "
                                            "null while only envelopes were seen")
    since: datetime | None = Field(description="when it went online or offline")
    last_envelope: datetime | None = Field(description="the newest envelope it sent")


class CommunityOverviewOut(BaseModel):
    id: str
    name: str
    district: str
    as_of: datetime | None = Field(description="the snapshot's time; null when the "
                                               "community has not been evaluated yet")
    stale: bool = Field(description="the snapshot is older than the API serves as current "
                                    "(the evaluator is stopped or far behind)")
    tiers: dict[str, TierVerdictOut] | None = Field(description="basic and growth")
    indicators: list[IndicatorFigureOut] | None
    devices: SnapshotDevicesOut | None
    gateways: list[GatewayOut]
    gateways_online: int
    gateways_offline: int
    latest_data: datetime | None = Field(description="the newest envelope of any of its "
                                                     "gateways")
    alarms: dict[str, dict[str, int]] | None = Field(description=(
        "alarms not closed: state (open, acknowledged) -> severity (alarm, critical) -> "
        "count; null for a user who may not read alarms"))


class OverviewOut(BaseModel):
    generated_at: datetime
    communities: list[CommunityOverviewOut]


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def county_overview(conn: Connection, visible: Sequence[str] | None, now: datetime,
                          *, alarms: bool) -> dict[str, Any]:
    """The overview of the communities in `visible` (None: all) as JSON-ready data;
    `alarms` False leaves the alarm counts out (null)."""
    wanted = None if visible is None else list(visible)
    communities = await conn.fetch(
        """SELECT id, name, district_code FROM communities
           WHERE $1::text[] IS NULL OR id = ANY($1::text[]) ORDER BY id""", wanted)
    ids = [r["id"] for r in communities]
    snaps = {r["community"]: r for r in await conn.fetch(
        "SELECT community, as_of, overview FROM indicator_snapshots WHERE community = ANY($1)",
        ids)}
    gateways: dict[str, list[dict[str, Any]]] = {}
    latest: dict[str, datetime] = {}
    for r in await conn.fetch(
            """SELECT community, gateway, online, since, last_envelope FROM gateways
               WHERE community = ANY($1) ORDER BY community, gateway""", ids):
        gateways.setdefault(r["community"], []).append(
            {"id": r["gateway"], "online": r["online"], "since": _iso(r["since"]),
             "last_envelope": _iso(r["last_envelope"])})
        if r["last_envelope"] is not None:
            latest[r["community"]] = max(r["last_envelope"],
                                         latest.get(r["community"], r["last_envelope"]))
    open_alarms: dict[str, dict[str, dict[str, int]]] = {}
    if alarms:
        for r in await conn.fetch(
                """SELECT community, state, severity, count(*) AS n FROM alarms
                   WHERE state <> 'closed' AND community = ANY($1)
                   GROUP BY community, state, severity""", ids):
            open_alarms.setdefault(r["community"], {}).setdefault(
                r["state"], {})[r["severity"]] = r["n"]
    out = []
    for c in communities:
        snap = snaps.get(c["id"])
        entry: dict[str, Any] = json.loads(snap["overview"]) if snap is not None else {}
        mine = gateways.get(c["id"], [])
        out.append({
            "id": c["id"], "name": c["name"], "district": c["district_code"],
            "as_of": _iso(snap["as_of"]) if snap is not None else None,
            "stale": snap is None or snap["as_of"] <= now - DEFAULT_MAX_AGE,
            "tiers": entry.get("tiers"), "indicators": entry.get("indicators"),
            "devices": entry.get("devices"), "gateways": mine,
            "gateways_online": sum(1 for g in mine if g["online"] is True),
            "gateways_offline": sum(1 for g in mine if g["online"] is False),
            "latest_data": _iso(latest.get(c["id"])),
            "alarms": ({state: dict(sorted(by.items()))
                        for state, by in sorted(open_alarms.get(c["id"], {}).items())}
                       if alarms else None),
        })
    return {"generated_at": _iso(now), "communities": out}


