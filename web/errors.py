"""The one error body of the API and where it is promised.

Every refusal (400, 401, 403, 404, 409, 413, 415, 422, 429) and every 503 answers
`{"detail", "problems"}`: `problems` lists each reason, `detail` joins them into one line.
FastAPI's own validation errors, HTTP exceptions and the query-parameter errors of
`indicators.params` are all turned into it here, and `error_responses` declares it in the
OpenAPI document for the statuses a route gives, so a client reads one shape whatever went
wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

import asyncpg
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.utils import is_body_allowed_for_status_code
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from indicators.params import ParamError
from ingest.schema.dsn import redact

log = logging.getLogger(__name__)

DATABASE_ERRORS: Final = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                          asyncpg.CannotConnectNowError, TimeoutError)


class ErrorOut(BaseModel):
    """Why a request was refused or could not be answered, and how to fix it."""

    detail: str = Field(description="every problem in one line")
    problems: list[str] = Field(description="each problem on its own, naming what was wrong "
                                            "and what to send instead")


def error_body(problems: Sequence[str]) -> dict[str, Any]:
    return ErrorOut(detail="; ".join(problems), problems=list(problems)).model_dump()


def error_response(status: int, problems: Sequence[str],
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(problems), headers=headers)


#: Statuses most routes share; a route passes its own words where they say more.
INVALID: Final = {422: "a parameter or the body is not valid; `problems` says which and why"}
UNREADABLE: Final = {400: "the body cannot be read (not UTF-8, or not the declared type)"}
NO_COMMUNITY: Final = {404: "no community has this id (the message lists the known ones)"}
UNAVAILABLE: Final = "the database is unavailable; try again shortly"
#: What a page answers a browser that is not signed in.
LOGIN_REDIRECT: Final[dict[int | str, dict[str, Any]]] = {303: {
    "description": "not signed in: to the sign-in page, which comes back here",
    "headers": {"Location": {"schema": {"type": "string"},
                             "description": "/login?next=<this page>"}}}}


#: What every route that needs a signed-in user may answer.
SIGNED_IN: Final = {
    401: "not signed in: no bearer token or session, or one that is unknown, expired or "
         "revoked (`WWW-Authenticate: Bearer`)",
    403: "signed in, but the user's role or communities do not allow this (or, for a form "
         "signed in by cookie, its CSRF token is missing)"}


def error_responses(descriptions: Mapping[int, str], *,
                    signed_in: bool = True) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status with its description and the error body,
    401 and 403 unless the route is public (`signed_in=False`), and 503 (every route reads
    the database)."""
    out: dict[int | str, dict[str, Any]] = {
        code: {"model": ErrorOut, "description": text} for code, text in descriptions.items()}
    if signed_in:
        for code, text in SIGNED_IN.items():
            out.setdefault(code, {"model": ErrorOut, "description": text})
    out.setdefault(503, {"model": ErrorOut, "description": UNAVAILABLE})
    return out


_PLACES: Final = {"path": "path parameter", "query": "query parameter", "header": "header",
                  "body": "body field", "cookie": "cookie"}


def _descriptions(request: Request) -> dict[tuple[str, str], str]:
    """(place, name) -> the parameter's documented description, for the route asked."""
    route = request.scope.get("route")
    found: dict[tuple[str, str], str] = {}
    pending: list[Dependant] = [route.dependant] if isinstance(route, APIRoute) else []
    while pending:
        dependant = pending.pop()
        pending.extend(dependant.dependencies)
        for place, fields in (("path", dependant.path_params),
                              ("query", dependant.query_params),
                              ("header", dependant.header_params)):
            for f in fields:
                if f.field_info.description:
                    found[(place, f.alias)] = f.field_info.description
    return found


def describe_validation_error(error: Mapping[str, Any],
                              descriptions: Mapping[tuple[str, str], str]) -> str:
    """One pydantic error as a sentence naming the parameter, what came and what is wanted."""
    loc = [str(part) for part in error.get("loc", ())]
    place = loc[0] if loc else "request"
    name = ".".join(loc[1:])
    kind = error.get("type", "")
    if place == "body" and kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "not JSON")
        return f"the body is not JSON ({reason}); send a JSON object"
    where = f"{_PLACES.get(place, place)} `{name}`" if name else (
        "the body" if place == "body" else _PLACES.get(place, place))
    if kind == "missing":
        return f"{where} is missing"
    message = str(error.get("msg", "is not valid"))
    message = message[:1].lower() + message[1:]
    got = repr(error.get("input"))
    text = f"{where}: {message}, got {got if len(got) <= 80 else got[:77] + '...'}"
    if place == "body" and not name:
        return f"{text}; send a JSON object with Content-Type: application/json"
    hint = descriptions.get((place, name))
    return f"{text} (expected: {hint})" if hint else text


#: What FastAPI says of a body it cannot decode; the cause it chains says more.
_UNREADABLE_BODY: Final = "There was an error parsing the body"


def _http_problem(exc: HTTPException) -> str:
    cause = exc.__cause__
    if exc.status_code != 400 or exc.detail != _UNREADABLE_BODY or cause is None:
        return str(exc.detail)
    if isinstance(cause, UnicodeDecodeError):
        return (f"the body is not UTF-8 (byte {cause.object[cause.start]:#04x} at position "
                f"{cause.start}); send JSON encoded as UTF-8")
    return f"the body cannot be read ({type(cause).__name__}: {cause}); send a JSON object"


def install(app: FastAPI, database_url: str) -> None:
    """Answer every error of `app` with the error body."""

    @app.exception_handler(ParamError)
    async def bad_param(request: Request, exc: ParamError) -> JSONResponse:
        return error_response(422, [str(exc)])

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        known = _descriptions(request)
        problems = [describe_validation_error(e, known) for e in exc.errors()]
        return error_response(422, list(dict.fromkeys(problems)) or ["the request is not valid"])

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if not is_body_allowed_for_status_code(exc.status_code):
            return Response(status_code=exc.status_code, headers=headers)
        return error_response(exc.status_code, [_http_problem(exc)], headers)

    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable for %s: %s", request.url.path, exc)
        return error_response(503, [
            f"the database at {redact(database_url)} is unavailable "
            f"({type(exc).__name__}: {exc}); try again shortly"])

    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, database_down)
