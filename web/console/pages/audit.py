"""The audit page (`/audit`, for auditors and admins): the operation log — who did what,
when, where, with which note — filtered by who, what, community and time as URL
parameters; and the records' hash chains: each chain's rows and head hash, every row
walked and checked (`ingest.schema.chain_audit.verify`, as `scg audit verify` does),
naming the first row that does not match. The walk costs seconds per hundred thousand
rows, so it is done at every visit only up to AUTO_VERIFY_ROWS rows in all; past that the
page offers it (`verify=true`).

A user scoped to some communities sees their entries only.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from indicators.params import ParamError
from ingest.schema.chain_audit import ChainState, heads, verify
from web.auth import Actor, require
from web.console.common import page_answers
from web.console.templating import render
from web.console.times import field_value, local_time_query, parse_local_time
from web.deps import ConnDep
from web.params import text_query

router = APIRouter(tags=["pages"])

PAGE_SIZE: Final = 100
#: Chains this small (rows in all) are walked at every visit: well under a second.
AUTO_VERIFY_ROWS: Final = 50_000


def chain_json(s: ChainState) -> dict[str, Any]:
    broken = None
    if s.broken is not None:
        b = s.broken
        broken = {"row_id": b.row_id, "content_changed": b.content_changed,
                  "link_broken": b.link_broken}
    return {"chain": s.chain, "rows": s.rows, "head_id": s.head_id, "head": s.head,
            "broken": broken}


@router.get("/audit", response_class=Response, responses=page_answers())
async def audit_page(
        actor: Annotated[Actor, Depends(require("audit.read", page=True))],
        request: Request, conn: ConnDep,
        who: Annotated[str | None, text_query("only entries by this user")] = None,
        action: Annotated[str | None, text_query("only this action, e.g. alarm.acknowledge")]
        = None,
        community: Annotated[str | None, text_query("only entries of this community")] = None,
        from_: Annotated[str | None, local_time_query("entries at or after", alias="from")]
        = None,
        to: Annotated[str | None, local_time_query("entries at or before")] = None,
        page: Annotated[int, Query(ge=1, le=100_000, description="page of 100 entries")] = 1,
        verify_chains: Annotated[bool, Query(alias="verify", description=(
            "walk every chain row by row now (seconds per hundred thousand rows)"))] = False,
) -> HTMLResponse:
    """The operation log, filtered, and the state of the records' hash chains."""
    start, end = parse_local_time(from_, "from"), parse_local_time(to, "to")
    if start and end and start > end:
        raise ParamError("from is after to; swap them")
    if community and not actor.sees(community):
        raise ParamError(f"community {community!r} is outside your scope ({actor.scope})")
    scope = None if actor.county_wide else sorted(actor.communities or ())
    where = """($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2)
               AND ($3::text IS NULL OR community = $3)
               AND ($4::timestamptz IS NULL OR at >= $4)
               AND ($5::timestamptz IS NULL OR at <= $5)
               AND ($6::text[] IS NULL OR community = ANY($6::text[]))"""
    args = (who or None, action or None, community or None, start, end, scope)
    total = int(await conn.fetchval(f"SELECT count(*) FROM operation_log WHERE {where}", *args))
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows = await conn.fetch(
        f"""SELECT id, at, actor, action, community, target, note, details
            FROM operation_log WHERE {where} ORDER BY id DESC LIMIT $7 OFFSET $8""",
        *args, PAGE_SIZE, (min(page, pages) - 1) * PAGE_SIZE)
    entries = [{**dict(r), "details": json.loads(r["details"])
                if isinstance(r["details"], str) else r["details"]} for r in rows]
    actions = [r["action"] for r in await conn.fetch(
        "SELECT DISTINCT action FROM operation_log ORDER BY action")]
    names = {r["id"]: r["name"] for r in await conn.fetch(
        "SELECT id, name FROM communities ORDER BY id") if actor.sees(r["id"])}
    states = await heads(conn)
    walked = verify_chains or sum(s.rows for s in states) <= AUTO_VERIFY_ROWS
    if walked:
        states = await verify(conn)
    chains = [chain_json(s) for s in states]
    filters = {"who": who or "", "action": action or "", "community": community or "",
               "from": field_value(start), "to": field_value(end)}
    return render(request, actor, "audit.html", entries=entries, total=total, page=min(page, pages),
                  pages=pages, filters=filters, actions=actions, communities=names,
                  chains=chains, verified=walked)
