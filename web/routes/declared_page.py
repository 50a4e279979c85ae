"""The page to see and enter declared values: GET /communities/{id}/declared.html?tier= lists
the tier's declared rows with their latest values and evidence, each with a plain form
(multipart, no JavaScript) that posts to POST /communities/{id}/declared/{row_id}. A saved
entry redirects back to the page (303); a refused one shows the page again with the reasons
at the row, in Chinese (`web.console.declared_words`), and what was typed (status 422;
files must be chosen again). Entries are made in the name of the signed-in user; each form
carries the session's CSRF token. The page is one of the console's (its template and
frame are web/console's).
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from acceptance.catalogue import FILES, Row
from acceptance.declared import Declaration, history_counts, latest_declarations
from acceptance.declared_check import DeclarationRefused, declarable_row
from web.auth import Actor, require
from web.console.common import refusal_page
from web.console.declared_words import chinese
from web.console.templating import render
from web.declared_entry import ENTRY_BODY, Entry, read_entry, store_entry
from web.deps import ClockDep, CommunityDep, ConnDep, Connection, Record
from web.errors import INVALID, LOGIN_REDIRECT, NO_COMMUNITY, ErrorOut, error_responses
from web.params import choice_query
from web.routes.declared import ENTRY_REFUSALS, RowId, evidence_store, tier_catalogue

# Pages are for people, but they are in the OpenAPI document too, so that what they answer
# is checked like the rest of the API.
router = APIRouter(tags=["pages"])

# The routes' response_class is the plain Response so that the error body, which they
# answer as JSON, is documented as JSON; their pages are documented as text/html here.
_HTML: Final = {"text/html": {"schema": {"type": "string"}}}
_PAGE_ANSWERS: Final[dict[int | str, dict[str, Any]]] = {
    200: {"description": "the page", "content": _HTML}, **LOGIN_REDIRECT,
    **error_responses({**NO_COMMUNITY, **INVALID})}
#: The form's answers: refusals come back as the page (HTML) with the reasons at the row;
#: an unknown community, a form that cannot be parsed and an unavailable database are
#: answered with the API's error body.
_FORM_ANSWERS: Final[dict[int | str, dict[str, Any]]] = {
    303: {"description": "stored: back to the page, at the row (or, not signed in: to "
                         "/login)",
          "headers": {"Location": {"schema": {"type": "string"},
                                   "description": "the page of the row's tier"}}},
    **{code: {"description": text, "content": _HTML} for code, text in ENTRY_REFUSALS.items()},
    **error_responses({400: ENTRY_REFUSALS[400]}),
    # Above the size limit while the body arrives: refused before the page is involved.
    413: {"model": ErrorOut, "description": ENTRY_REFUSALS[413],
          "content": {**_HTML, "application/json": {"schema": {
              "$ref": "#/components/schemas/ErrorOut"}}}},
    404: {"model": ErrorOut, "description": "unknown community (JSON) or row (HTML)",
          "content": _HTML},
}

@router.get("/communities/{community_id}/declared.html", response_class=Response,
            responses=_PAGE_ANSWERS)
async def declared_page(actor: Annotated[Actor, Depends(require("declared.read", page=True))],
                        request: Request, community: CommunityDep, conn: ConnDep,
                        tier: Annotated[str, choice_query("the catalogue", list(FILES))]
                        = "growth",
                        saved: Annotated[str | None, Query(
                            description="the row just stored, to say so on the page")]
                        = None) -> HTMLResponse:
    """The declared rows of a tier with their latest values and a form per row."""
    return await _render(request, actor, conn, community, tier or "growth", saved=saved)


@router.post("/communities/{community_id}/declared/{row_id}", response_class=Response,
             response_model=None, status_code=303, responses=_FORM_ANSWERS,
             openapi_extra={"requestBody": ENTRY_BODY})
async def declared_form_post(
        actor: Annotated[Actor, Depends(require("declared.enter", page=True))],
        community: CommunityDep, conn: ConnDep, clock: ClockDep, row_id: RowId,
        request: Request) -> Response:
    """The page's form: store the entry (as the signed-in user) and go back to the page,
    or show why not."""
    tier = row_id.rpartition("-")[0]
    entry = Entry()
    try:
        entry = await read_entry(request)
        await store_entry(conn, evidence_store(request), community["id"], row_id, entry,
                          clock(), by=actor.name)
    except DeclarationRefused as exc:
        row = _row(row_id)
        said = [chinese(p, row) for p in exc.problems]
        if tier not in FILES or exc.status == 404:
            return refusal_page(exc.status, "；".join(said), request)
        typed = {k: str(v) for k, v in entry.values.items()}
        typed.update(text=entry.text)
        return await _render(request, actor, conn, community, tier,
                             refused=(row_id, said, typed), status=exc.status)
    target = (f"/communities/{quote(community['id'])}/declared.html?tier={quote(tier)}"
              f"&saved={quote(row_id)}#{quote(row_id)}")
    return RedirectResponse(target, status_code=303)


def _row(row_id: str) -> Any:
    """The catalogue row, to name its fields by their labels (None when there is none)."""
    try:
        return declarable_row(row_id)
    except DeclarationRefused:
        return None


async def _render(request: Request, actor: Actor, conn: Connection, community: Record,
                  tier: str, *, saved: str | None = None,
                  refused: tuple[str, list[str], dict[str, str]] | None = None,
                  status: int = 200) -> HTMLResponse:
    catalogue = tier_catalogue(tier)
    latest = await latest_declarations(conn, community["id"], tier)
    counts = await history_counts(conn, community["id"], tier)
    items: list[dict[str, Any]] = []
    for row in catalogue.rows:
        if row.kind != "declared":
            continue
        d = latest.get(row.id)
        errors: list[str] = []
        form = _form_values(d)
        if refused is not None and refused[0] == row.id:
            errors, form = refused[1], refused[2]
        items.append({"row": row, "latest": d, "entries": counts.get(row.id, 0),
                      "shown": _shown(row, d), "rate": _rate(row, d),
                      "entered_at": d.entered_at if d else None, "errors": errors,
                      "form": form})
    # A refusal for a row without a form here (a measured row) is shown at the top.
    declared_ids = {r.id for r in catalogue.rows if r.kind == "declared"}
    shown_at_row = refused is not None and refused[0] in declared_ids
    page_errors = refused[1] if refused is not None and not shown_at_row else []
    return render(request, actor, "declared.html", status=status,
                  community={"id": community["id"], "name": community["name"]},
                  catalogue=catalogue, tiers=list(FILES), rows=items, saved=saved,
                  page_errors=page_errors,
                  measured=[r.id for r in catalogue.rows if r.kind != "declared"])


def _form_values(d: Declaration | None) -> dict[str, str]:
    """The form starts from the latest values, so a correction changes only what is wrong."""
    if d is None:
        return {}
    return {k: ("true" if v is True else "false" if v is False else str(v))
            for k, v in d.values.items()}


def _shown(row: Row, d: Declaration | None) -> dict[str, str]:
    if d is None:
        return {}
    out = {}
    for f in row.fields:
        if f.name not in d.values:
            continue
        v = d.values[f.name]
        text = ("是" if v else "否") if isinstance(v, bool) else (
            f"{v:g}" if isinstance(v, float) else str(v))
        out[f.name] = f"{text} {f.unit}" if f.unit and not isinstance(v, bool) else text
    return out


def _rate(row: Row, d: Declaration | None) -> str | None:
    if d is None or row.ratio is None:
        return None
    part, whole = d.values.get(row.ratio.numerator), d.values.get(row.ratio.denominator)
    if not isinstance(part, int | float) or not isinstance(whole, int | float) or not whole:
        return None
    return f"{100 * part / whole:.1f}%（要求 ≥ {row.ratio.threshold_pct:g}%）"

