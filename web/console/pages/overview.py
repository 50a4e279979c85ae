"""The county overview page (`/overview`, and `/` leads there): every community of the
user's scope in one table, from the same data as GET /api/overview (`web.overview`: one
query path for the page and the JSON) — each tier's verdict, every measured indicator as a
cell (value, status on the chosen tier, the shortfall), devices by state, alarms not yet
closed by severity, gateways offline and since when, and the age of the latest data.

A community whose gateway is offline is marked so, and its failing figures are shown as
waiting for the gateway rather than as failing: its devices are unknown, not broken.
Sorting is a URL parameter, so a sorted view can be bookmarked and printed.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from indicators.load import INDICATOR_IDS
from indicators.model import headline_tier
from indicators.thresholds import thresholds_for
from web.auth import Actor, require
from web.console.common import page_answers
from web.console.templating import as_time, render
from web.deps import ConnDep
from web.overview import county_overview
from web.params import check_choice, choice_query

router = APIRouter(tags=["pages"])

TIERS: Final = ("basic", "growth")
SORTS: Final[dict[str, str]] = {"name": "名称", "verdict": "验收判定", "offline": "离线设备",
                                "alarms": "未关闭告警", "age": "数据时间"}
_VERDICT_ORDER: Final = {"fail": 0, "incomplete": 1, "not_judged": 2, "pass": 3}


def _front_door_answers() -> dict[int | str, dict[str, Any]]:
    """`/` only redirects; it can still be refused (a disabled user, the database down)."""
    out = {k: v for k, v in page_answers().items() if k not in (200, 404, 422)}
    out[303] = {"description": "to the county overview (or, not signed in, to /login)",
                "headers": {"Location": {"schema": {"type": "string"}}}}
    return out


@router.get("/", response_class=Response, responses=_front_door_answers())
async def home(actor: Annotated[Actor, Depends(require("overview.read", page=True))]
               ) -> Response:
    """The console's front door: the county overview."""
    return RedirectResponse("/overview", status_code=303)


def shortfall(figure: dict[str, Any], tier: str) -> str:
    """What a failing figure lacks on `tier`: items still missing when it counts items, or
    percentage points; empty when it is not failing or the tier has figures of its own
    (the headline figure then is another tier's)."""
    if figure["status"].get(tier) != "fail":
        return ""
    try:
        thresholds = thresholds_for(figure["id"])
    except KeyError:   # a figure shown beside the table's (the windowed networked rate)
        return ""
    needed = getattr(thresholds, tier)
    if needed is None or headline_tier(thresholds) != tier or not figure["denominator"]:
        return ""
    num, den = figure["numerator"], figure["denominator"]
    if isinstance(num, int) and isinstance(den, int):
        missing = math.ceil(needed * den / 100 - 1e-9) - num
        return f"差 {missing} 项" if missing > 0 else ""
    points = needed - 100 * num / den
    return f"差 {math.ceil(points * 10) / 10:g} 个百分点" if points > 0 else ""


def community_row(c: dict[str, Any], tier: str) -> dict[str, Any]:
    by_id = {f["id"]: f for f in c["indicators"] or ()}
    offline = c["gateways_offline"] > 0
    cells = []
    for ident in INDICATOR_IDS:
        f = by_id.get(ident)
        if f is None:
            cells.append({"id": ident, "figure": None})
            continue
        status = f["status"].get(tier, "no_data")
        cells.append({"id": ident, "figure": f, "status": status,
                      "held": offline and status == "fail",
                      "short": shortfall(f, tier)})
    alarms = c["alarms"]
    open_by = (alarms or {}).get("open", {})
    acked = sum((alarms or {}).get("acknowledged", {}).values())
    return {**c, "cells": cells, "offline_gateways": [g for g in c["gateways"]
                                                      if g["online"] is False],
            "open_alarms": open_by, "open_total": sum(open_by.values()), "acked": acked,
            "by_state": (c["devices"] or {}).get("by_state", {})}


def sort_rows(rows: list[dict[str, Any]], key: str, tier: str) -> list[dict[str, Any]]:
    if key == "verdict":
        return sorted(rows, key=lambda r: (_VERDICT_ORDER.get(
            ((r["tiers"] or {}).get(tier) or {}).get("verdict", ""), 9), r["id"]))
    if key == "offline":
        return sorted(rows, key=lambda r: (-r["by_state"].get("offline", 0), r["id"]))
    if key == "alarms":
        return sorted(rows, key=lambda r: (-r["open_total"], -r["acked"], r["id"]))
    if key == "age":
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(rows, key=lambda r: (as_time(r["latest_data"]) or oldest, r["id"]))
    return sorted(rows, key=lambda r: (r["name"], r["id"]))


@router.get("/overview", response_class=Response, responses=page_answers())
async def overview_page(
    actor: Annotated[Actor, Depends(require("overview.read", page=True))],
    request: Request, conn: ConnDep,
    sort: Annotated[str | None, choice_query("sort the communities by", list(SORTS))] = None,
    tier: Annotated[str | None, choice_query("judge the indicator cells on this tier",
                                             TIERS)] = None,
) -> HTMLResponse:
    """Every community of the user's scope: verdicts, indicators, devices, alarms,
    gateways (the same figures as GET /api/overview)."""
    key = check_choice(sort, list(SORTS), f"sort {sort!r} is not a column") or "name"
    shown = check_choice(tier, TIERS, f"tier {tier!r} is not a tier") or "growth"
    body = await county_overview(
        conn, None if actor.county_wide else sorted(actor.communities or ()),
        datetime.now(UTC), alarms=actor.may("alarms.read"))
    rows = sort_rows([community_row(c, shown) for c in body["communities"]], key, shown)
    return render(request, actor, "overview.html", rows=rows, ids=INDICATOR_IDS,
                  sort=key, sorts=SORTS, tier=shown, tiers=TIERS,
                  generated_at=body["generated_at"],
                  filters={"sort": sort or "", "tier": tier or ""})
