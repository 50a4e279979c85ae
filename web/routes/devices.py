"""GET /api/communities/{id}/devices: registered devices with effective state and last seen
(the query is `web.device_query`, shared with the console's device table and CSV)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from inventory.model import KINDS
from web.auth import require
from web.deps import CommunityDep, ConnDep
from web.device_query import STATES, DeviceFilter, device_rows
from web.errors import INVALID, NO_COMMUNITY, error_responses
from web.models import DeviceOut
from web.params import check_choice, choice_query, text_query

router = APIRouter(prefix="/api/communities", tags=["devices"])


@router.get("/{community_id}/devices", response_model=list[DeviceOut],
            dependencies=[Depends(require("indicators.read"))],
            responses=error_responses({**NO_COMMUNITY, **INVALID}))
async def community_devices(
    community: CommunityDep,
    conn: ConnDep,
    kind: Annotated[str | None, choice_query("only devices of this kind", KINDS)] = None,
    state: Annotated[str | None, choice_query("only devices in this effective state",
                                              STATES)] = None,
    compound: Annotated[str | None, text_query("only devices in this compound (id)")] = None,
    building: Annotated[str | None, text_query("only devices in this building (id)")] = None,
    gateway: Annotated[str | None, text_query("only devices reported by this gateway")]
    = None,
) -> list[dict[str, Any]]:
    kind = check_choice(kind, KINDS, f"kind {kind!r} is not a known device kind")
    state = check_choice(state, STATES, f"state {state!r} is not a device state")
    return await device_rows(conn, community["id"], DeviceFilter(
        kind, state, compound or None, building or None, gateway or None))
