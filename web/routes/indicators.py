"""GET /api/communities/{id}/indicators: the measured indicators, live or as of a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from indicators.load import compute_indicators
from indicators.model import DEFAULT_WINDOW
from indicators.params import parse_as_of, parse_window
from web.deps import CommunityDep, ConnDep
from web.models import IndicatorOut

router = APIRouter(prefix="/api/communities", tags=["indicators"])


@router.get("/{community_id}/indicators", response_model=list[IndicatorOut])
async def community_indicators(
    community: CommunityDep,
    conn: ConnDep,
    as_of: Annotated[str | None, Query(
        description="RFC 3339 time with zone, e.g. 2026-11-23T08:00:00Z; default now")] = None,
    window: Annotated[str | None, Query(
        description="ISO 8601 duration (PT24H, P7D) or seconds, for every windowed "
                    "indicator; default each one's own: PT24H, energy_collection_rate "
                    "PT48H, smart_charging_compounds, ebike_elevator_compounds and "
                    "elderly_sos_response_rate P7D")] = None,
) -> list[dict[str, Any]]:
    at = parse_as_of(as_of)
    span = parse_window(window, DEFAULT_WINDOW) if window else None
    results = await compute_indicators(conn, community["id"], at, span)
    return [r.to_dict() for r in results]
