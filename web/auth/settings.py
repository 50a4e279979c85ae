"""How long tokens and sessions last, and whether the session cookie is marked Secure,
from the environment, checked when the API starts (a bad value stops it with the fix)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

ACCESS_TTL_ENV: Final = "SCG_ACCESS_TOKEN_TTL"
SESSION_TTL_ENV: Final = "SCG_SESSION_TTL"
SECURE_COOKIE_ENV: Final = "SCG_COOKIE_SECURE"

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SHORT: Final = re.compile(r"^(\d+)\s*([smhd])$")
LONGEST: Final = timedelta(days=3660)


def parse_lifetime(text: str, what: str) -> timedelta:
    """`90d`, `12h`, `30m`, `45s`, an ISO 8601 duration (P90D, PT1H) or seconds; positive
    and at most ten years. ValueError names `what` and the forms accepted."""
    from indicators.params import ParamError, parse_window

    raw = text.strip().lower()
    m = _SHORT.match(raw)
    try:
        span = (timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)]) if m
                else parse_window(text, timedelta(0)))
    except (ParamError, OverflowError):
        span = timedelta(0)
    if not timedelta(0) < span <= LONGEST:
        raise ValueError(f"{what} {text!r} is not a duration; write e.g. 90d, 12h, 30m or "
                         "P90D (at most 3660 days)")
    return span


@dataclass(frozen=True, slots=True)
class AuthSettings:
    access_ttl: timedelta = timedelta(hours=1)
    session_ttl: timedelta = timedelta(hours=8)
    #: None: Secure when the request came over https (also behind a proxy that says so).
    secure_cookie: bool | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if env is None else env
        out = cls()
        access, session = out.access_ttl, out.session_ttl
        if env.get(ACCESS_TTL_ENV, "").strip():
            access = parse_lifetime(env[ACCESS_TTL_ENV], ACCESS_TTL_ENV)
        if env.get(SESSION_TTL_ENV, "").strip():
            session = parse_lifetime(env[SESSION_TTL_ENV], SESSION_TTL_ENV)
        secure: bool | None = None
        raw = env.get(SECURE_COOKIE_ENV, "").strip().lower()
        if raw in ("1", "true", "yes"):
            secure = True
        elif raw in ("0", "false", "no"):
            secure = False
        elif raw not in ("", "auto"):
            raise ValueError(f"{SECURE_COOKIE_ENV}={raw!r}: use 1 (always Secure), 0 "
                             "(never; plain http only) or auto (Secure over https)")
        return cls(access_ttl=access, session_ttl=session, secure_cookie=secure)
