"""GET /api/communities: the imported communities with their device counts (those of the
user's scope)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from web.auth import Actor, require
from web.deps import ConnDep
from web.errors import error_responses
from web.models import CommunityOut, DeviceCounts

router = APIRouter(prefix="/api", tags=["communities"])


@router.get("/communities", response_model=list[CommunityOut], responses=error_responses({}))
async def list_communities(
        conn: ConnDep, actor: Annotated[Actor, Depends(require("indicators.read"))]
) -> list[CommunityOut]:
    rows = await conn.fetch("SELECT id, name, district_code, households, imported_at "
                            "FROM communities ORDER BY id")
    counts = await conn.fetch("SELECT community, kind, state, count(*) AS n "
                              "FROM device_effective_state GROUP BY 1, 2, 3")
    out = []
    for r in rows:
        if not actor.sees(r["id"]):
            continue
        mine = [c for c in counts if c["community"] == r["id"]]
        by_kind: dict[str, int] = {}
        by_state: dict[str, int] = {}
        for c in mine:
            by_kind[c["kind"]] = by_kind.get(c["kind"], 0) + c["n"]
            by_state[c["state"]] = by_state.get(c["state"], 0) + c["n"]
        out.append(CommunityOut(
            id=r["id"], name=r["name"], district=r["district_code"],
            households=r["households"], imported_at=r["imported_at"],
            devices=DeviceCounts(total=sum(by_kind.values()), by_kind=dict(sorted(
                by_kind.items())), by_state=dict(sorted(by_state.items())))))
    return out
