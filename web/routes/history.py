"""GET /api/communities/{id}/indicators/history: recorded indicator values over a period."""

from __future__ import annotations

import difflib
from datetime import timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query

from acceptance.history import history_entries, iso
from indicators.load import INDICATOR_IDS
from indicators.params import ParamError
from web.auth import require
from web.deps import ClockDep, CommunityDep, ConnDep
from web.errors import INVALID, NO_COMMUNITY, error_responses
from web.params import parse_time, time_query

router = APIRouter(prefix="/api/communities", tags=["indicators"])

DEFAULT_SPAN: Final = timedelta(days=7)


@router.get("/{community_id}/indicators/history",
            dependencies=[Depends(require("indicators.read"))],
            responses=error_responses({**NO_COMMUNITY, **INVALID}))
async def indicator_history(
    community: CommunityDep,
    conn: ConnDep,
    clock: ClockDep,
    id: Annotated[list[str] | None, Query(
        description="indicator id(s), repeated or comma-separated; default all")] = None,
    from_: Annotated[str | None, time_query("the start; default 7 days before `to`",
                                            alias="from")] = None,
    to: Annotated[str | None, time_query("the end; default now")] = None,
    full: Annotated[bool, Query(description="include each whole recorded result")] = False,
) -> dict[str, Any]:
    """Recorded values in `[from, to]`, oldest first (per time in the indicators' order)."""
    ids = _indicator_ids(id or [])
    end = parse_time(to, "to") or clock()
    start = parse_time(from_, "from") or end - DEFAULT_SPAN
    if start > end:
        raise ParamError(f"from {iso(start)} is after to {iso(end)}; swap them")
    entries = await history_entries(conn, community["id"], ids, start, end, full=full)
    return {"community": community["id"], "from": iso(start), "to": iso(end),
            "ids": ids or list(INDICATOR_IDS), "entries": entries}


def _indicator_ids(raw: list[str]) -> list[str]:
    ids = [part.strip() for item in raw for part in item.split(",") if part.strip()]
    for ident in ids:
        if ident not in INDICATOR_IDS:
            guess = difflib.get_close_matches(ident, INDICATOR_IDS, n=1, cutoff=0.6)
            hint = f"did you mean {guess[0]}? " if guess else ""
            raise ParamError(f"id {ident!r} is not a measured indicator; {hint}known: "
                             f"{', '.join(INDICATOR_IDS)}")
    return list(dict.fromkeys(ids))
