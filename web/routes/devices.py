"""GET /api/communities/{id}/devices: registered devices with effective state and last seen."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from indicators.params import ParamError
from inventory.model import KINDS
from web.deps import CommunityDep, ConnDep
from web.models import DeviceOut

router = APIRouter(prefix="/api/communities", tags=["devices"])

STATES = ("online", "degraded", "offline", "unknown", "unmonitored")


@router.get("/{community_id}/devices", response_model=list[DeviceOut])
async def community_devices(
    community: CommunityDep,
    conn: ConnDep,
    kind: Annotated[str | None, Query(description=f"one of {', '.join(KINDS)}")] = None,
    state: Annotated[str | None, Query(description=f"one of {', '.join(STATES)}")] = None,
) -> list[dict[str, Any]]:
    if kind is not None and kind not in KINDS:
        raise ParamError(f"kind {kind!r} is not a known device kind; use one of "
                         f"{', '.join(KINDS)}")
    if state is not None and state not in STATES:
        raise ParamError(f"state {state!r} is not a device state; use one of "
                         f"{', '.join(STATES)}")
    rows = await conn.fetch(
        """SELECT device AS id, kind, name, compound, building, public, gateway, protocol,
                  address, capabilities, state, edge_state, since, reason, last_seen
           FROM device_effective_state
           WHERE community = $1 AND ($2::text IS NULL OR kind = $2)
             AND ($3::text IS NULL OR state = $3)
           ORDER BY device""", community["id"], kind, state)
    return [dict(r) for r in rows]
