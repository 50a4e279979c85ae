"""Users in the database: add one, set a password, disable or enable, make an API token,
list them. Every change also appends a row to `user_changes` — only through
`record_user_change`, the one place that table is written — in the same transaction.

Names are what records carry as the actor ("王芳", "duty-officer", "director.wang"):
letters of any script, digits, `_ . -`, at most 64 characters, compared after Unicode
normalisation (NFC), so the same name typed on two keyboards is one user.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from ingest.schema.chain import append
from web.auth import tokens
from web.auth.roles import ROLE_NAMES

Connection = Any  # asyncpg.Connection

_NAME_RE: Final = re.compile(r"^[^\W][\w.-]{0,63}\Z")


class UserError(ValueError):
    """A user change that cannot be made; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    name: str
    role: str
    communities: list[str] | None
    has_password: bool
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None
    tokens: int            # API tokens neither expired nor revoked
    token_expiry: datetime | None   # when the last of them expires


def check_name(raw: str) -> str:
    """The user name as stored (NFC), or UserError naming the rule."""
    name = unicodedata.normalize("NFC", raw.strip())
    if not _NAME_RE.match(name):
        raise UserError(f"user name {raw!r} is not valid: use 1 to 64 letters (any script), "
                        "digits, '_', '.' or '-', starting with a letter or digit, e.g. "
                        "wang.fang or 王芳")
    return name


def check_role(role: str) -> str:
    if role not in ROLE_NAMES:
        raise UserError(f"role {role!r} is not a role; use one of {', '.join(ROLE_NAMES)}")
    return role


async def check_communities(conn: Connection, communities: list[str] | None
                            ) -> list[str] | None:
    """The communities, deduplicated and sorted, each of them imported; None = county."""
    if not communities:
        return None
    wanted = sorted(set(communities))
    known = {r["id"] for r in await conn.fetch("SELECT id FROM communities")}
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise UserError(f"community {', '.join(unknown)} is not in the inventory (known: "
                        f"{', '.join(sorted(known)) or 'none imported yet'}); import it "
                        "first with `scg inventory import FILE`")
    return wanted


async def record_user_change(conn: Connection, *, at: datetime, actor: str, action: str,
                             user: str, details: dict[str, Any] | None = None) -> None:
    """Append one change to `user_changes` (the only writer of that table), a hash chain
    (`ingest.schema.chain`)."""
    await append(conn, "user_changes", {"at": at, "actor": actor, "action": action,
                                        "user_name": user, "details": details or {}})


async def _user_id(conn: Connection, name: str) -> tuple[int, bool]:
    row = await conn.fetchrow("SELECT id, disabled_at FROM users WHERE name = $1", name)
    if row is None:
        raise UserError(f"there is no user {name!r}; `scg user list` shows them")
    return row["id"], row["disabled_at"] is not None


async def add_user(conn: Connection, name: str, role: str, communities: list[str] | None,
                   password_hash: str | None, *, actor: str, at: datetime) -> int:
    """Add a user (`communities` None: the whole county); UserError if the name is taken."""
    name, role = check_name(name), check_role(role)
    async with conn.transaction():
        scope = await check_communities(conn, communities)
        ident = await conn.fetchval(
            """INSERT INTO users (name, role, communities, password_hash, password_changed_at)
               VALUES ($1, $2, $3, $4,
                       CASE WHEN $4::text IS NULL THEN NULL ELSE $5::timestamptz END)
               ON CONFLICT (name) DO NOTHING RETURNING id""",
            name, role, scope, password_hash, at)
        if ident is None:
            raise UserError(f"user {name!r} already exists; `scg user passwd {name}` sets "
                            "its password")
        await record_user_change(conn, at=at, actor=actor, action="user.add", user=name,
                                 details={"role": role, "communities": scope,
                                          "password": password_hash is not None})
    return int(ident)


async def set_password(conn: Connection, name: str, password_hash: str, *, actor: str,
                       at: datetime) -> None:
    """Set the password; the user's sessions and access tokens end (API tokens stay)."""
    name = check_name(name)
    async with conn.transaction():
        ident, _ = await _user_id(conn, name)
        await conn.execute("UPDATE users SET password_hash = $2, password_changed_at = $3 "
                           "WHERE id = $1", ident, password_hash, at)
        ended = await conn.fetchval(
            """WITH ended AS (UPDATE auth_tokens SET revoked_at = now()
                              WHERE user_id = $1 AND kind <> 'api' AND revoked_at IS NULL
                              RETURNING 1)
               SELECT count(*) FROM ended""", ident)
        await record_user_change(conn, at=at, actor=actor, action="user.passwd", user=name,
                                 details={"sessions_ended": ended})


async def set_disabled(conn: Connection, name: str, disabled: bool, *, actor: str,
                       at: datetime) -> None:
    """Disable (every token and session of the user is revoked) or enable a user."""
    name = check_name(name)
    async with conn.transaction():
        ident, was = await _user_id(conn, name)
        if was == disabled:
            raise UserError(f"user {name!r} is already {'disabled' if was else 'enabled'}")
        await conn.execute("UPDATE users SET disabled_at = $2 WHERE id = $1", ident,
                           at if disabled else None)
        revoked = 0
        if disabled:
            revoked = await conn.fetchval(
                """WITH ended AS (UPDATE auth_tokens SET revoked_at = now()
                                  WHERE user_id = $1 AND revoked_at IS NULL RETURNING 1)
                   SELECT count(*) FROM ended""", ident)
        await record_user_change(conn, at=at, actor=actor,
                                 action="user.disable" if disabled else "user.enable",
                                 user=name, details={"tokens_revoked": revoked})


async def make_api_token(conn: Connection, name: str, lifetime: timedelta, *, label: str,
                         actor: str, at: datetime) -> tokens.Issued:
    """A new long-lived API token for an enabled user (the token itself is returned once)."""
    name = check_name(name)
    async with conn.transaction():
        ident, disabled = await _user_id(conn, name)
        if disabled:
            raise UserError(f"user {name!r} is disabled; `scg user enable {name}` first")
        issued = await tokens.issue(conn, ident, "api", lifetime, label)
        await record_user_change(conn, at=at, actor=actor, action="user.token", user=name,
                                 details={"token_id": issued.id, "label": label,
                                          "expires_at": issued.expires_at.isoformat()})
    return issued


async def list_users(conn: Connection) -> list[UserRow]:
    rows = await conn.fetch(
        """SELECT u.id, u.name, u.role, u.communities, u.password_hash IS NOT NULL AS pw,
                  u.disabled_at IS NOT NULL AS disabled, u.created_at, u.last_login_at,
                  count(t.id) AS tokens, max(t.expires_at) AS token_expiry
           FROM users u
           LEFT JOIN auth_tokens t ON t.user_id = u.id AND t.kind = 'api'
                AND t.revoked_at IS NULL AND t.expires_at > now()
           GROUP BY u.id ORDER BY u.name""")
    return [UserRow(id=r["id"], name=r["name"], role=r["role"],
                    communities=r["communities"], has_password=r["pw"],
                    disabled=r["disabled"], created_at=r["created_at"],
                    last_login_at=r["last_login_at"], tokens=r["tokens"],
                    token_expiry=r["token_expiry"]) for r in rows]
