"""The map of a community (`/communities/{id}/map`): its registered boundary (a polygon, or
a centre and radius), its cameras at their record coordinates and its key positions
(numbered) at the mean position of their cameras, coloured by state — SVG drawn on the
server, no map tiles. The drawing shows the whole boundary, or (`fit=devices`) zooms to
the cameras. A camera without usable coordinates, or far outside the boundary (a wrong
record, which record compliance counts), is listed under the map instead of stretching it.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from inventory.records import Circle, Polygon, boundary_from_json
from web.auth import Actor, require
from web.console import svg
from web.console.common import page_answers
from web.console.templating import render
from web.console.words import DEVICE_STATES, KEY_POSITIONS
from web.deps import CommunityDep, ConnDep
from web.params import check_choice, choice_query

router = APIRouter(tags=["pages"])

#: Ranked from worst: a key position shows the best state among its cameras.
_RANK = {"online": 0, "degraded": 1, "offline": 2, "unknown": 3, "unmonitored": 4}
FITS = ("boundary", "devices")


def usable(lon: Any, lat: Any) -> bool:
    return (isinstance(lon, int | float) and isinstance(lat, int | float)
            and -180 <= lon <= 180 and -90 <= lat <= 90 and (lon, lat) != (0, 0))


def near(ring: list[tuple[float, float]]) -> Any:
    """Whether a point lies within the boundary's box widened by half its size each way
    (everything, without a boundary): farther is a wrong record, not a place to show."""
    if not ring:
        return lambda lon, lat: True
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    dx, dy = (max(lons) - min(lons)) / 2, (max(lats) - min(lats)) / 2
    return lambda lon, lat: (min(lons) - dx <= lon <= max(lons) + dx
                             and min(lats) - dy <= lat <= max(lats) + dy)


@router.get("/communities/{community_id}/map", response_class=Response,
            responses=page_answers())
async def map_page(
        actor: Annotated[Actor, Depends(require("indicators.read", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep,
        fit: Annotated[str | None, choice_query("what the drawing shows whole", FITS)] = None,
) -> HTMLResponse:
    """Boundary, cameras and key positions from their coordinates, coloured by state."""
    shown = check_choice(fit, FITS, f"fit {fit!r} is not a choice") or "boundary"
    cid = community["id"]
    raw = await conn.fetchval("SELECT boundary FROM communities WHERE id = $1", cid)
    boundary = boundary_from_json(json.loads(raw) if isinstance(raw, str) else raw)
    ring: list[tuple[float, float]] = []
    if isinstance(boundary, Circle):
        ring = svg.circle_ring(boundary.center, boundary.radius_m)
    elif isinstance(boundary, Polygon):
        ring = list(boundary.points)
    cameras = await conn.fetch(
        """SELECT d.id, d.name, d.longitude, d.latitude, d.key_position, s.state
           FROM devices d JOIN device_effective_state s
             ON s.community = d.community AND s.device = d.id
           WHERE d.community = $1 AND d.kind = 'camera' ORDER BY d.id""", cid)
    positions = {r["id"]: dict(r) for r in await conn.fetch(
        "SELECT id, type, name FROM key_positions WHERE community = $1 ORDER BY id", cid)}
    inside = near(ring)
    marks: list[svg.MapMark] = []
    unplaced: list[dict[str, Any]] = []
    at: dict[str, list[tuple[float, float, str]]] = {}
    for c in cameras:
        lon, lat = c["longitude"], c["latitude"]
        if not usable(lon, lat) or not inside(lon, lat):
            unplaced.append({**dict(c), "why": "坐标缺失或无效" if not usable(lon, lat)
                             else "坐标远在社区边界之外"})
            continue
        marks.append(svg.MapMark(lon, lat, "camera", c["state"], c["name"] or c["id"],
                                 f"/communities/{cid}/devices/{c['id']}"))
        if c["key_position"]:
            at.setdefault(c["key_position"], []).append((lon, lat, c["state"]))
    placed_positions = []
    for number, (pid, p) in enumerate(positions.items(), 1):
        found = at.get(pid)
        label = p["name"] or pid
        if not found:
            placed_positions.append({**p, "number": number, "placed": False})
            continue
        lon = sum(f[0] for f in found) / len(found)
        lat = sum(f[1] for f in found) / len(found)
        state = min((f[2] for f in found), key=lambda s: _RANK.get(s, 9))
        marks.append(svg.MapMark(lon, lat, "position", state, f"{number}. {label}",
                                 tag=str(number)))
        placed_positions.append({**p, "number": number, "placed": True, "state": state})
    cameras_at = [(m.lon, m.lat) for m in marks]
    zoom = shown == "devices" and len(cameras_at) >= 2
    drawing = svg.site_map(ring, marks, title=f"{community['name']} 地图",
                           fit=cameras_at if zoom else None)
    counts: dict[str, int] = {}
    for m in marks:
        if m.kind == "camera":
            counts[m.state] = counts.get(m.state, 0) + 1
    return render(request, actor, "map.html", community=dict(community), drawing=drawing,
                  has_boundary=bool(ring), unplaced=unplaced, positions=placed_positions,
                  fit=shown, counts=dict(sorted(counts.items(),
                                                key=lambda kv: _RANK.get(kv[0], 9))),
                  state_words=DEVICE_STATES, position_words=KEY_POSITIONS)
