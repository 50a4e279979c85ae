"""Residents' data over HTTP: masked for every role that reads the register or the alarms,
whole only for admin and operator on request, and each whole read in the operation log
before the answer leaves."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from auth_support import user_headers
from fastapi import FastAPI
from personal_support import import_residents, make_key_file
from safety_support import AS_OF, Clock, press, write

from inventory.keyfile import KeyFileError, add_key, load_key_file
from inventory.personal_store import reseal_all
from web import create_app
from web.deps import get_clock

pytestmark = pytest.mark.integration

MASKED_R1 = {"id": "r1", "name": "张*华", "phone": "138****5678", "room": "北苑1号楼2单元***室",
             "emergency_contact": {"name": "张*明", "phone": "139****4321"},
             "lone_elderly": True, "sos_button": "sos-1", "masked": True, "problem": None}
WHOLE_R1 = {**MASKED_R1, "name": "张三华", "phone": "13812345678", "room": "北苑1号楼2单元502室",
            "emergency_contact": {"name": "张小明", "phone": "13987654321"}, "masked": False}


@dataclass
class World:
    dsn: str
    keys: Path
    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]

    async def get(self, user: str, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers[user])

    async def log(self) -> list[dict[str, Any]]:
        conn = await asyncpg.connect(self.dsn)
        try:
            rows = await conn.fetch("SELECT at, actor, action, community, target, details "
                                    "FROM operation_log ORDER BY id")
        finally:
            await conn.close()
        return [{**dict(r), "details": json.loads(r["details"])} for r in rows]


async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    app.dependency_overrides[get_clock] = lambda: Clock(AS_OF)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scg") as client:
            yield client


@pytest_asyncio.fixture
async def world(migrated: str, tmp_path: Path) -> AsyncIterator[World]:
    path, keys = make_key_file(tmp_path)
    conn = await asyncpg.connect(migrated)
    try:
        await import_residents(conn, keys)
        await write(conn, press("sos-1", AS_OF - timedelta(minutes=3)),
                    press("sos-2", AS_OF - timedelta(minutes=2)))
    finally:
        await conn.close()
    headers = {role: await user_headers(migrated, f"{role}-safe", role, ["safe"])
               for role in ("admin", "operator", "auditor", "viewer")}
    async for client in app_client(create_app(migrated, data_key_file=path)):
        yield World(migrated, path, client, headers)


async def test_the_register_is_masked_unless_asked_for_whole(world: World) -> None:
    r = await world.get("auditor", "/api/communities/safe/residents")
    assert r.status_code == 200
    got = {x["id"]: x for x in r.json()}
    assert list(got) == ["r1", "r2", "r3", "r4"]
    assert got["r1"] == MASKED_R1
    assert (got["r2"]["name"], got["r2"]["phone"], got["r2"]["emergency_contact"]) == (
        "李*", "0531-****1234", None)
    assert (got["r3"]["name"], got["r3"]["room"]) == ("欧**华", None)
    assert await world.log() == []


async def test_a_whole_read_by_an_operator_is_logged_with_who_when_and_whom(
        world: World) -> None:
    r = await world.get("operator", "/api/communities/safe/residents", unmasked="true")
    assert r.status_code == 200
    assert r.json()[0] == WHOLE_R1
    assert await world.log() == [{
        "at": AS_OF, "actor": "operator-safe", "action": "personal.read",
        "community": "safe", "target": "residents:r1,r2,r3,r4",
        "details": {"residents": ["r1", "r2", "r3", "r4"], "role": "operator",
                    "via": "GET /api/communities/safe/residents"}}]


async def test_an_auditor_may_not_unmask_and_a_viewer_may_not_read(world: World) -> None:
    r = await world.get("auditor", "/api/communities/safe/residents", unmasked="true")
    assert (r.status_code, r.json()["detail"]) == (403, (
        "user 'auditor-safe' (auditor) may not see residents' names, phones and rooms "
        "unmasked (each such read is logged); that needs the role admin or operator. Leave "
        "out unmasked=true to see them masked"))
    r = await world.get("viewer", "/api/communities/safe/residents")
    assert r.status_code == 403
    r = await world.get("auditor", "/api/communities/safe/alarms", unmasked="true")
    assert r.status_code == 403
    assert await world.log() == []


async def test_sos_alarms_carry_their_resident_masked_or_whole_and_logged(
        world: World) -> None:
    r = await world.get("auditor", "/api/communities/safe/alarms")
    assert r.status_code == 200
    sos = {a["device"]: a for a in r.json()}
    assert (sos["sos-1"]["resident"], sos["sos-1"]["resident_contact"]) == ("r1", MASKED_R1)
    assert sos["sos-2"]["resident_contact"]["phone"] == "0531-****1234"
    assert await world.log() == []
    r = await world.get("admin", "/api/communities/safe/alarms", unmasked="true")
    alarms = {a["device"]: a for a in r.json()}
    assert alarms["sos-1"]["resident_contact"] == WHOLE_R1
    [entry] = await world.log()
    assert (entry["actor"], entry["target"], entry["details"]["via"]) == (
        "admin-safe", "residents:r1,r2", "GET /api/communities/safe/alarms")
    assert entry["details"]["alarms"] == [alarms["sos-2"]["id"], alarms["sos-1"]["id"]]


async def test_a_value_altered_in_the_database_is_shown_as_a_problem_and_not_logged(
        world: World) -> None:
    conn = await asyncpg.connect(world.dsn)
    try:
        await conn.execute("UPDATE residents SET name_enc = (SELECT name_enc FROM residents "
                           "WHERE id = 'r2') WHERE id = 'r1'")
    finally:
        await conn.close()
    r = await world.get("operator", "/api/communities/safe/residents", unmasked="true")
    r1 = r.json()[0]
    assert (r1["name"], r1["phone"], r1["masked"]) == (None, None, False)
    assert r1["problem"].startswith("the name of resident 'r1' in community 'safe' fails "
                                    "authentication")
    [entry] = await world.log()
    assert entry["details"]["residents"] == ["r2", "r3", "r4"]


async def test_the_api_opens_values_re_sealed_under_a_new_key_without_a_restart(
        world: World) -> None:
    add_key(world.keys)
    conn = await asyncpg.connect(world.dsn)
    try:
        await reseal_all(conn, load_key_file(world.keys))
    finally:
        await conn.close()
    r = await world.get("auditor", "/api/communities/safe/residents")
    assert r.json()[0] == MASKED_R1


async def test_without_a_data_key_the_register_says_why_and_alarms_still_list(
        migrated: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCG_DATA_KEY_FILE", raising=False)
    _, keys = make_key_file(tmp_path)
    conn = await asyncpg.connect(migrated)
    try:
        await import_residents(conn, keys)
        await write(conn, press("sos-1", AS_OF - timedelta(minutes=3)))
    finally:
        await conn.close()
    headers = await user_headers(migrated, "op", "operator")
    async for client in app_client(create_app(migrated)):
        r = await client.get("/api/communities/safe/residents", headers=headers)
        assert (r.status_code, r.json()["detail"]) == (503, (
            "residents' data is stored sealed and this API has no data key: start it with "
            "SCG_DATA_KEY_FILE set to the key file the inventory was imported with (`scg "
            "keys init` made it)"))
        r = await client.get("/api/communities/safe/alarms", headers=headers)
        assert r.status_code == 200
        assert [(a["resident"], a["resident_contact"]) for a in r.json()] == [("r1", None)]
        r = await client.get("/api/communities/safe/alarms", headers=headers,
                             params={"unmasked": "true"})
        assert r.status_code == 503


def test_the_api_refuses_to_start_with_a_key_file_others_may_read(tmp_path: Path) -> None:
    path, _ = make_key_file(tmp_path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match=r"may be read by others \(mode 0644\)"):
        create_app("postgresql://unused/", data_key_file=path)


async def test_a_key_file_gone_while_running_withholds_residents_but_not_alarms(
        world: World) -> None:
    world.keys.rename(world.keys.with_suffix(".moved"))
    r = await world.get("operator", "/api/communities/safe/residents")
    assert r.status_code == 503
    assert r.json()["detail"].startswith(f"residents' data cannot be opened: key file "
                                         f"{world.keys} does not exist")
    r = await world.get("operator", "/api/communities/safe/alarms")
    assert r.status_code == 200
    assert {(a["resident"], a["resident_contact"]) for a in r.json()} == {
        ("r1", None), ("r2", None)}
    r = await world.get("operator", "/api/communities/safe/alarms", unmasked="true")
    assert r.status_code == 503
