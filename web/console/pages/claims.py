"""The claims check of a community's published acceptance table, as an API endpoint and a
console page: upload the published table (a text file, or pasted text) and see the claims
that do not add up and the measured rows the devices contradict
(`acceptance.claims.check_claims_measured`, as `scg claims check --database-url` runs it).

- POST /api/communities/{id}/claims: multipart `file` or form field `text`; JSON answer.
- GET /communities/{id}/claims: the upload form; POST shows the flags on the same page.

The comparison is with this community only (a table naming another community is compared
with this one only when it is the only table), so nobody learns another community's
figures through it. Uploads are capped at MAX_TEXT_BYTES (a published table is a few KB).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from acceptance.claims import FLAG_KINDS, KIND_WORDS, ClaimsError, check_claims_measured
from web.auth import Actor, require
from web.console.common import page_answers
from web.console.templating import render
from web.deps import CommunityDep, ConnDep, Connection, Record
from web.errors import INVALID, NO_COMMUNITY, UNREADABLE, error_responses
from web.forms import read_form
from web.params import parse_time, time_query

router = APIRouter()

#: The most text one check takes: far above any published table, far below the body limit.
MAX_TEXT_BYTES: Final = 512 * 1024
_FIELDS: Final = {
    "file": {"type": "string", "format": "binary",
             "description": "the published table as a UTF-8 text file"},
    "text": {"type": "string", "description": "the published table as text (pasted)"},
    "csrf_token": {"type": "string", "description": "the page's CSRF token (session only)"},
}
UPLOAD_BODY: Final = {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": _FIELDS}},
    "application/x-www-form-urlencoded": {"schema": {
        "type": "object", "properties": {k: v for k, v in _FIELDS.items() if k != "file"}}}}}
AsOf = Annotated[str | None, time_query("compare with the measurements as they were then; "
                                        "default now")]


class Unusable(Exception):
    """The upload cannot be checked; `status` and the reason in English (API) and Chinese
    (page)."""

    def __init__(self, status: int, english: str, chinese: str) -> None:
        super().__init__(english)
        self.status, self.english, self.chinese = status, english, chinese


async def uploaded_text(request: Request) -> tuple[str, str]:
    """(text, source name) of the upload: the file when one was chosen, else `text`."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise Unusable(415, f"send the table as multipart/form-data (field `file`) or a form "
                            f"field `text`, not {kind or 'an empty body'}",
                       "请上传文本文件或粘贴公示表文字。")
    form = await read_form(request)
    upload = form.get("file")
    if isinstance(upload, UploadFile) and (upload.filename or (upload.size or 0) > 0):
        data = await upload.read(MAX_TEXT_BYTES + 1)
        source = upload.filename or "上传的文件"
    else:
        typed = form.get("text")
        data = (typed if isinstance(typed, str) else "").encode("utf-8")
        source = "粘贴的文本"
    if len(data) > MAX_TEXT_BYTES:
        raise Unusable(413, f"the table is larger than {MAX_TEXT_BYTES} bytes; a published "
                            "table is a few KB: send only the table",
                       f"上传内容超过 {MAX_TEXT_BYTES // 1024} KB：请只上传公示表本身。")
    if not data.strip():
        raise Unusable(422, "nothing to check: choose a file (field `file`) or paste the "
                            "table (field `text`)", "请选择文件或粘贴公示表文字。")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unusable(422, f"the upload is not UTF-8 text (byte {exc.start}); save the "
                            "publication as UTF-8 and upload it again",
                       f"文件不是 UTF-8 文本（第 {exc.start} 字节）：请另存为 UTF-8 编码后再上传。"
                       ) from None
    return text, source


def _claims_error(exc: ClaimsError, community: Record) -> Unusable:
    message = str(exc)
    if message.startswith("no acceptance"):
        chinese = ("没有找到验收表：表格从表头行“一级指标 / 序号 / 二级指标 / 指标释义 / "
                   "标准要求 / 本社区完成情况”开始，其后是序号为数字的各行。")
    elif message.startswith("no table"):
        chinese = f"上传的表中没有写明本社区（{community['name']}）的表。"
    else:
        chinese = message
    return Unusable(422, message, chinese)


async def run_check(request: Request, conn: Connection, community: Record,
                    as_of: str | None) -> dict[str, Any]:
    at = parse_time(as_of, "as_of")
    text, source = await uploaded_text(request)
    try:
        report = await check_claims_measured(conn, text, source, community=community["id"],
                                             as_of=at)
    except ClaimsError as exc:
        raise _claims_error(exc, community) from None
    return report.to_dict()


@router.post("/api/communities/{community_id}/claims", tags=["acceptance"],
             responses={200: {"description": "the tables read and their flags"},
                        **error_responses({**NO_COMMUNITY, **UNREADABLE, **INVALID,
                                           413: f"the table is larger than "
                                                f"{MAX_TEXT_BYTES} bytes",
                                           415: "not a form or multipart upload"})},
             openapi_extra={"requestBody": UPLOAD_BODY})
async def check_published_claims(
        actor: Annotated[Actor, Depends(require("indicators.read"))],
        request: Request, community: CommunityDep, conn: ConnDep, as_of: AsOf = None
) -> JSONResponse:
    """Flag the claims of the uploaded published table that do not add up, and the
    measured rows this community's devices contradict."""
    try:
        return JSONResponse(await run_check(request, conn, community, as_of))
    except Unusable as exc:
        raise HTTPException(exc.status, exc.english) from None


@router.get("/communities/{community_id}/claims", tags=["pages"], response_class=Response,
            responses=page_answers())
async def claims_form(
        actor: Annotated[Actor, Depends(require("indicators.read", page=True))],
        request: Request, community: CommunityDep) -> HTMLResponse:
    """The upload form of the claims check."""
    return render(request, actor, "claims.html", community=dict(community), report=None,
                  error="", kinds=FLAG_KINDS, kind_words=KIND_WORDS)


@router.post("/communities/{community_id}/claims", tags=["pages"], response_class=Response,
             responses=page_answers({
                 400: "the upload cannot be read (not a well-formed form or multipart body)",
                 413: "the upload is too large (the form again, saying so)",
                 415: "not a form upload (the form again)",
                 422: "the upload holds no table or is not UTF-8, or as_of is not a time "
                      "(the form again)"}),
             openapi_extra={"requestBody": UPLOAD_BODY})
async def claims_upload(
        actor: Annotated[Actor, Depends(require("indicators.read", page=True))],
        request: Request, community: CommunityDep, conn: ConnDep, as_of: AsOf = None
) -> HTMLResponse:
    """Check the uploaded table and show its flags."""
    try:
        report = await run_check(request, conn, community, as_of)
    except Unusable as exc:
        return render(request, actor, "claims.html", status=exc.status,
                      community=dict(community), report=None, error=exc.chinese,
                      kinds=FLAG_KINDS, kind_words=KIND_WORDS)
    return render(request, actor, "claims.html", community=dict(community), report=report,
                  error="", kinds=FLAG_KINDS, kind_words=KIND_WORDS)
