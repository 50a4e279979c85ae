"""Dependencies of the routes: a pooled database connection, the community asked for and
the server clock (staff actions are timed by it; tests override `get_clock`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request

Connection = Any  # asyncpg.Connection (asyncpg ships no type information)
Record = Any


async def get_conn(request: Request) -> AsyncIterator[Connection]:
    async with request.app.state.pool.acquire() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]


CommunityId = Annotated[str, Path(
    description="the community's id in the inventory (`community.id`)", examples=["demo"])]


async def get_community(community_id: CommunityId, conn: ConnDep) -> Record:
    row = await conn.fetchrow("SELECT id, name, district_code, households, imported_at "
                              "FROM communities WHERE id = $1", community_id)
    if row is None:
        known = [r["id"] for r in await conn.fetch("SELECT id FROM communities ORDER BY id")]
        listed = ", ".join(known) if known else "none imported yet"
        raise HTTPException(404, f"community {community_id!r} is not in the inventory "
                                 f"(known: {listed}); import it with `scg inventory import "
                                 "FILE`")
    return row


CommunityDep = Annotated[Record, Depends(get_community)]


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def get_clock() -> Clock:
    """The clock that times staff actions; override in tests with
    `app.dependency_overrides[get_clock] = lambda: fake_clock`."""
    return utc_now


ClockDep = Annotated[Clock, Depends(get_clock)]
