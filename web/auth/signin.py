"""Signing in with a name and a password, for POST /api/auth/token and the /login form:
the throttle first (a waiting guesser costs no hashing), then argon2id, then the record of
the sign-in. The refusal never says whether the name exists."""

from __future__ import annotations

import asyncio
import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from web.auth import throttle
from web.auth.passwords import verify_password

Connection = Any  # asyncpg.Connection

WRONG = "wrong user name or password"


class SignInRefused(Exception):
    """401 (wrong name or password, disabled account) or 429 (wait `retry_after` s)."""

    def __init__(self, status: int, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: int
    name: str


def _too_soon(seconds: float) -> SignInRefused:
    wait = max(1, math.ceil(seconds))
    return SignInRefused(429, f"too many failed sign-ins for this user or from this address; "
                              f"try again in {wait} s", wait)


async def sign_in(conn: Connection, name: str, password: str, address: str) -> SignedIn:
    """The user, or SignInRefused. Every failure is counted against the name and the
    address (see `web.auth.throttle`)."""
    name = unicodedata.normalize("NFC", name.strip())[:200]
    left = await throttle.wait_left(conn, name, address)
    if left > 0:
        raise _too_soon(left)
    row = await conn.fetchrow("SELECT id, name, password_hash, disabled_at FROM users "
                              "WHERE name = $1", name)
    stored = row["password_hash"] if row is not None else None
    ok = await asyncio.to_thread(verify_password, stored, password)
    if not ok:
        wait = await throttle.failed(conn, name, address)
        if wait > 0:
            raise SignInRefused(401, f"{WRONG}; the next attempt must wait {math.ceil(wait)} s")
        raise SignInRefused(401, WRONG)
    assert row is not None
    if row["disabled_at"] is not None:
        raise SignInRefused(401, f"user {row['name']!r} is disabled; ask an admin to enable "
                                 "it (`scg user enable`)")
    await throttle.succeeded(conn, name)
    await conn.execute("UPDATE users SET last_login_at = now() WHERE id = $1", row["id"])
    return SignedIn(row["id"], row["name"])
