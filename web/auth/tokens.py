"""Bearer tokens and browser sessions: random, opaque, and stored only as their SHA-256.

A token is shown once to whoever asked for it and cannot be read back from the database;
looking one up hashes what the client sent. Kinds: `api` (long-lived, `scg user token`),
`access` (short-lived, POST /api/auth/token) and `session` (the browser's cookie).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from web.auth.actor import Actor, Via

Connection = Any  # asyncpg.Connection

PREFIX: Final = "scg_"
#: Longest token accepted for lookup: anything longer is not one of ours.
MAX_LENGTH: Final = 128
#: last_used_at is written at most this often per token (not on every request).
USE_RESOLUTION: Final = timedelta(minutes=1)
#: Expired access tokens and sessions are deleted this long after they expired.
KEEP_EXPIRED: Final = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Issued:
    token: str          # the secret itself: give it to the client, never store it
    id: int
    expires_at: datetime


def new_secret() -> str:
    """256 random bits, URL-safe, with a prefix that tells secret scanners what it is."""
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(conn: Connection, user_id: int, kind: Via, lifetime: timedelta,
                label: str = "") -> Issued:
    """A new token of `kind` for the user, valid for `lifetime` from the database's now."""
    if lifetime <= timedelta(0):
        raise ValueError(f"a token's lifetime must be positive, got {lifetime}")
    token = new_secret()
    row = await conn.fetchrow(
        """INSERT INTO auth_tokens (user_id, kind, digest, label, expires_at)
           VALUES ($1, $2, $3, $4, now() + $5::interval) RETURNING id, expires_at""",
        user_id, kind, digest(token), label, lifetime)
    await conn.execute("DELETE FROM auth_tokens WHERE kind <> 'api' AND expires_at < now() - "
                       "$1::interval", KEEP_EXPIRED)
    return Issued(token, row["id"], row["expires_at"])


async def authenticate(conn: Connection, token: str, kinds: tuple[Via, ...]) -> Actor | None:
    """The actor holding `token` (one of `kinds`), or None when it is unknown, expired,
    revoked, or its user is disabled."""
    if not token.startswith(PREFIX) or len(token) > MAX_LENGTH or not token.isascii():
        return None
    row = await conn.fetchrow(
        """SELECT t.id, t.kind, t.last_used_at, u.id AS user_id, u.name, u.role,
                  u.communities
           FROM auth_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.digest = $1 AND t.kind = ANY($2::text[]) AND t.revoked_at IS NULL
             AND t.expires_at > now() AND u.disabled_at IS NULL""",
        digest(token), list(kinds))
    if row is None:
        return None
    await conn.execute(
        """UPDATE auth_tokens SET last_used_at = now()
           WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - $2::interval)""",
        row["id"], USE_RESOLUTION)
    communities = row["communities"]
    return Actor(user_id=row["user_id"], name=row["name"], role=row["role"],
                 communities=None if communities is None else frozenset(communities),
                 via=row["kind"], token_id=row["id"])


async def revoke(conn: Connection, token_id: int) -> None:
    await conn.execute("UPDATE auth_tokens SET revoked_at = now() "
                       "WHERE id = $1 AND revoked_at IS NULL", token_id)
