"""GET /api/overview: the county at a glance — every community of the user's scope with
its tiers' verdicts, indicator figures, device counts, gateways and open alarms, served
from the indicator snapshots (`web.overview`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from web.auth import Actor, require
from web.deps import ConnDep
from web.errors import error_responses
from web.overview import OverviewOut, county_overview

router = APIRouter(prefix="/api", tags=["overview"])


@router.get("/overview", response_model=OverviewOut, responses=error_responses({}))
async def overview(conn: ConnDep,
                   actor: Annotated[Actor, Depends(require("overview.read"))]) -> Response:
    """Each community the user may see (the whole county, or the communities the user is
    scoped to), from its latest snapshot; `as_of` says how old each one is. Alarm counts
    only for users who may read alarms."""
    body = await county_overview(
        conn, None if actor.county_wide else sorted(actor.communities or ()),
        datetime.now(UTC), alarms=actor.may("alarms.read"))
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    media_type="application/json")
