"""The permission matrix: every route × every role × a user of its own community, of
another community, and of the whole county, each with the status it must get.

Two communities, `demo` and `other`. For each role there is a user scoped to `demo` and a
county-wide one: "own" asks about demo as the demo user, "other" asks about `other` as the
demo user, "county" asks about `other` as the county user. Expectations come from the
permissions table (`web.auth.roles`), and a few are spelled out by hand below so that a
wrong table cannot pass by agreeing with itself. Every allowed request is a real one that
succeeds (an open alarm to acknowledge, a valid entry to store), made fresh for its case.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from auth_support import user_headers
from declared_support import PDF, PNG, T1
from fastapi import FastAPI
from ingest_support import INVENTORY
from personal_support import make_key_file

from acceptance.declared import enter_declaration
from acceptance.evidence import EvidenceStore
from inventory import import_inventory, parse_inventory
from inventory.keyfile import load_key_file
from scg.localsvc import PostgresCluster
from web import create_app
from web.auth.deps import Public, Requirement, route_table
from web.auth.roles import ROLE_NAMES

pytestmark = pytest.mark.integration
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

OWN, OTHER = "demo", "other"
SCOPES = ("own", "other", "county")
EVIDENCE = {OWN: PDF, OTHER: PNG}
RESIDENT = 'residents:\n  - {id: r1, name: 张三华, phone: "13812345678"}\n'
SHA = {c: hashlib.sha256(data).hexdigest() for c, data in EVIDENCE.items()}

#: What a request that is allowed answers, where not 200.
SUCCESS = {("POST", "/api/communities/{community_id}/declared/{row_id}"): 201,
           ("POST", "/communities/{community_id}/declared/{row_id}"): 303,
           ("POST", "/logout"): 303, ("GET", "/"): 303,
           ("POST", "/communities/{community_id}/alarms/{alarm_id}/acknowledge"): 303,
           ("POST", "/communities/{community_id}/alarms/{alarm_id}/close"): 303}
#: A published table for the claims check (its pages and its API).
PUBLISHED = (Path(__file__).parents[1] / "acceptance" / "data"
             / "growth-tier-acceptance-qingzhou-2024.txt").read_text(encoding="utf-8")
#: A small JPEG, the thumbnail of cam-01's latest picture in both communities.
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
#: Spelled out by hand, independent of the table.
BY_HAND = {
    ("POST", "/api/alarms/{alarm_id}/acknowledge", "operator", "own"): 200,
    ("POST", "/api/alarms/{alarm_id}/acknowledge", "operator", "other"): 403,
    ("POST", "/api/alarms/{alarm_id}/acknowledge", "auditor", "county"): 403,
    ("POST", "/api/alarms/{alarm_id}/close", "viewer", "own"): 403,
    ("POST", "/api/alarms/{alarm_id}/close", "admin", "county"): 200,
    ("GET", "/api/communities/{community_id}/alarms", "viewer", "own"): 403,
    ("GET", "/api/communities/{community_id}/alarms", "auditor", "county"): 200,
    ("GET", "/api/communities/{community_id}/indicators", "viewer", "own"): 200,
    ("GET", "/api/communities/{community_id}/indicators", "viewer", "other"): 403,
    ("POST", "/api/communities/{community_id}/declared/{row_id}", "auditor", "own"): 403,
    ("POST", "/api/communities/{community_id}/declared/{row_id}", "operator", "own"): 201,
    ("POST", "/communities/{community_id}/declared/{row_id}", "operator", "other"): 403,
    ("GET", "/api/evidence/{sha256}", "operator", "other"): 403,
    ("GET", "/api/evidence/{sha256}", "auditor", "county"): 200,
    ("GET", "/api/evidence/{sha256}", "viewer", "own"): 403,
    ("GET", "/communities/{community_id}/declared.html", "viewer", "own"): 403,
    ("GET", "/communities/{community_id}/acceptance.html", "viewer", "other"): 403,
    ("GET", "/api/communities", "viewer", "other"): 200,
    # The overview is the user's scope (tests/web/test_web_overview.py checks which).
    ("GET", "/api/overview", "viewer", "other"): 200,
    ("GET", "/api/overview", "auditor", "county"): 200,
    ("GET", "/openapi.json", "auditor", "own"): 200,
    # The resident register: read masked by those who read alarms, never by a viewer.
    ("GET", "/api/communities/{community_id}/residents", "viewer", "own"): 403,
    ("GET", "/api/communities/{community_id}/residents", "auditor", "county"): 200,
    ("GET", "/api/communities/{community_id}/residents", "operator", "other"): 403,
    # The console: pages read as the API does, its forms act as the API's actions do.
    ("POST", "/communities/{community_id}/alarms/{alarm_id}/acknowledge", "viewer", "own"):
        403,
    ("POST", "/communities/{community_id}/alarms/{alarm_id}/close", "operator", "own"): 303,
    ("GET", "/communities/{community_id}/alarms", "viewer", "county"): 403,
    ("GET", "/communities/{community_id}/devices/{device_id}", "viewer", "own"): 200,
    ("GET", "/api/communities/{community_id}/devices/{device_id}/picture", "viewer", "own"):
        403,
    ("GET", "/audit", "operator", "county"): 403,
    ("GET", "/audit", "auditor", "own"): 200,
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    requirement: Requirement
    role: str
    scope: str

    @property
    def community(self) -> str:
        return OWN if self.scope == "own" else OTHER

    @property
    def user(self) -> str:
        return f"{self.role}-{'county' if self.scope == 'county' else OWN}"

    def expected(self) -> int:
        permission = self.requirement.permission
        if self.role not in permission.roles:
            return 403
        if self.scope == "other" and _scoped(self.path):
            return 403
        return SUCCESS.get((self.method, self.path), 200)


def _scoped(path: str) -> bool:
    """Whether the route is about one community (directly or through an alarm or file)."""
    return any(p in path for p in ("{community_id}", "{alarm_id}", "{sha256}"))


def cases() -> list[Case]:
    out = []
    for route in route_table(create_app("postgresql://route-table-only/")):
        if isinstance(route.access, Public):
            continue
        assert isinstance(route.access, Requirement), route.path
        for method in sorted(route.methods - {"HEAD"}):
            out.extend(Case(method, route.path, route.access, role, scope)
                       for role in ROLE_NAMES for scope in SCOPES)
    return out


CASES = cases()


@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient
    dsn: str
    headers: dict[str, dict[str, str]]


async def seed(dsn: str, evidence: Path, keys: Path) -> None:
    from ingest.schema.migrate import migrate

    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        ring = load_key_file(keys)
        await import_inventory(conn, parse_inventory(INVENTORY + RESIDENT, "demo.yaml"), ring)
        await import_inventory(conn, parse_inventory(
            INVENTORY.replace("id: demo", f"id: {OTHER}", 1) + RESIDENT, "other.yaml"), ring)
        store = EvidenceStore(evidence)
        for community, data in EVIDENCE.items():
            stored = store.put(io.BytesIO(data), f"{community}.bin", "application/pdf")
            await enter_declaration(conn, community, "growth-09", {"one_stop_service": True},
                                    text="", by="seed", at=T1, files=[stored])
            await conn.execute(
                """INSERT INTO probe_pictures (community, device, time, gateway, ok,
                                               check_name, jpeg)
                   VALUES ($1, 'cam-01', $2, 'demo-gw1', false, 'black', $3)""",
                community, T1, JPEG)
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[World]:
    dsn = pg_cluster.create_database("t_web_auth_matrix")
    evidence = tmp_path_factory.mktemp("evidence")
    keys, _ = make_key_file(tmp_path_factory.mktemp("keys"))
    await seed(dsn, evidence, keys)
    headers = {}
    for role in ROLE_NAMES:
        headers[f"{role}-{OWN}"] = await user_headers(dsn, f"{role}-{OWN}", role, [OWN])
        headers[f"{role}-county"] = await user_headers(dsn, f"{role}-county", role)
    app = create_app(dsn, evidence_dir=evidence, data_key_file=keys)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scg") as client:
            yield World(app, client, dsn, headers)


async def new_alarm(dsn: str, community: str, state: str) -> int:
    """A fresh alarm of `community` in `state` (open or acknowledged)."""
    conn = await asyncpg.connect(dsn)
    try:
        acked = state == "acknowledged"
        ident: int = await conn.fetchval(
            """INSERT INTO alarms (community, gateway, device, type, key, severity, momentary,
                                   raised_at, state, acknowledged_at, acknowledged_by)
               VALUES ($1, 'gw', 'sos-1', 'sos_pressed', gen_random_uuid()::text, 'critical',
                       true, now(), $2, CASE WHEN $3 THEN now() END,
                       CASE WHEN $3 THEN 'seed' END) RETURNING id""",
            community, state, acked)
        return ident
    finally:
        await conn.close()


async def send(world: World, case: Case) -> int:
    """Make the case's request (a real, valid one) and return its status."""
    values = {"community_id": case.community, "row_id": "growth-09",
              "sha256": SHA[case.community], "device_id": "cam-01",
              "gateway_id": "demo-gw1", "indicator_id": "smart_lighting_rate"}
    if "{alarm_id}" in case.path:
        state = "open" if case.path.endswith("acknowledge") else "acknowledged"
        values["alarm_id"] = str(await new_alarm(world.dsn, case.community, state))
    url = case.path
    for name, value in values.items():
        url = url.replace("{" + name + "}", value)
    headers = world.headers[case.user]
    kwargs: dict[str, Any] = {}
    if case.path == "/api/communities/{community_id}/declared/{row_id}":
        kwargs["json"] = {"values": {"one_stop_service": True},
                          "evidence_sha256": [SHA[case.community]]}
    elif case.path == "/communities/{community_id}/declared/{row_id}":
        kwargs["data"] = {"one_stop_service": "yes", "evidence_sha256": SHA[case.community]}
    elif case.path.endswith("/claims") and case.method == "POST":
        kwargs["data"] = {"text": PUBLISHED}
    if "acceptance" in case.path:
        kwargs["params"] = {"tier": "growth"}
    if case.path.endswith("/stream"):
        return await stream_status(world.app, url, headers)
    r = await world.client.request(case.method, url, headers=headers, **kwargs)
    return r.status_code


async def stream_status(app: FastAPI, url: str, headers: dict[str, str]) -> int:
    """The status of a request to the never-ending alarm stream: the client goes away as
    soon as the answer starts."""
    started = asyncio.Event()
    status: list[int] = []
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await started.wait()
        return {"type": "http.disconnect"}

    async def send_(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
            started.set()

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": url, "raw_path": url.encode(),
             "query_string": b"", "root_path": "", "server": ("scg", 80),
             "client": ("127.0.0.1", 50000), "app": app,
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    await asyncio.wait_for(app(scope, receive, send_), 10)
    return status[0]


def test_the_matrix_covers_every_route_role_and_scope() -> None:
    routes = {(c.method, c.path) for c in CASES}
    declared = {(m, r.path) for r in route_table(create_app("postgresql://unused/"))
                if isinstance(r.access, Requirement) for m in r.methods - {"HEAD"}}
    assert routes == declared
    assert len(CASES) == len(declared) * len(ROLE_NAMES) * len(SCOPES)


def test_the_table_agrees_with_the_expectations_spelled_out_by_hand() -> None:
    found = {(c.method, c.path, c.role, c.scope): c.expected() for c in CASES}
    assert {key: found[key] for key in BY_HAND} == BY_HAND


def test_an_auditor_is_refused_every_change() -> None:
    changes = [c for c in CASES if c.role == "auditor" and c.requirement.permission.changes]
    assert {(c.method, c.path) for c in changes} == {
        ("POST", "/api/alarms/{alarm_id}/acknowledge"), ("POST", "/api/alarms/{alarm_id}/close"),
        ("POST", "/api/communities/{community_id}/declared/{row_id}"),
        ("POST", "/communities/{community_id}/declared/{row_id}"),
        ("POST", "/communities/{community_id}/alarms/{alarm_id}/acknowledge"),
        ("POST", "/communities/{community_id}/alarms/{alarm_id}/close")}
    assert all(c.expected() == 403 for c in changes)


@MODULE_LOOP
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path} {c.role} {c.scope}")
async def test_the_status_of_each_role_and_scope(world: World, case: Case) -> None:
    assert await send(world, case) == case.expected()


@MODULE_LOOP
async def test_a_scoped_user_lists_only_its_communities(world: World) -> None:
    r = await world.client.get("/api/communities", headers=world.headers["viewer-demo"])
    assert [c["id"] for c in r.json()] == [OWN]
    r = await world.client.get("/api/communities", headers=world.headers["viewer-county"])
    assert [c["id"] for c in r.json()] == [OWN, OTHER]
    r = await world.client.get("/api/communities/other/indicators",
                               headers=world.headers["operator-demo"])
    assert r.json()["detail"] == ("user 'operator-demo' may see and act only in community "
                                  "demo, not in community 'other'; ask an admin for access "
                                  "to it")
    r = await world.client.post("/api/communities/demo/declared/growth-09",
                                headers=world.headers["auditor-county"], json={})
    assert r.json()["detail"] == ("user 'auditor-county' (auditor) may not enter declared "
                                  "values; that needs the role admin or operator")
