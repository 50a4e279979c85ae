"""What the console's page routes share: their documented answers (pages are in the OpenAPI
document under the `pages` tag, so that Schemathesis checks them like the rest), and the
refusal page a browser gets instead of the API's JSON error body.

A page asked for by a browser (Accept: text/html) that is refused — another community,
a role that may not, an unknown id — answers the same status with a short Chinese page
saying why, in the console's frame; a program asking without text/html still gets the
JSON error body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from indicators.params import ParamError
from web.console.refusals import refusal_words
from web.console.templating import render_text, viewer
from web.errors import INVALID, LOGIN_REDIRECT, ErrorOut, error_responses
from web.headers import html_page

HTML: Final = {"text/html": {"schema": {"type": "string"}}}
_JSON_ERROR: Final = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
#: Refusals a page may answer, each as the JSON error body or, to a browser, a page.
_REFUSALS: Final = {
    401: "not signed in with a valid bearer token",
    403: "the user's role or communities do not allow this page, or a form's CSRF token "
         "is missing",
    404: "no such community, device, gateway or indicator",
    422: "a filter of the page is not valid",
}


def page_answers(extra: Mapping[int, str] | None = None, *,
                 content: Mapping[str, Any] | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a console page: 200 (HTML, or `content`), 303 to /login, and its
    refusals as JSON or HTML."""
    out: dict[int | str, dict[str, Any]] = {
        200: {"description": "the page", "content": dict(content or HTML)}, **LOGIN_REDIRECT}
    out.update(error_responses({**INVALID, **(extra or {})}))
    for code, text in {**_REFUSALS, **(extra or {})}.items():
        out[code] = {"model": ErrorOut, "description": text,
                     "content": {**_JSON_ERROR, **HTML}}
    return out


def wants_html(request: Request) -> bool:
    route = request.scope.get("route")
    tags = getattr(route, "tags", None) or ()
    return "pages" in tags and "text/html" in request.headers.get("accept", "")


_TITLES: Final = {401: "需要登录", 403: "无权访问", 404: "未找到", 409: "无法执行", 413: "上传过大",
                  422: "参数有误"}


def refusal_page(status: int, detail: str, request: Request | None = None) -> Response:
    """A small page saying why, in Chinese where the refusal's shape is known (the API's
    words beneath), with a way back; in the console's frame, with who is signed in."""
    actor = getattr(request.state, "actor", None) if request is not None else None
    said = refusal_words(detail)
    html = render_text("refused.html", status=status, title=_TITLES.get(status, "出错了"),
                       said=said, original=detail, community=None,
                       path=request.url.path if request is not None else "",
                       viewer=viewer(actor, request) if actor and request else None)
    return html_page(html, status)


def install(app: FastAPI) -> None:
    """Answer refusals of pages to browsers with the refusal page; everything else as the
    API's error handler (`web.errors`) does."""
    api_handler = app.exception_handlers.get(HTTPException, http_exception_handler)

    async def page_or_api(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if wants_html(request) and exc.status_code >= 400:
            return refusal_page(exc.status_code, str(exc.detail), request)
        answer: Response = await api_handler(request, exc)  # type: ignore[misc]
        return answer

    app.add_exception_handler(HTTPException, page_or_api)
    param_handler = app.exception_handlers[ParamError]

    async def bad_filter(request: Request, exc: Exception) -> Response:
        if wants_html(request):
            return refusal_page(422, str(exc), request)
        answer: Response = await param_handler(request, exc)  # type: ignore[misc]
        return answer

    app.add_exception_handler(ParamError, bad_filter)
