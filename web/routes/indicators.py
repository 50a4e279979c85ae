"""GET /api/communities/{id}/indicators: the measured indicators — the community's latest
snapshot (`indicators.snapshots`) when one may be served, else computed; computed on
demand with `fresh=true`, and for a past `as_of` or another `window`.

Both ways the body is the same JSON (every result's `to_dict()`), written once by
`indicators_json`; headers say which it was and what data it reflects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from indicators.load import compute_indicators
from indicators.snapshots import indicators_json, served_snapshot
from web.auth import require
from web.deps import CommunityDep, ConnDep
from web.errors import INVALID, NO_COMMUNITY, error_responses
from web.models import IndicatorOut
from web.params import parse_span, parse_time, text_query, time_query

router = APIRouter(prefix="/api/communities", tags=["indicators"])

#: Response headers: where the figures come from and which data they reflect.
SOURCE_HEADER: Final = "SCG-Source"
AS_OF_HEADER: Final = "SCG-As-Of"
VERSION_HEADER: Final = "SCG-Data-Version"
HEADERS: Final = {
    SOURCE_HEADER: {"description": "`snapshot` (the evaluator's latest) or `computed` "
                                   "(for this request)", "schema": {"type": "string"}},
    AS_OF_HEADER: {"description": "the time the figures are as of (RFC 3339, UTC)",
                   "schema": {"type": "string"}},
    VERSION_HEADER: {"description": "snapshot only: the community's data version it "
                                    "reflects (its count of stored batches)",
                     "schema": {"type": "string"}},
}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


@router.get("/{community_id}/indicators", response_model=list[IndicatorOut],
            dependencies=[Depends(require("indicators.read"))],
            responses={200: {"description": "every measured indicator", "headers": HEADERS},
                       **error_responses({**NO_COMMUNITY, **INVALID})})
async def community_indicators(
    community: CommunityDep,
    conn: ConnDep,
    as_of: Annotated[str | None, time_query("the indicators as they were then (computed); "
                                            "default now")] = None,
    window: Annotated[str | None, text_query(
        "ISO 8601 duration (PT24H, P7D) or seconds, at most 3660 days, for every windowed "
        "indicator (computed); default each one's own: PT24H, energy_collection_rate PT48H, "
        "smart_charging_compounds, ebike_elevator_compounds and elderly_sos_response_rate "
        "P7D, video_networked_time_rate P7D, lighting_energy_saving P30D")] = None,
    fresh: Annotated[bool, Query(description=(
        "compute now instead of serving the latest snapshot (which may be a few seconds "
        "behind the data; its time is each result's as_of)"))] = False,
) -> Response:
    now = datetime.now(UTC)
    at = parse_time(as_of, "as_of")
    span = parse_span(window)
    if at is None and span is None and not fresh:
        served = await served_snapshot(conn, community["id"], now)
        if served is not None:
            return Response(served.indicators, media_type="application/json", headers={
                SOURCE_HEADER: "snapshot", AS_OF_HEADER: _iso(served.as_of),
                VERSION_HEADER: str(served.data_version)})
    at = at or now
    results = await compute_indicators(conn, community["id"], at, span)
    return Response(indicators_json(results), media_type="application/json",
                    headers={SOURCE_HEADER: "computed", AS_OF_HEADER: _iso(at)})
