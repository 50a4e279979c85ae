"""GET /api/communities/{id}/residents: the resident register (elderly care, SOS), masked
unless a role allowed to see it whole asks with `unmasked=true` (logged)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from web.auth import Actor, require
from web.deps import ClockDep, CommunityDep, ConnDep
from web.errors import INVALID, NO_COMMUNITY, error_responses
from web.models import ResidentOut
from web.personal import (
    PERSONAL_ERRORS,
    UNMASKED_QUERY,
    PersonalData,
    check_unmask,
    record_unmasked_read,
    residents_json,
    shown_whole,
)

router = APIRouter(prefix="/api/communities", tags=["residents"])


@router.get("/{community_id}/residents", response_model=list[ResidentOut],
            responses=error_responses({**NO_COMMUNITY, **INVALID, **PERSONAL_ERRORS}))
async def community_residents(
    # First: who asks is checked before anything else (even whether the community exists).
    actor: Annotated[Actor, Depends(require("residents.read"))],
    community: CommunityDep,
    conn: ConnDep,
    clock: ClockDep,
    request: Request,
    unmasked: Annotated[bool, UNMASKED_QUERY] = False,
) -> list[dict[str, Any]]:
    """Residents by id, with the SOS button each carries; masked unless `unmasked`."""
    check_unmask(actor, unmasked)
    personal: PersonalData = request.app.state.personal
    shown = await residents_json(conn, personal, community["id"], unmasked=unmasked)
    await record_unmasked_read(conn, actor=actor, community=community["id"],
                               residents=shown_whole(shown), at=clock(),
                               via=f"GET /api/communities/{community['id']}/residents")
    return shown
