"""Builders for the declared-values and history tests: the API with its own evidence
directory and a settable server clock, and sample evidence files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from auth_support import ADMIN, user_headers
from fastapi import FastAPI

from web import create_app
from web.deps import get_clock

T1 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

#: Small but real-looking files: a PDF certificate and a PNG photo (bytes need not render).
PDF = b"%PDF-1.4\n% fibre coverage certificate, 3790 of 3790 households\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class Clock:
    """The server clock of the API under test: set `now` to move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def api(dsn: str, evidence: Path, clock: Clock | None = None, *,
              history_interval: timedelta | None = None, user: str = ADMIN,
              ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A fresh app (as after a restart) over `dsn` and the evidence directory `evidence`,
    and a client signed in as `user` (an admin, made if missing)."""
    app = create_app(dsn, evidence_dir=evidence, history_interval=history_interval)
    if clock is not None:
        app.dependency_overrides[get_clock] = lambda: clock
    headers = await user_headers(dsn, user)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scg",
                                     headers=headers) as client:
            yield app, client


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
