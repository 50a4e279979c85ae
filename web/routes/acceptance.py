"""The acceptance report of a community against a tier's table: JSON at
`GET /api/communities/{id}/acceptance?tier=…&as_of=…`, and as documents at
`GET /communities/{id}/acceptance.html|csv|xlsx|json?tier=…` (the HTML prints to A4)."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from acceptance.export import MEDIA_TYPES, export, render_html
from acceptance.report import AcceptanceReport, build_report
from web.auth import require
from web.console.templating import topbar
from web.deps import CommunityDep, ConnDep
from web.errors import INVALID, LOGIN_REDIRECT, NO_COMMUNITY, error_responses
from web.headers import html_page
from web.params import parse_time, time_query

router = APIRouter(tags=["acceptance"])

Tier = Literal["basic", "growth", "benchmark", "db37"]
TierQuery = Annotated[Tier, Query(
    description="the table: basic (基础型, 22 rows), growth (成长型, 28 rows), benchmark "
                "(标杆型, provisional) or db37 (DB37/T 3890.3-2020 weighted score)")]
AsOfQuery = Annotated[str | None, time_query(
    "the report as it was then (recorded indicator history where present, else recomputed; "
    "declarations entered by then); default now (the indicator snapshot: the report's "
    "as_of is then the snapshot's)")]
ERRORS: Final = error_responses({**NO_COMMUNITY, **INVALID})
#: The document formats' bodies as the OpenAPI document describes them.
_BODIES: Final = {"html": {"type": "string"}, "csv": {"type": "string"},
                  "xlsx": {"type": "string", "format": "binary"}, "json": {"type": "object"}}


async def _report(request: Request, conn: Any, community: Any, tier: str,
                  as_of: str | None) -> AcceptanceReport:
    # County settings were read and checked once, when the app was made.
    return await build_report(conn, community["id"], tier, as_of=parse_time(as_of, "as_of"),
                              county=request.app.state.county_settings)


@router.get("/api/communities/{community_id}/acceptance", responses=ERRORS,
            dependencies=[Depends(require("indicators.read"))])
async def acceptance(request: Request, community: CommunityDep, conn: ConnDep,
                     tier: TierQuery, as_of: AsOfQuery = None) -> dict[str, Any]:
    """Every row of the tier's table with its requirement, completion text, figures (and
    their source: measured, inventory or declared) and verdict; the overall verdict; and
    the rows that could change if the devices in state unknown were online."""
    return (await _report(request, conn, community, tier, as_of)).to_dict()


def _document(fmt: str) -> Any:
    async def document(request: Request, community: CommunityDep, conn: ConnDep,
                       tier: TierQuery, as_of: AsOfQuery = None) -> Response:
        report = await _report(request, conn, community, tier, as_of)
        headers = {}
        if fmt != "html":
            stamp = report.as_of.strftime("%Y%m%d-%H%M")
            headers["Content-Disposition"] = (
                f'attachment; filename="acceptance-{report.community}-{tier}-{stamp}.{fmt}"')
        if fmt == "html":   # inline styles: allowed by the page's nonce
            chrome = topbar(request, {"id": community["id"], "name": community["name"]})
            return html_page(render_html(report, chrome=chrome))
        return Response(export(report, fmt), media_type=MEDIA_TYPES[fmt], headers=headers)

    document.__name__ = f"acceptance_{fmt}"
    document.__doc__ = f"The acceptance report as {fmt.upper()}" + (
        " in the published table layout; prints to A4." if fmt == "html" else ".")
    return document


for _fmt in ("html", "csv", "xlsx", "json"):
    router.add_api_route(
        f"/communities/{{community_id}}/acceptance.{_fmt}", _document(_fmt), methods=["GET"],
        response_class=Response,
        # A document opened in a browser: whoever is not signed in is sent to /login.
        dependencies=[Depends(require("indicators.read", page=True))],
        responses={200: {"description": f"the report as {_fmt.upper()}", "content": {
            MEDIA_TYPES[_fmt].split(";")[0]: {"schema": _BODIES[_fmt]}}},
            **LOGIN_REDIRECT, **ERRORS})
