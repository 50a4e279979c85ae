"""A database for the console's tests: the sample community `demo` (lights online, offline
and behind an offline gateway, a lamp-fault alarm), the video community `vid` (cameras with
coordinates, a boundary, key positions, probes and a picture thumbnail), and the safety
community `safe` (an SOS press and an intrusion, residents sealed), with an evaluated
snapshot each; users of every role, signed in by session like a browser."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from auth_support import user_with_password
from ingest_support import INVENTORY, envelope, event, msg, reading, state, status_msg
from personal_support import make_key_file
from PIL import Image
from safety_support import ev, load_community, press
from safety_support import write as write_safe
from video_support import VIDEO_INVENTORY, probe

from acceptance.evaluator import evaluate
from ingest.schema.migrate import migrate
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from telemetry import DeviceState
from web import create_app

PASSWORD = "a long enough password"
NOW = datetime.now(UTC).replace(microsecond=0)


def jpeg(grey: int = 8) -> bytes:
    """A small, nearly black JPEG (what a black-picture probe would carry)."""
    out = io.BytesIO()
    Image.new("L", (160, 90), grey).save(out, "JPEG", quality=60)
    return out.getvalue()


async def seed(dsn: str, keys: Path) -> dict[str, int]:
    """Fill the database; return the ids of the alarms made, by name."""
    from personal_support import import_residents

    from inventory.keyfile import load_key_file

    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await import_inventory(conn, parse_inventory(INVENTORY, "demo.yaml"))
        t = NOW - timedelta(hours=3)
        items = [state("light-001", DeviceState.ONLINE, t), reading("light-001", t),
                 state("light-002", DeviceState.OFFLINE, t - timedelta(days=2),
                       reason="no answer for 31 s (expected every 10 s)"),
                 state("cam-01", DeviceState.ONLINE, t - timedelta(days=8)),
                 event("light-001", t - timedelta(minutes=5)),
                 reading("demo-gw1", t, "spool_items", 12.0),
                 reading("demo-gw1", t, "spool_dropped_total", 0.0),
                 reading("demo-gw1", t, "uplink_connected", 1.0)]
        await write_batch(conn, [msg(envelope(1, items, sent_at=t), now=t),
                                 status_msg(True, t=t - timedelta(days=3),
                                            version="0.1.0")])
        # demo-gw2 speaks for light-201..203 and has gone away (last will).
        gw2 = [state(f"light-{n}", DeviceState.ONLINE, t) for n in (201, 202, 203)]
        await write_batch(conn, [msg(envelope(1, gw2, gateway="demo-gw2", sent_at=t),
                                     gateway="demo-gw2", now=t),
                                 status_msg(True, gateway="demo-gw2", t=t),
                                 status_msg(False, gateway="demo-gw2",
                                            t=t + timedelta(hours=1))])

        await import_inventory(conn, parse_inventory(VIDEO_INVENTORY, "vid.yaml"))
        cams = [state(c, DeviceState.ONLINE if c != "cam-03" else DeviceState.OFFLINE, t)
                for c in ("cam-01", "cam-02", "cam-03", "cam-04", "cam-05")]
        probes = [probe("cam-01", t), probe("cam-02", t, "black"), probe("cam-05", t)]
        await write_batch(conn, [msg(envelope(1, [*cams, *probes], community="vid",
                                              gateway="vid-gw1", sent_at=t),
                                     community="vid", gateway="vid-gw1", now=t),
                                 status_msg(True, community="vid", gateway="vid-gw1", t=t)])
        await conn.execute(
            """INSERT INTO probe_pictures (community, device, time, gateway, ok, check_name,
                                           jpeg) VALUES ('vid', 'cam-02', $1, 'vid-gw1',
                                           false, 'black', $2)""", t, jpeg())

        await load_community(conn)
        await import_residents(conn, load_key_file(keys))
        at = NOW - timedelta(minutes=4)
        await write_safe(conn, press("sos-1", at),
                         ev("per-n", "perimeter_intrusion", at, active=True), now=at)
        for community in ("demo", "vid", "safe"):
            await evaluate(conn, community, NOW)
        rows = await conn.fetch("SELECT id, community, type FROM alarms ORDER BY id")
        return {f"{r['community']}:{r['type']}": r["id"] for r in rows}
    finally:
        await conn.close()


async def make_users(dsn: str) -> None:
    for role in ("admin", "operator", "auditor", "viewer"):
        await user_with_password(dsn, f"{role}.county", PASSWORD, role)
    await user_with_password(dsn, "operator.demo", PASSWORD, "operator", ["demo"])


@asynccontextmanager
async def browser(app: object, user: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client signed in as `user` through /login, as a browser is (session cookie,
    Accept: text/html), with the CSRF token of its pages."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://scg",
                                 headers={"Accept": "text/html"}) as client:
        form = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        r = await client.post("/login", data={"username": user, "password": PASSWORD,
                                              "csrf_token": token.group(1)})
        assert r.status_code == 303, r.text
        page = await client.get("/overview")
        csrf = re.search(r'<meta name="csrf-token" content="([^"]*)">', page.text)
        assert csrf is not None and csrf.group(1), page.text[:500]
        yield client, csrf.group(1)


def console_app(dsn: str, keys: Path) -> object:
    return create_app(dsn, data_key_file=keys)


@dataclass
class World:
    """A seeded console: its app (lifespan running), database and the seeded alarms' ids."""

    app: Any
    dsn: str
    alarms: dict[str, int]


@asynccontextmanager
async def seeded_world(cluster: Any, keys_dir: Path, database: str) -> AsyncIterator[World]:
    """A database of its own on `cluster`, seeded with `seed` and the users, and the
    console's app over it, for a module's tests to share."""
    dsn = cluster.create_database(database)
    keys, _ = make_key_file(keys_dir)
    alarms = await seed(dsn, keys)
    await make_users(dsn)
    app = console_app(dsn, keys)
    async with app.router.lifespan_context(app):
        yield World(app, dsn, alarms)
