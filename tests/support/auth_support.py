"""Users and their bearer headers for tests that call the API: the API refuses anonymous
requests, so each test signs in as a user it made, with the role it needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from web.auth.users import add_user, make_api_token

#: The user tests act as unless they say otherwise: an admin of the whole county.
ADMIN = "王芳"


async def user_headers(dsn: str, name: str = ADMIN, role: str = "admin",
                       communities: list[str] | None = None) -> dict[str, str]:
    """`Authorization` headers with a fresh API token of user `name`, made (without a
    password) with `role` over `communities` (None: the county) unless it exists."""
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        if await conn.fetchval("SELECT id FROM users WHERE name = $1", name) is None:
            await add_user(conn, name, role, communities, None, actor="test", at=now)
        issued = await make_api_token(conn, name, timedelta(hours=2), label="test",
                                      actor="test", at=now)
    finally:
        await conn.close()
    return {"Authorization": f"Bearer {issued.token}"}


async def user_with_password(dsn: str, name: str, password: str, role: str = "operator",
                             communities: list[str] | None = None) -> None:
    """Make user `name` who signs in with `password` (argon2id-hashed as in production)."""
    from web.auth.passwords import hash_password

    conn = await asyncpg.connect(dsn)
    try:
        await add_user(conn, name, role, communities, hash_password(password), actor="test",
                       at=datetime.now(UTC))
    finally:
        await conn.close()
