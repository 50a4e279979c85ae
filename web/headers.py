"""Security headers on every response, and the nonce that lets a page of ours keep its
inline style and script under a Content-Security-Policy of 'self'.

Every response gets the headers below unless it set its own (the evidence download keeps
its sandbox policy, the docs page its own, the docs' static files their cache time):
pages cannot be framed, sniffed into another type or leak their address as a referrer,
and nothing signed-in is kept in a shared or browser cache.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

from fastapi.responses import HTMLResponse

from web.limits import ASGIApp, Message, Receive, Scope, Send

#: The policy of every response that does not set one: only this origin, no plug-ins, no
#: framing, forms post only here.
CSP: Final = ("default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; "
              "frame-ancestors 'none'")
HEADERS: Final[tuple[tuple[bytes, bytes], ...]] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)

_INLINE: Final = re.compile(r"<(style|script)(?=[\s>])(?![^>]*\ssrc=)", re.IGNORECASE)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def page_policy(nonce: str, *, extra: str = "") -> str:
    """The policy of a page whose inline <style> and <script> carry `nonce`."""
    return (f"{CSP}; style-src 'self' 'nonce-{nonce}'; script-src 'self' 'nonce-{nonce}'"
            f"{'; ' + extra if extra else ''}")


def html_page(html: str, status_code: int = 200) -> HTMLResponse:
    """An HTML page of our own templates: its inline style and script elements get a fresh
    nonce that the page's policy allows (content a user typed is escaped by the templates,
    so it cannot carry an element of its own)."""
    nonce = secrets.token_urlsafe(16)
    marked = _INLINE.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"', html)
    return HTMLResponse(marked, status_code=status_code,
                        headers={"Content-Security-Policy": page_policy(nonce)})
