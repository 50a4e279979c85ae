"""CSRF tokens for pages signed in with the session cookie.

A browser sends the cookie with any request to this site, including one a hostile page
makes it send; SameSite=Strict stops most of those, and this stops the rest: every form of
a signed-in page carries a token derived from the session (an HMAC of a fixed label under
the session's secret), which a hostile page cannot read and so cannot send. Unsafe
requests signed in by cookie must carry it, as the form field `csrf_token` or the header
`X-CSRF-Token`. Requests with a bearer token need none: browsers never add that header
by themselves.

The sign-in form itself has no session yet: it uses a random value both in a cookie and
in the form (double submit), so a hostile page cannot sign a browser in as someone else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

from fastapi import Request

FIELD: Final = "csrf_token"
HEADER: Final = "X-CSRF-Token"
LOGIN_COOKIE: Final = "scg_login_csrf"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def for_session(session_token: str) -> str:
    mac = hmac.new(session_token.encode(), b"scg csrf v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def new_login_value() -> str:
    return secrets.token_urlsafe(24)


def same(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


async def sent_token(request: Request) -> str | None:
    """The token the request carries: the header, else the form field (parsing the form,
    which the route then reads from the request's cache)."""
    header = request.headers.get(HEADER)
    if header:
        return header
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return None
    from web.forms import read_form

    value = (await read_form(request)).get(FIELD)
    return value if isinstance(value, str) else None
