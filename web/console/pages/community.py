"""The community page (`/communities/{id}`) and an indicator's page
(`/communities/{id}/indicators/{indicator}`).

The community page shows its measured indicators as GET …/indicators serves them (the
evaluator's snapshot when one may be served, else computed now), each with a 7-day line
from the recorded history (`indicator_history`, as GET …/indicators/history reads it),
devices by kind and state from the live view, its gateways and open alarms. An
indicator's page names the items behind its numerator and denominator, and those left
out by reason, each linked to its device where it is one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from acceptance.history import history_entries
from acceptance.names import ITEM_KINDS, load_names
from acceptance.phrasing import REASON_WORDS, SKIPPED
from indicators.load import INDICATOR_IDS, compute_indicators
from indicators.snapshots import served_snapshot
from web.auth import Actor, require
from web.console import svg
from web.console.common import page_answers
from web.console.templating import as_time, console_zone, render
from web.deps import CommunityDep, ConnDep, Connection

router = APIRouter(tags=["pages"])

HISTORY_SPAN: Final = timedelta(days=7)
STATES: Final = ("online", "degraded", "offline", "unknown", "unmonitored")


async def current_indicators(conn: Connection, community: str,
                             now: datetime) -> tuple[list[dict[str, Any]], datetime, str]:
    """The indicators as GET …/indicators serves them: the snapshot when one may be
    served, else computed now; with their time and which of the two it was."""
    served = await served_snapshot(conn, community, now)
    if served is not None:
        return json.loads(served.indicators), served.as_of, "snapshot"
    results = await compute_indicators(conn, community, now)
    return [r.to_dict() for r in results], now, "computed"


async def history_points(conn: Connection, community: str, start: datetime, end: datetime,
                         ids: list[str]) -> dict[str, list[tuple[datetime, float | None]]]:
    points: dict[str, list[tuple[datetime, float | None]]] = {i: [] for i in INDICATOR_IDS}
    for e in await history_entries(conn, community, ids, start, end):
        at = as_time(e["recorded_at"])
        assert at is not None
        points.setdefault(e["id"], []).append((at, e["value"]))
    return points


def chart(figure: dict[str, Any], points: list[tuple[datetime, float | None]],
          start: datetime, end: datetime, **size: int) -> Any:
    thresholds = figure.get("thresholds") or {}
    return svg.line_chart(points, start, end, dict(thresholds), console_zone(),
                          title=f"{figure['id']} 近7天", **size)


@router.get("/communities/{community_id}", response_class=Response,
            responses=page_answers())
async def community_page(
        actor: Annotated[Actor, Depends(require("indicators.read", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep) -> HTMLResponse:
    """The community's indicators with their last 7 days, devices by kind and state,
    gateways and open alarms."""
    now = datetime.now(UTC)
    cid = community["id"]
    figures, as_of, source = await current_indicators(conn, cid, now)
    start = now - HISTORY_SPAN
    points = await history_points(conn, cid, start, now, [])
    rows = [{"f": f, "chart": chart(f, points.get(f["id"], []), start, now, width=300,
                                    height=80)} for f in figures]
    counts = await conn.fetch(
        """SELECT kind, state, count(*) AS n FROM device_effective_state
           WHERE community = $1 GROUP BY kind, state ORDER BY kind""", cid)
    kinds: dict[str, dict[str, int]] = {}
    for r in counts:
        kinds.setdefault(r["kind"], {})[r["state"]] = r["n"]
    totals = {s: sum(k.get(s, 0) for k in kinds.values()) for s in STATES}
    gateways = await conn.fetch(
        """SELECT gateway, online, since, last_envelope FROM gateways WHERE community = $1
           ORDER BY gateway""", cid)
    alarms: dict[str, int] = {}
    if actor.may("alarms.read"):
        alarms = {r["severity"]: r["n"] for r in await conn.fetch(
            """SELECT severity, count(*) AS n FROM alarms WHERE community = $1
               AND state = 'open' GROUP BY severity""", cid)}
    return render(request, actor, "community.html", community=dict(community), rows=rows,
                  as_of=as_of, source=source, kinds=kinds, totals=totals, states=STATES,
                  gateways=[dict(g) for g in gateways], alarms=alarms)


IndicatorId = Annotated[str, PathParam(description="a measured indicator's id",
                                       examples=["smart_lighting_rate"])]


def _items(names: Any, kind: str, community: str, ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for ident in ids:
        item = {"id": ident, "name": names.of(kind, ident), "href": None}
        if kind == "device":
            item["href"] = f"/communities/{community}/devices/{ident}"
        out.append(item)
    return out


@router.get("/communities/{community_id}/indicators/{indicator_id}", response_class=Response,
            responses=page_answers())
async def indicator_page(
        actor: Annotated[Actor, Depends(require("indicators.read", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep, indicator_id: IndicatorId
) -> HTMLResponse:
    """One indicator: its figures, the items behind its numerator and denominator, those
    left out by reason, and its last 7 days."""
    if indicator_id not in INDICATOR_IDS:
        raise HTTPException(404, f"{indicator_id!r} is not a measured indicator; known: "
                                 f"{', '.join(INDICATOR_IDS)}")
    now = datetime.now(UTC)
    cid = community["id"]
    figures, as_of, source = await current_indicators(conn, cid, now)
    f = next(x for x in figures if x["id"] == indicator_id)
    names = await load_names(conn, cid)
    kind = ITEM_KINDS.get(indicator_id, "device")
    namer = names.namer(indicator_id, f.get("details"))
    if kind == "press":
        def listed(ids: list[str]) -> list[dict[str, Any]]:
            return [{"id": i, "name": namer(i), "href": None} for i in ids]
    else:
        def listed(ids: list[str]) -> list[dict[str, Any]]:
            return _items(names, kind, cid, ids)
    left_out = [{"reason": reason, "words": REASON_WORDS.get(reason, reason),
                 "members": listed(ids)}
                for reason, ids in f.get("breakdown", {}).items()
                if ids and reason not in SKIPPED]
    start = now - HISTORY_SPAN
    points = await history_points(conn, cid, start, now, [indicator_id])
    return render(request, actor, "indicator.html", community=dict(community), f=f,
                  as_of=as_of, source=source, numerator=listed(f["devices"]["numerator"]),
                  denominator=listed(f["devices"]["denominator"]),
                  left_out=left_out, item_kind=kind,
                  chart=chart(f, points.get(indicator_id, []), start, now, width=640,
                              height=180))
