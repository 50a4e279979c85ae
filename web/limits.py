"""Request bodies bounded while they arrive, before the application reads them.

Evidence uploads (POST …/declared/{row}) may carry SCG_EVIDENCE_MAX_BYTES of files plus
1 MiB of form fields and multipart framing; every other request 1 MiB. A declared
Content-Length over the limit is refused at once, before a byte of the body is read; a
body without one (chunked) is counted as it streams and refused the moment it passes the
limit. Either way the answer is 413 with `Connection: close`, so the server stops
receiving the rest instead of reading and discarding it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from web.errors import error_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Bodies of requests that are not uploads: JSON actions and small forms.
SMALL_BODY: Final = 1 << 20
#: Room for an upload's form fields and multipart framing beside its files.
FORM_ROOM: Final = 1 << 20
UPLOAD_ROUTES: Final = re.compile(r"^(/api)?/communities/[^/]+/declared/[^/]+$")


class BodyTooLarge(Exception):
    """Raised from `receive` when the body passes the limit (turned into a 413)."""


class BodyLimit:
    def __init__(self, app: ASGIApp, *, evidence_max_bytes: int) -> None:
        self.app = app
        self.evidence_max_bytes = evidence_max_bytes
        self.upload_limit = evidence_max_bytes + FORM_ROOM

    def limit_for(self, method: str, path: str) -> int:
        if method == "POST" and UPLOAD_ROUTES.match(path):
            return self.upload_limit
        return SMALL_BODY

    def refusal(self, limit: int) -> str:
        if limit == self.upload_limit:
            return (f"the upload is larger than {limit} bytes: an entry's evidence files may "
                    f"total {self.evidence_max_bytes} bytes (SCG_EVIDENCE_MAX_BYTES) plus 1 "
                    "MiB for the form; attach fewer or smaller files, or send files stored "
                    "earlier by `evidence_sha256`")
        return (f"the request body is larger than {limit} bytes, the most this route "
                "takes; send a smaller body")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, 413, self.refusal(limit))
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception as exc:
            # An answer already on its way cannot be changed: all that is left is to close.
            if started or not _too_large(exc):
                raise
            await _refuse(scope, receive, send, 413, self.refusal(limit))


def _too_large(exc: BaseException) -> bool:
    """BodyTooLarge itself, or a group of nothing else (raised from a task group)."""
    if isinstance(exc, BaseExceptionGroup):
        return exc.split(BodyTooLarge)[1] is None
    return isinstance(exc, BodyTooLarge)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int,
                  problem: str) -> None:
    response = error_response(status, [problem], headers={"Connection": "close"})
    await response(scope, receive, send)
