"""A device's page (`/communities/{id}/devices/{device}`): its register entry and state,
its states over the last 7 days as a timeline, its latest readings, recent events and
picture probes, its record checks (cameras), and — for roles allowed to see pictures —
the thumbnail of its latest picture, so an operator sees the black or frozen picture an
indicator counted. The picture itself is GET /api/communities/{id}/devices/{device}/picture.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from indicators.video_load import load_camera_records
from inventory.records import RECORD_CHECKS
from web.alarms.query import ALARM_SELECT, alarm_json
from web.auth import Actor, require
from web.console import svg
from web.console.common import page_answers
from web.console.places import place_names
from web.console.templating import console_zone, render
from web.deps import CommunityDep, ConnDep, Connection
from web.errors import INVALID, NO_COMMUNITY, error_responses

router = APIRouter(tags=["pages"])

TIMELINE_SPAN: Final = timedelta(days=7)
RECENT: Final = 20
PICTURE_HEADERS: Final = {
    "SCG-Picture-Time": {"description": "when the camera's probe took it (RFC 3339, UTC)",
                         "schema": {"type": "string"}},
    "SCG-Picture-Check": {"description": "the probe's verdict on it: ok, or the failed "
                                         "check (black, blank, frozen, …)",
                          "schema": {"type": "string"}}}

DeviceId = Annotated[str, PathParam(description="the device's id in the inventory",
                                    examples=["cam-001"])]
CAMERA_KINDS: Final = frozenset({"camera", "throw_camera", "ebike_detector"})


async def find_device(conn: Connection, community: str, device: str) -> dict[str, Any]:
    row = await conn.fetchrow(
        """SELECT s.device AS id, s.kind, s.name, s.compound, s.building, s.public,
                  s.gateway, s.protocol, s.address, s.capabilities, s.state, s.edge_state,
                  s.since, s.reason, s.last_seen, d.code, d.civil_code, d.longitude,
                  d.latitude, d.key_position, d.attrs
           FROM device_effective_state s
           JOIN devices d ON d.community = s.community AND d.id = s.device
           WHERE s.community = $1 AND s.device = $2""", community, device)
    if row is None:
        raise HTTPException(404, f"device {device!r} is not in community {community!r}'s "
                                 "inventory; the device table lists its devices")
    out = dict(row)
    attrs = out.pop("attrs")
    out["attrs"] = json.loads(attrs) if isinstance(attrs, str) else (attrs or {})
    return out


async def state_spans(conn: Connection, community: str, device: str, gateway: str | None,
                      start: datetime, end: datetime) -> list[svg.Span]:
    """The device's edge states over [start, end] (from the state changes, the one before
    `start` included), and over them the times its gateway was offline (then it is
    unknown, as the effective state says)."""
    changes = await conn.fetch(
        """(SELECT since, state, reason FROM device_state_changes
            WHERE community = $1 AND device = $2 AND since <= $3
            ORDER BY since DESC LIMIT 1)
           UNION ALL
           (SELECT since, state, reason FROM device_state_changes
            WHERE community = $1 AND device = $2 AND since > $3 AND since <= $4
            ORDER BY since LIMIT 5000)
           ORDER BY since""", community, device, start, end)
    spans = [svg.Span(c["since"], changes[i + 1]["since"] if i + 1 < len(changes) else end,
                      c["state"], c["reason"]) for i, c in enumerate(changes)]
    if gateway:
        flips = await conn.fetch(
            """(SELECT at, online FROM gateway_status_changes
                WHERE community = $1 AND gateway = $2 AND at <= $3 ORDER BY at DESC LIMIT 1)
               UNION ALL
               (SELECT at, online FROM gateway_status_changes
                WHERE community = $1 AND gateway = $2 AND at > $3 AND at <= $4
                ORDER BY at LIMIT 5000)
               ORDER BY at""", community, gateway, start, end)
        for i, f in enumerate(flips):
            if not f["online"]:
                stop = flips[i + 1]["at"] if i + 1 < len(flips) else end
                spans.append(svg.Span(f["at"], stop, "unknown", f"网关 {gateway} 离线"))
    return spans


def _probe(row: Any) -> dict[str, Any]:
    data = row["data"]
    data = json.loads(data) if isinstance(data, str) else (data or {})
    return {"time": row["time"], "ok": row["ok"], "reason": row["reason"],
            "check": data.get("check", ""), "data": data}


@router.get("/communities/{community_id}/devices/{device_id}", response_class=Response,
            responses=page_answers())
async def device_page(
        actor: Annotated[Actor, Depends(require("indicators.read", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep, device_id: DeviceId
) -> HTMLResponse:
    """One device: state and timeline, readings, events, probes, record checks, picture."""
    cid = community["id"]
    device = await find_device(conn, cid, device_id)
    now = datetime.now(UTC)
    start = now - TIMELINE_SPAN
    spans = await state_spans(conn, cid, device_id, device["gateway"], start, now)
    readings = await conn.fetch(
        """SELECT metric, value, time FROM reading_latest
           WHERE community = $1 AND device = $2 ORDER BY metric""", cid, device_id)
    events = await conn.fetch(
        """SELECT time, type, severity, active, data FROM events
           WHERE community = $1 AND device = $2 ORDER BY time DESC LIMIT $3""",
        cid, device_id, RECENT)
    probes = [_probe(r) for r in await conn.fetch(
        """SELECT time, ok, reason, data FROM probes WHERE community = $1 AND device = $2
           ORDER BY time DESC LIMIT $3""", cid, device_id, RECENT)]
    record = None
    if device["kind"] == "camera":
        _, verdicts = await load_camera_records(conn, cid)
        record = next((v for v in verdicts if v.camera == device_id), None)
    picture = None
    if actor.may("pictures.read") and device["kind"] in CAMERA_KINDS:
        picture = await conn.fetchrow(
            """SELECT time, ok, check_name, length(jpeg) AS size FROM probe_pictures
               WHERE community = $1 AND device = $2 ORDER BY time DESC LIMIT 1""",
            cid, device_id)
    alarms = []
    if actor.may("alarms.read"):
        alarms = [alarm_json(r) for r in await conn.fetch(
            f"""{ALARM_SELECT} WHERE a.community = $1 AND a.device = $2
                ORDER BY a.raised_at DESC LIMIT $3""", cid, device_id, RECENT)]
    timeline = svg.state_timeline(spans, start, now, console_zone(), width=1240)
    places = await place_names(conn, cid)
    return render(request, actor, "device.html", community=dict(community), d=device,
                  timeline=timeline, readings=[dict(r) for r in readings],
                  events=[{**dict(e), "data": json.loads(e["data"])
                           if isinstance(e["data"], str) else e["data"]} for e in events],
                  probes=probes, record=record, checks=RECORD_CHECKS,
                  picture=dict(picture) if picture else None,
                  may_pictures=actor.may("pictures.read"), alarms=alarms, places=places)


@router.get("/api/communities/{community_id}/devices/{device_id}/picture",
            tags=["devices"], response_class=Response,
            dependencies=[Depends(require("pictures.read"))],
            responses={200: {"description": "the latest picture (JPEG, at most 20 KB)",
                             "content": {"image/jpeg": {"schema": {"type": "string",
                                                                   "format": "binary"}}},
                             "headers": PICTURE_HEADERS},
                       **error_responses({**NO_COMMUNITY, **INVALID,
                                          404: "no such community or device, or no picture "
                                               "of it was received yet"})})
async def device_picture(community: CommunityDep, conn: ConnDep,
                         device_id: DeviceId) -> Response:
    """The thumbnail of the camera's latest picture, as its gateway's probe sent it (when
    the picture check's verdict changes and about once an hour)."""
    cid = community["id"]
    row = await conn.fetchrow(
        """SELECT time, ok, check_name, jpeg FROM probe_pictures
           WHERE community = $1 AND device = $2 ORDER BY time DESC LIMIT 1""", cid, device_id)
    if row is None:
        known = await conn.fetchval("SELECT 1 FROM devices WHERE community = $1 AND id = $2",
                                    cid, device_id)
        raise HTTPException(404, (f"no picture of {device_id!r} was received yet: its "
                                  "gateway sends one when the picture check's verdict "
                                  "changes and about once an hour") if known else
                            f"device {device_id!r} is not in community {cid!r}'s inventory")
    check = "ok" if row["ok"] else (row["check_name"] or "failed")
    return Response(bytes(row["jpeg"]), media_type="image/jpeg", headers={
        "SCG-Picture-Time": row["time"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "SCG-Picture-Check": check, "Cache-Control": "private, no-store"})
