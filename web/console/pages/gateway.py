"""A gateway's page (`/communities/{id}/gateways/{gateway}`): online since / offline
since (from its births and last wills), its recent status changes, what it reports about
itself as readings of its own device id (spool depth and drops, uplink, link cycles),
messages ingest refused from it, and its devices by state.

The software version is the one the gateway named in its latest birth or will
(telemetry.status, optional): a gateway of a release that does not say shows 未上报
rather than a guess.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from web.auth import Actor, require
from web.console.common import page_answers
from web.console.templating import render
from web.console.words import DEAD_LETTERS, GATEWAY_FLAGS, GATEWAY_METRICS, PROTOCOLS
from web.deps import CommunityDep, ConnDep

router = APIRouter(tags=["pages"])

GatewayId = Annotated[str, PathParam(description="the gateway's id", examples=["demo-gw1"])]
DEAD_LETTER_SPAN: Final = timedelta(hours=24)
STATES: Final = ("online", "degraded", "offline", "unknown", "unmonitored")


def metric_label(metric: str) -> str:
    """A gateway reading in words: its own spool and uplink, or a field-bus link's cycle."""
    if metric in GATEWAY_METRICS:
        return GATEWAY_METRICS[metric]
    for bus in ("modbus", "dlt645"):
        prefix = f"{bus}_link_"
        if metric.startswith(prefix):
            link, _, what = metric[len(prefix):].rpartition("_cycle_")
            word = {"s": "轮询周期（秒）", "overruns_total": "周期超时次数"}.get(what, what)
            return f"{PROTOCOLS[bus]} 链路 {link} {word}" if link else metric
    return metric


def shown_value(metric: str, value: float) -> str:
    """A gateway reading as the page writes it: yes / no for its flags, else the number."""
    if metric in GATEWAY_FLAGS:
        yes, no = GATEWAY_FLAGS[metric]
        return yes if value else no
    return f"{value:g}" if not float(value).is_integer() else str(int(value))


@router.get("/communities/{community_id}/gateways/{gateway_id}", response_class=Response,
            responses=page_answers())
async def gateway_page(
        actor: Annotated[Actor, Depends(require("indicators.read", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep, gateway_id: GatewayId
) -> HTMLResponse:
    """One gateway: status and its changes, spool and uplink, refusals, its devices."""
    cid = community["id"]
    status = await conn.fetchrow(
        """SELECT online, since, reported_at, last_envelope, version FROM gateways
           WHERE community = $1 AND gateway = $2""", cid, gateway_id)
    listed = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM community_gateways WHERE community = $1 AND gateway = $2)
               OR EXISTS (SELECT 1 FROM devices WHERE community = $1 AND gateway = $2)""",
        cid, gateway_id)
    if status is None and not listed:
        raise HTTPException(404, f"gateway {gateway_id!r} is not registered in community "
                                 f"{cid!r} and has sent nothing")
    changes = await conn.fetch(
        """SELECT at, online FROM gateway_status_changes WHERE community = $1 AND gateway = $2
           ORDER BY at DESC LIMIT 20""", cid, gateway_id)
    readings = [{**dict(r), "label": metric_label(r["metric"]),
                 "shown": shown_value(r["metric"], r["value"])} for r in await conn.fetch(
        """SELECT metric, value, time FROM reading_latest
           WHERE community = $1 AND device = $2 ORDER BY metric""", cid, gateway_id)]
    by_state: dict[str, dict[str, int]] = {}
    for r in await conn.fetch(
            """SELECT kind, state, count(*) AS n FROM device_effective_state
               WHERE community = $1 AND gateway = $2 GROUP BY kind, state ORDER BY kind""",
            cid, gateway_id):
        by_state.setdefault(r["kind"], {})[r["state"]] = r["n"]
    now = datetime.now(UTC)
    refused = await conn.fetch(
        """SELECT code, count(*) AS n, max(received_at) AS last FROM dead_letters
           WHERE community = $1 AND gateway = $2 AND received_at > $3
           GROUP BY code ORDER BY n DESC""", cid, gateway_id, now - DEAD_LETTER_SPAN)
    values = {r["metric"]: r["value"] for r in readings}
    return render(request, actor, "gateway.html", community=dict(community),
                  gateway=gateway_id, gw=dict(status) if status else None,
                  changes=[dict(c) for c in changes], readings=readings, values=values,
                  kinds=by_state, states=STATES, refused=[dict(r) for r in refused],
                  totals={s: sum(k.get(s, 0) for k in by_state.values()) for s in STATES},
                  dead_letter_words=DEAD_LETTERS)

