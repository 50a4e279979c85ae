"""GET /api/communities/{id}/indicators: the measured indicators, live or as of a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from indicators.load import compute_indicators
from web.auth import require
from web.deps import CommunityDep, ConnDep
from web.errors import INVALID, NO_COMMUNITY, error_responses
from web.models import IndicatorOut
from web.params import parse_span, parse_time, text_query, time_query

router = APIRouter(prefix="/api/communities", tags=["indicators"])


@router.get("/{community_id}/indicators", response_model=list[IndicatorOut],
            dependencies=[Depends(require("indicators.read"))],
            responses=error_responses({**NO_COMMUNITY, **INVALID}))
async def community_indicators(
    community: CommunityDep,
    conn: ConnDep,
    as_of: Annotated[str | None, time_query("the indicators as they were then; default "
                                            "now")] = None,
    window: Annotated[str | None, text_query(
        "ISO 8601 duration (PT24H, P7D) or seconds, at most 3660 days, for every windowed "
        "indicator; default each one's own: PT24H, energy_collection_rate PT48H, "
        "smart_charging_compounds, ebike_elevator_compounds and elderly_sos_response_rate "
        "P7D")] = None,
) -> list[dict[str, Any]]:
    at = parse_time(as_of, "as_of") or datetime.now(UTC)
    results = await compute_indicators(conn, community["id"], at, parse_span(window))
    return [r.to_dict() for r in results]
