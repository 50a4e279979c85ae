"""GET /api/communities/{id}/devices: registered devices with effective state and last seen."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from inventory.model import KINDS
from web.auth import require
from web.deps import CommunityDep, ConnDep
from web.errors import INVALID, NO_COMMUNITY, error_responses
from web.models import DeviceOut
from web.params import check_choice, choice_query

router = APIRouter(prefix="/api/communities", tags=["devices"])

STATES = ("online", "degraded", "offline", "unknown", "unmonitored")


@router.get("/{community_id}/devices", response_model=list[DeviceOut],
            dependencies=[Depends(require("indicators.read"))],
            responses=error_responses({**NO_COMMUNITY, **INVALID}))
async def community_devices(
    community: CommunityDep,
    conn: ConnDep,
    kind: Annotated[str | None, choice_query("only devices of this kind", KINDS)] = None,
    state: Annotated[str | None, choice_query("only devices in this effective state",
                                              STATES)] = None,
) -> list[dict[str, Any]]:
    kind = check_choice(kind, KINDS, f"kind {kind!r} is not a known device kind")
    state = check_choice(state, STATES, f"state {state!r} is not a device state")
    rows = await conn.fetch(
        """SELECT device AS id, kind, name, compound, building, public, gateway, protocol,
                  address, capabilities, state, edge_state, since, reason, last_seen
           FROM device_effective_state
           WHERE community = $1 AND ($2::text IS NULL OR kind = $2)
             AND ($3::text IS NULL OR state = $3)
           ORDER BY device""", community["id"], kind, state)
    return [dict(r) for r in rows]
