"""The console's tables show what the JSON API serves: the overview's cells are the figures
of /api/overview, the device table filtered by state lists the API's devices page after
page and its CSV lists them all; a camera's picture is for the roles allowed to see it;
times are written in the configured zone."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from console_support import NOW, browser, console_app, make_users, seed
from ingest_support import envelope, msg, state, status_msg
from personal_support import make_key_file

from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from scg.localsvc import PostgresCluster
from telemetry import DeviceState
from web.console.templating import console_zone, zone_from_env

pytestmark = pytest.mark.integration
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

#: `many`: 130 lights behind one gateway, every third offline, for pages of the table.
MANY = "community: {id: many, name: 大社区, district: \"370102\"}\ndevices:\n" + "".join(
    f"  - {{id: lamp-{n:03d}, kind: light, gateway: many-gw1, protocol: mqtt}}\n"
    for n in range(1, 131))


@dataclass
class World:
    app: Any
    dsn: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[World]:
    dsn = pg_cluster.create_database("t_console_tables")
    keys, _ = make_key_file(tmp_path_factory.mktemp("keys"))
    await seed(dsn, keys)
    conn = await asyncpg.connect(dsn)
    try:
        await import_inventory(conn, parse_inventory(MANY, "many.yaml"))
        t = NOW - timedelta(hours=1)
        items = [state(f"lamp-{n:03d}", DeviceState.OFFLINE if n % 3 == 0
                       else DeviceState.ONLINE, t, reason="no answer 3 times in a row"
                       if n % 3 == 0 else "") for n in range(1, 131)]
        await write_batch(conn, [msg(envelope(1, items, community="many", gateway="many-gw1",
                                              sent_at=t), community="many",
                                     gateway="many-gw1", now=t),
                                 status_msg(True, community="many", gateway="many-gw1", t=t)])
    finally:
        await conn.close()
    await make_users(dsn)
    app = console_app(dsn, keys)
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        yield World(app, dsn)


@MODULE_LOOP
async def test_the_overview_cells_are_the_figures_of_the_api(world: World) -> None:
    async with browser(world.app, "admin.county") as (client, _):
        api = (await client.get("/api/overview", headers={"Accept": "application/json"}))
        page = (await client.get("/overview")).text
    for c in api.json()["communities"]:
        row = re.search(rf'<tr id="indicators-{c["id"]}".*?</tr>', page, re.S)
        assert row is not None, c["id"]
        shown = {m[0]: (m[1], m[2], m[3]) for m in re.findall(
            r'data-indicator="(\w+)" data-numerator="([^"]*)" data-denominator="([^"]*)" '
            r'data-status="(\w+)"', row.group(0))}
        assert shown == {f["id"]: (str(f["numerator"]), str(f["denominator"]),
                                   f["status"]["growth"])
                         for f in c["indicators"] or ()}, c["id"]
        summary = re.search(rf'<tr id="community-{c["id"]}".*?</tr>', page, re.S)
        assert summary is not None
        counts = dict(re.findall(r'data-state="(\w+)"><a [^>]*>(\d+)</a>', summary.group(0)))
        by_state = (c["devices"] or {}).get("by_state", {})
        assert counts == {s: str(by_state.get(s, 0))
                          for s in ("online", "degraded", "offline", "unknown")}
    demo = re.search(r'<tr id="community-demo".*?</tr>', page, re.S)
    assert demo is not None and "网关离线" in demo.group(0)   # demo-gw2 sent its last will


@MODULE_LOOP
async def test_the_device_table_pages_and_its_csv_list_the_api_s_devices(world: World) -> None:
    async with browser(world.app, "viewer.county") as (client, _):
        wanted = [d["id"] for d in (await client.get(
            "/api/communities/many/devices", params={"state": "offline"},
            headers={"Accept": "application/json"})).json()]
        assert len(wanted) == 43
        shown: list[str] = []
        url = "/communities/many/devices?state=offline&page=1"
        first = (await client.get("/communities/many/devices")).text
        assert "共 130 台设备，第 1 / 3 页。" in first
        while url:
            page = (await client.get(url)).text
            shown += re.findall(r'<tr data-device="([^"]+)" data-state="offline">', page)
            nxt = re.search(r'<a href="(\?[^"]+)" id="next-page">', page)
            url = f"/communities/many/devices{nxt.group(1).replace('&amp;', '&')}" \
                if nxt else ""
        assert shown == wanted
        assert "连续 3 次无应答" in page and "no answer 3 times" not in re.sub(
            r'title="[^"]*"', "", page)
        r = await client.get("/communities/many/devices.csv", params={"state": "offline"})
        assert r.headers["content-disposition"] == (
            'attachment; filename="devices-many-offline.csv"')
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert [row[0] for row in rows[1:]] == wanted
        assert {(row[3], row[4], row[5]) for row in rows[1:]} == {
            ("离线", "offline", "连续 3 次无应答")}


@MODULE_LOOP
async def test_a_camera_picture_is_shown_only_to_roles_allowed_to_see_it(
        world: World) -> None:
    async with browser(world.app, "operator.county") as (client, _):
        page = (await client.get("/communities/vid/devices/cam-02")).text
        assert 'id="picture" src="/api/communities/vid/devices/cam-02/picture"' in page
        assert "黑屏" in page and 'data-state="' in page   # its timeline is drawn
        r = await client.get("/api/communities/vid/devices/cam-02/picture")
        assert (r.status_code, r.headers["content-type"], r.content[:2]) == (
            200, "image/jpeg", b"\xff\xd8")
        assert r.headers["scg-picture-check"] == "black"
    async with browser(world.app, "viewer.county") as (client, _):
        page = (await client.get("/communities/vid/devices/cam-02")).text
        assert 'id="picture"' not in page and "不能查看画面" in page
        r = await client.get("/api/communities/vid/devices/cam-02/picture")
        assert r.status_code == 403


@MODULE_LOOP
async def test_times_are_written_in_the_configured_zone(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    async with browser(world.app, "admin.county") as (client, _):
        beijing = (await client.get("/communities/demo/devices/light-002")).text
        monkeypatch.setenv("SCG_TIMEZONE", "Asia/Urumqi")
        console_zone.cache_clear()
        try:
            urumqi = (await client.get("/communities/demo/devices/light-002")).text
        finally:
            monkeypatch.delenv("SCG_TIMEZONE")
            console_zone.cache_clear()
    since = NOW - timedelta(hours=3) - timedelta(days=2)
    assert f"自 {(since + timedelta(hours=8)).strftime('%Y-%m-%d %H:%M:%S')}" in beijing
    assert f"自 {(since + timedelta(hours=6)).strftime('%Y-%m-%d %H:%M:%S')}" in urumqi
    assert "Asia/Urumqi 时间" in urumqi and "北京时间" in beijing
    monkeypatch.setenv("SCG_TIMEZONE", "Beijing")
    with pytest.raises(ValueError, match=r"SCG_TIMEZONE='Beijing' is not a time zone; give "
                                         r"an IANA name such as Asia/Shanghai"):
        zone_from_env()
