"""GET /api/overview: every community of the user's scope from its snapshot, with its
gateways and alarms read live; the evaluator inside the API keeps snapshots current; a
broken county settings file stops the API at start instead of failing each report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from auth_support import user_headers
from ingest_support import INVENTORY, T0, envelope, msg, reading, state, status_msg, wait_until

from acceptance.county import CountySettingsError
from acceptance.evaluator import EvaluatorSettings, evaluate
from acceptance.report import build_report
from indicators.load import INDICATOR_IDS
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from telemetry import DeviceState
from web import create_app

pytestmark = pytest.mark.integration


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def light_001(conn: asyncpg.Connection, st: DeviceState, seq: int) -> None:
    now = datetime.now(UTC)
    await write_batch(conn, [msg(envelope(seq, [state("light-001", st, now),
                                                reading("light-001", now)]), now=now)])


async def alarm(conn: asyncpg.Connection, severity: str, st: str) -> None:
    await conn.execute(
        """INSERT INTO alarms (community, gateway, device, type, key, severity, momentary,
                               raised_at, state, acknowledged_at, acknowledged_by, closed_at,
                               closed_by)
           VALUES ('demo', 'demo-gw1', 'light-001', 'lamp_fault', gen_random_uuid()::text,
                   $1, true, now(), $2, CASE WHEN $2 <> 'open' THEN now() END,
                   CASE WHEN $2 <> 'open' THEN 'seed' END,
                   CASE WHEN $2 = 'closed' THEN now() END,
                   CASE WHEN $2 = 'closed' THEN 'seed' END)""", severity, st)


@pytest.fixture
async def county(migrated: str) -> AsyncIterator[asyncpg.Connection]:
    """demo (a gateway online, light-001 online, alarms), other (nothing reported) and
    fresh (never evaluated)."""
    conn = await asyncpg.connect(migrated)
    for ident in ("demo", "other", "fresh"):
        await import_inventory(conn, parse_inventory(
            INVENTORY.replace("id: demo", f"id: {ident}", 1), f"{ident}.yaml"))
    await write_batch(conn, [status_msg(True, t=datetime.now(UTC))])
    await light_001(conn, DeviceState.ONLINE, 1)
    for severity, st in (("critical", "open"), ("critical", "open"),
                         ("alarm", "acknowledged"), ("critical", "closed")):
        await alarm(conn, severity, st)
    for ident in ("demo", "other"):
        assert await evaluate(conn, ident, datetime.now(UTC)) is not None
    yield conn
    await conn.close()


async def get_overview(dsn: str, user: str, role: str, scope: list[str] | None
                       ) -> httpx.Response:
    app = create_app(dsn)
    headers = await user_headers(dsn, user, role, scope)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://scg",
            headers=headers) as client:
        return await client.get("/api/overview")


async def test_a_county_user_sees_every_community_from_its_snapshot(
        migrated: str, county: asyncpg.Connection) -> None:
    r = await get_overview(migrated, "ops", "operator", None)
    assert r.status_code == 200, r.text
    by_id = {c["id"]: c for c in r.json()["communities"]}
    assert list(by_id) == ["demo", "fresh", "other"]
    demo = by_id["demo"]
    snap_at = await county.fetchval(
        "SELECT as_of FROM indicator_snapshots WHERE community = 'demo'")
    assert (demo["name"], demo["district"], demo["as_of"], demo["stale"]) == (
        "演示社区", "370102", iso(snap_at), False)
    for tier in ("basic", "growth"):
        report = await build_report(county, "demo", tier)
        assert demo["tiers"][tier] == {"verdict": report.verdict, "counts": report.counts}
    assert [i["id"] for i in demo["indicators"]] == list(INDICATOR_IDS)
    lighting = demo["indicators"][0]
    assert lighting == {"id": "smart_lighting_rate", "value": 16.6, "unit": "%",
                        "numerator": 1, "denominator": 6,
                        "status": {"basic": "not_required", "growth": "fail"}}
    assert demo["devices"] == {"total": 8, "by_state": {"online": 1, "unknown": 6,
                                                        "unmonitored": 1}}
    gateway = await county.fetchrow("SELECT since FROM gateways WHERE community = 'demo'")
    assert demo["gateways"] == [{"id": "demo-gw1", "online": True,
                                 "since": iso(gateway["since"]), "last_envelope": iso(T0)}]
    assert (demo["gateways_online"], demo["gateways_offline"], demo["latest_data"]) == (
        1, 0, iso(T0))
    assert demo["alarms"] == {"acknowledged": {"alarm": 1}, "open": {"critical": 2}}
    other = by_id["other"]
    assert (other["alarms"], other["gateways"], other["latest_data"]) == ({}, [], None)
    assert other["devices"]["by_state"] == {"unknown": 7, "unmonitored": 1}
    fresh = by_id["fresh"]
    assert (fresh["as_of"], fresh["stale"], fresh["tiers"], fresh["indicators"],
            fresh["devices"]) == (None, True, None, None, None)


async def test_a_scoped_user_sees_only_its_communities_and_a_viewer_no_alarms(
        migrated: str, county: asyncpg.Connection) -> None:
    r = await get_overview(migrated, "viewer-demo", "viewer", ["demo"])
    assert r.status_code == 200, r.text
    [only] = r.json()["communities"]
    assert (only["id"], only["alarms"], only["gateways_online"]) == ("demo", None, 1)
    r = await get_overview(migrated, "auditor-other", "auditor", ["other", "fresh"])
    assert [c["id"] for c in r.json()["communities"]] == ["fresh", "other"]


async def test_the_evaluator_in_the_api_follows_a_state_change(
        loaded: str) -> None:
    conn = await asyncpg.connect(loaded)
    app = create_app(loaded, evaluator=EvaluatorSettings(
        poll=timedelta(seconds=0.05), min_interval=timedelta(seconds=0.1)))
    headers = await user_headers(loaded)
    try:
        await write_batch(conn, [status_msg(True, t=datetime.now(UTC))])
        await light_001(conn, DeviceState.ONLINE, 1)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://scg",
                headers=headers) as client:
            async def lit(numerator: int) -> bool:
                r = await client.get("/api/communities/demo/indicators")
                first = r.json()[0]
                return r.headers["scg-source"] == "snapshot" and \
                    first["numerator"] == numerator

            await wait_until(lambda: lit(1), what="a snapshot counting light-001")
            await light_001(conn, DeviceState.OFFLINE, 2)
            await wait_until(lambda: lit(0), what="a snapshot without light-001")
            assert app.state.evaluator.evaluated >= 2
        assert await conn.fetchval("SELECT count(*) FROM snapshot_evaluators") == 0
    finally:
        await conn.close()


def test_a_broken_county_settings_file_stops_the_api_at_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "county.yaml"
    bad.write_text("thresholds:\n  growth-28: {satisfaction_pct: 190}\n", encoding="utf-8")
    monkeypatch.setenv("SCG_COUNTY_SETTINGS", str(bad))
    with pytest.raises(CountySettingsError, match=r"county.yaml:\n  thresholds.growth-28."
                                                  r"satisfaction_pct: must be 0..100"):
        create_app("postgresql://unused/")
    monkeypatch.setenv("SCG_COUNTY_SETTINGS", str(tmp_path / "missing.yaml"))
    with pytest.raises(CountySettingsError, match=r"missing\.yaml: no such file"):
        create_app("postgresql://unused/")
