"""The device-health table of a community (`/communities/{id}/devices`) and its CSV
(`/communities/{id}/devices.csv`): filtered by kind, state, compound, building and
gateway as URL parameters, with each device's state, reason and last seen; the page in
pages of 50, the CSV whole. Both run `web.device_query`, the query of
GET /api/communities/{id}/devices, so the three list the same devices."""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from inventory.model import KINDS
from web.auth import Actor, require
from web.console import words
from web.console.common import page_answers
from web.console.places import place_names
from web.console.reasons import reason_words
from web.console.templating import local, render
from web.deps import CommunityDep, ConnDep, Connection
from web.device_query import STATES, DeviceFilter, device_count, device_rows
from web.params import check_choice, choice_query, text_query

router = APIRouter(tags=["pages"])

PAGE_SIZE: Final = 50
_CSV: Final = {"text/csv": {"schema": {"type": "string"}}}
CSV_HEADER: Final = ("设备编号", "名称", "种类", "状态", "状态代码", "原因", "状态起始",
                     "最后上报", "小区", "楼栋", "网关", "协议")

Kind = Annotated[str | None, choice_query("only devices of this kind", KINDS)]
State = Annotated[str | None, choice_query("only devices in this effective state", STATES)]
Compound = Annotated[str | None, text_query("only devices in this compound (id)")]
Building = Annotated[str | None, text_query("only devices in this building (id)")]
Gateway = Annotated[str | None, text_query("only devices reported by this gateway")]


def device_filter(kind: str | None, state: str | None, compound: str | None,
                  building: str | None, gateway: str | None) -> DeviceFilter:
    return DeviceFilter(
        check_choice(kind, KINDS, f"kind {kind!r} is not a known device kind"),
        check_choice(state, STATES, f"state {state!r} is not a device state"),
        compound or None, building or None, gateway or None)


async def _choices(conn: Connection, community: str) -> dict[str, list[tuple[str, str]]]:
    """The values each filter may take in this community, with their names."""
    kinds = [r["kind"] for r in await conn.fetch(
        "SELECT DISTINCT kind FROM devices WHERE community = $1 ORDER BY kind", community)]
    compounds = [(r["id"], r["name"] or r["id"]) for r in await conn.fetch(
        "SELECT id, name FROM compounds WHERE community = $1 ORDER BY id", community)]
    buildings = [(r["id"], r["attrs_name"] or r["id"]) for r in await conn.fetch(
        """SELECT id, attrs->>'name' AS attrs_name FROM buildings WHERE community = $1
           ORDER BY id""", community)]
    gateways = [r["gateway"] for r in await conn.fetch(
        """SELECT DISTINCT gateway FROM devices WHERE community = $1 AND gateway IS NOT NULL
           ORDER BY gateway""", community)]
    return {"kind": [(k, words.word(words.KINDS, k)) for k in kinds],
            "state": [(s, words.DEVICE_STATES[s]) for s in STATES],
            "compound": compounds, "building": buildings,
            "gateway": [(g, g) for g in gateways]}


@router.get("/communities/{community_id}/devices", response_class=Response,
            responses=page_answers())
async def devices_page(
        actor: Annotated[Actor, Depends(require("indicators.read", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep,
        kind: Kind = None, state: State = None, compound: Compound = None,
        building: Building = None, gateway: Gateway = None,
        page: Annotated[int, Query(ge=1, le=100_000, description="page of 50 devices")] = 1,
) -> HTMLResponse:
    """The community's devices with state, reason and last seen, filtered."""
    f = device_filter(kind, state, compound, building, gateway)
    cid = community["id"]
    total = await device_count(conn, cid, f)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows = await device_rows(conn, cid, f, limit=PAGE_SIZE,
                             offset=(min(page, pages) - 1) * PAGE_SIZE)
    names = await place_names(conn, cid)
    return render(request, actor, "devices.html", community=dict(community), rows=rows,
                  total=total, page=min(page, pages), pages=pages, filters=f.params(),
                  choices=await _choices(conn, cid), names=names)


def devices_csv(rows: list[dict[str, Any]], names: dict[str, str]) -> bytes:
    """UTF-8 with a BOM, so spreadsheet programs read the Chinese; times local."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow([r["id"], r["name"] or "", words.word(words.KINDS, r["kind"]),
                         words.word(words.DEVICE_STATES, r["state"]), r["state"],
                         reason_words(r["reason"]) if r["reason"] else "",
                         local(r["since"]) if r["since"] else "",
                         local(r["last_seen"]) if r["last_seen"] else "",
                         names.get(r["compound"], r["compound"]) or "",
                         names.get(r["building"], r["building"]) or "", r["gateway"] or "",
                         r["protocol"] or ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@router.get("/communities/{community_id}/devices.csv", response_class=Response,
            responses=page_answers(content=_CSV))
async def devices_csv_file(
        actor: Annotated[Actor, Depends(require("indicators.read", page=True))],
        community: CommunityDep, conn: ConnDep, kind: Kind = None, state: State = None,
        compound: Compound = None, building: Building = None, gateway: Gateway = None
) -> Response:
    """The filtered device table as CSV (every matching device)."""
    f = device_filter(kind, state, compound, building, gateway)
    rows = await device_rows(conn, community["id"], f)
    # A header is latin-1: ids of other letters (or typed filters) are left out of the name.
    suffix = re.sub(r"[^A-Za-z0-9_.-]+", "", "-".join(f.params().values()))[:80]
    name = f"devices-{community['id']}{'-' + suffix if suffix else ''}.csv"
    names = await place_names(conn, community["id"])
    return Response(devices_csv(rows, names), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
