"""Declared values of the acceptance tables over HTTP: the latest entry of every declared row
of a tier, a row's history, entering a value with evidence files, downloading evidence.

POST /api/communities/{id}/declared/{row_id} takes multipart/form-data: one form field per
value of the row (names as in the catalogue, e.g. fibre_households=3790) and/or a JSON
object in `values`; `text` (free text); files `evidence` (repeat the field for several). A
JSON body {"values", "text"} works for rows needing no evidence. The entry is recorded in
the name of the signed-in user, at the server's clock. Refusals: 404 unknown row or
community, 413 for a file above the size limit, 415 for a body that is neither a form nor
JSON, 400 for a form that cannot be parsed, 422 otherwise; each with `detail` and
`problems` (every reason).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response

from acceptance.catalogue import FILES, Catalogue, Row, load_catalogue
from acceptance.declared import (
    declaration_history,
    evidence_file,
    history_counts,
    iso,
    latest_declarations,
)
from acceptance.declared_check import DeclarationRefused, declarable_row
from acceptance.evidence import EvidenceMissing, EvidenceStore, is_sha256
from indicators.params import ParamError
from web.auth import Actor, require
from web.auth.deps import out_of_scope
from web.declared_entry import ENTRY_BODY, read_entry, store_entry
from web.deps import ClockDep, CommunityDep, ConnDep
from web.errors import INVALID, NO_COMMUNITY, error_response, error_responses
from web.models import DeclarationOut
from web.params import choice_query, parse_time, time_query

router = APIRouter(prefix="/api", tags=["declared"])

#: Types a browser may show inline; anything else (HTML, scripts, …) is served as a download
#: so an uploaded file cannot run in the API's origin.
INLINE_TYPES: Final = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif",
                                 "image/webp", "text/plain"})

TierQuery = Annotated[str, choice_query("the catalogue", list(FILES))]
AsOfQuery = Annotated[str | None, time_query("only entries made at or before this time; "
                                             "default all")]
RowId = Annotated[str, Path(description="the catalogue row, <tier>-<number>, e.g. growth-01",
                            examples=["growth-01"])]
Sha256 = Annotated[str, Path(description="the file's SHA-256 (64 lower-case hex digits)",
                             json_schema_extra={"pattern": "^[0-9a-f]{64}$"})]
#: What refuses an entry, for the API and the page alike.
ENTRY_REFUSALS: Final = {
    400: "the form cannot be parsed (a malformed multipart body, too many files or fields)",
    404: "unknown community or row",
    413: "an evidence file above the size limit",
    415: "the body is neither a form nor JSON",
    422: "the entry is refused; `problems` lists why",
}
_ROW_ERRORS: Final = error_responses({404: "unknown community or row", **INVALID})


def refusal(exc: DeclarationRefused) -> JSONResponse:
    return error_response(exc.status, exc.problems)


def tier_catalogue(tier: str) -> Catalogue:
    if tier not in FILES:
        raise ParamError(f"tier {tier!r} is not a catalogue; use one of {', '.join(FILES)}")
    return load_catalogue(tier)


def evidence_store(request: Request) -> EvidenceStore:
    store: EvidenceStore = request.app.state.evidence_store
    return store


def row_dict(row: Row) -> dict[str, Any]:
    """A declared row with what may be entered for it."""
    return {
        "row_id": row.id, "number": row.number, "group": row.group, "name": row.name,
        "requirement": row.requirement, "evidence_required": row.evidence_required,
        "fields": [{"name": f.name, "label": f.label, "type": f.type, "unit": f.unit,
                    "min": f.min, "max": f.max, "required": f.required}
                   for f in row.fields],
        "ratio": None if row.ratio is None else {
            "numerator": row.ratio.numerator, "denominator": row.ratio.denominator,
            "threshold_pct": row.ratio.threshold_pct},
    }


@router.get("/communities/{community_id}/declared",
            dependencies=[Depends(require("declared.read"))],
            responses=error_responses({**NO_COMMUNITY, **INVALID}))
async def declared_rows(community: CommunityDep, conn: ConnDep, tier: TierQuery = "growth",
                        as_of: AsOfQuery = None) -> dict[str, Any]:
    """Every declared row of the tier, in table order, with its latest entry (null when none)
    and how many entries it has."""
    tier = tier or "growth"
    catalogue = tier_catalogue(tier)
    at = parse_time(as_of, "as_of")
    latest = await latest_declarations(conn, community["id"], tier, as_of=at)
    counts = await history_counts(conn, community["id"], tier, as_of=at)
    rows = [{**row_dict(r),
             "latest": latest[r.id].to_dict() if r.id in latest else None,
             "entries": counts.get(r.id, 0)}
            for r in catalogue.rows if r.kind == "declared"]
    return {"community": community["id"], "tier": tier,
            "as_of": iso(at) if at else None, "rows": rows}


@router.get("/communities/{community_id}/declared/{row_id}/history", response_model=None,
            dependencies=[Depends(require("declared.read"))], responses=_ROW_ERRORS)
async def declared_row_history(community: CommunityDep, conn: ConnDep, row_id: RowId,
                               as_of: AsOfQuery = None) -> dict[str, Any] | JSONResponse:
    """Every entry of the row, newest first; the first is the row's value."""
    try:
        row = declarable_row(row_id)
    except DeclarationRefused as exc:
        return refusal(exc)
    at = parse_time(as_of, "as_of")
    entries = await declaration_history(conn, community["id"], row_id, as_of=at)
    return {"community": community["id"], **row_dict(row), "count": len(entries),
            "entries": [d.to_dict() for d in entries]}


@router.post("/communities/{community_id}/declared/{row_id}", status_code=201,
             response_model=None, openapi_extra={"requestBody": ENTRY_BODY},
             responses={201: {"model": DeclarationOut, "description": "the stored entry"},
                        **error_responses(ENTRY_REFUSALS)})
async def enter_declared_value(
        actor: Annotated[Actor, Depends(require("declared.enter"))], community: CommunityDep,
        conn: ConnDep, clock: ClockDep, row_id: RowId, request: Request,
) -> dict[str, Any] | JSONResponse:
    """Enter a new value for a declared row (see the module doc for the form fields), in
    the name of the signed-in user."""
    try:
        declarable_row(row_id)
        entry = await read_entry(request)
        declaration = await store_entry(conn, evidence_store(request), community["id"],
                                        row_id, entry, clock(), by=actor.name)
    except DeclarationRefused as exc:
        return refusal(exc)
    counts = await history_counts(conn, community["id"], declaration.tier)
    return {**declaration.to_dict(), "entries": counts.get(row_id, 0)}


@router.get("/evidence/{sha256}", response_class=Response, responses={
    200: {"description": "the file's bytes, as uploaded: inline for the types listed, else "
                         "as an application/octet-stream download",
          "content": {t: {"schema": {"type": "string", "format": "binary"}}
                      for t in ("application/octet-stream", *sorted(INLINE_TYPES))}},
    **error_responses({
        403: "the user's role may not read evidence, or no entry of the user's communities "
             "attaches the file",
        404: "no evidence file has this SHA-256",
        422: "not a SHA-256",
        500: "the database lists the file but the evidence directory lacks it: restore the "
             "directory from its backup"})})
async def download_evidence(
        sha256: Sha256, conn: ConnDep, request: Request,
        actor: Annotated[Actor, Depends(require("declared.read"))]) -> Response:
    """An evidence file by its SHA-256, byte for byte as uploaded (for a user scoped to
    communities: a file attached to an entry of one of them)."""
    if not is_sha256(sha256):
        raise ParamError(f"{sha256!r} is not a SHA-256 (64 lower-case hex digits)")
    info = await evidence_file(conn, sha256)
    if info is None:
        return error_response(404, [
            f"no evidence file has SHA-256 {sha256}; the evidence of a row is listed by GET "
            "/api/communities/{id}/declared"])
    if actor.communities is not None:
        attached = await conn.fetch(
            """SELECT DISTINCT d.community FROM declaration_evidence e
               JOIN declarations d ON d.id = e.declaration WHERE e.sha256 = $1""", sha256)
        if not any(actor.sees(r["community"]) for r in attached):
            return error_response(403, [out_of_scope(actor, "the communities whose entries "
                                                            "attach this file")])
    store = evidence_store(request)
    try:
        data = await asyncio.to_thread(store.read, sha256)
    except EvidenceMissing as exc:
        return error_response(500, [str(exc)])
    inline = info.content_type in INLINE_TYPES
    return Response(content=data,
                    media_type=info.content_type if inline else "application/octet-stream",
                    headers={
                        "Content-Disposition": f"{'inline' if inline else 'attachment'}; "
                                               f"filename*=UTF-8''{quote(info.name)}",
                        "ETag": f'"{sha256}"',
                        # Evidence may name residents: not kept in any cache.
                        "Cache-Control": "no-store",
                        "X-Content-Type-Options": "nosniff",
                        "Content-Security-Policy": "sandbox; default-src 'none'; "
                                                   "frame-ancestors 'none'"})
