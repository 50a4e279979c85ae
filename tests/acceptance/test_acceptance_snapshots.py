"""Indicator snapshots: the evaluator stores the community's indicators with the data
versions it read; the API, the report and the history serve a snapshot while it reflects
the data (or while an evaluator is alive to replace it) and compute otherwise; the writer
counts each community's changes; communities with state news are recomputed first."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from auth_support import user_headers
from ingest_support import envelope, msg, reading, state, status_msg

from acceptance.evaluator import EvaluatorSettings, due_order, evaluate
from acceptance.history import record_indicators
from acceptance.report import build_report
from indicators.load import INDICATOR_IDS
from indicators.snapshots import SNAPSHOT_LOCK, beat, retire
from ingest.writer import write_batch
from telemetry import DeviceState
from web import create_app

SEQ = iter(range(1, 10_000))


async def lights(conn: asyncpg.Connection, *online: str, off: tuple[str, ...] = ()) -> None:
    """`online` lights report now and say online; `off` lights say offline."""
    now = datetime.now(UTC)
    items = [i for d in online for i in (state(d, DeviceState.ONLINE, now - timedelta(
        seconds=5)), reading(d, now - timedelta(seconds=1)))]
    items += [state(d, DeviceState.OFFLINE, now) for d in off]
    await write_batch(conn, [msg(envelope(next(SEQ), items), now=now)])


@pytest.fixture
async def db(loaded: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(loaded)
    await write_batch(conn, [status_msg(True, t=datetime.now(UTC))])
    yield conn
    await conn.close()


@pytest.fixture
async def client(loaded: str, db: asyncpg.Connection) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(loaded)
    headers = await user_headers(loaded)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://scg",
            headers=headers) as c:
        yield c


def lighting(body: list[dict[str, Any]]) -> tuple[int, int]:
    r = {x["id"]: x for x in body}["smart_lighting_rate"]
    return r["numerator"], r["denominator"]


async def test_the_api_serves_a_snapshot_while_it_reflects_the_data(
        db: asyncpg.Connection, client: httpx.AsyncClient) -> None:
    url = "/api/communities/demo/indicators"
    await lights(db, "light-001")
    r = await client.get(url)
    assert (r.headers["scg-source"], lighting(r.json())) == ("computed", (1, 6))

    at = datetime.now(UTC)
    snap = await evaluate(db, "demo", at)
    assert snap is not None
    r = await client.get(url)
    assert r.headers["scg-source"] == "snapshot"
    assert r.headers["scg-as-of"] == at.isoformat().replace("+00:00", "Z")
    assert r.headers["scg-data-version"] == str(snap.versions.version)
    assert r.json() == json.loads(snap.indicators)
    assert [x["id"] for x in r.json()] == list(INDICATOR_IDS)
    assert {x["as_of"] for x in r.json()} == {r.headers["scg-as-of"]}
    fresh = await client.get(url, params={"fresh": "true"})
    assert fresh.headers["scg-source"] == "computed"
    assert [(x["id"], x["numerator"], x["denominator"]) for x in fresh.json()] == \
        [(x["id"], x["numerator"], x["denominator"]) for x in r.json()]

    # New data and no evaluator alive: the snapshot is behind, so the API computes.
    await lights(db, "light-002")
    r = await client.get(url)
    assert (r.headers["scg-source"], lighting(r.json())) == ("computed", (2, 6))
    # An evaluator alive is about to replace it: the snapshot is served, with its time.
    await beat(db, "test-evaluator", at, datetime.now(UTC))
    r = await client.get(url)
    assert (r.headers["scg-source"], lighting(r.json())) == ("snapshot", (1, 6))
    # A past time or another window is always computed.
    r = await client.get(url, params={"window": "PT1H"})
    assert (r.headers["scg-source"], lighting(r.json())) == ("computed", (2, 6))
    await retire(db, "test-evaluator")
    assert (await client.get(url)).headers["scg-source"] == "computed"


async def test_the_writer_counts_changes_and_state_news_per_community(
        db: asyncpg.Connection) -> None:
    async def versions() -> tuple[int, int]:
        r = await db.fetchrow("SELECT version, state_version FROM community_data_versions "
                              "WHERE community = 'demo'")
        return r["version"], r["state_version"]

    before = await versions()   # the fixture's gateway birth: a state news
    now = datetime.now(UTC)
    await write_batch(db, [msg(envelope(next(SEQ), [reading("light-001", now)]), now=now)])
    assert await versions() == (before[0] + 1, before[1])
    await lights(db, off=("light-001",))
    assert await versions() == (before[0] + 2, before[1] + 1)
    await write_batch(db, [status_msg(False, t=datetime.now(UTC))])
    assert await versions() == (before[0] + 3, before[1] + 2)


async def test_the_report_as_of_now_is_the_snapshot_and_the_history_records_it(
        db: asyncpg.Connection) -> None:
    await lights(db, "light-001")
    at = datetime.now(UTC)
    await evaluate(db, "demo", at)
    report = await build_report(db, "demo", "growth", declarations={})
    assert report.as_of == at and report.live
    assert set(report.indicator_sources.values()) == {"snapshot"}
    row = {r.row.id: r for r in report.rows}["growth-05"]
    assert [(m.indicator, m.value) for m in row.measures] == [("smart_lighting_rate", 16.6)]

    done = await record_indicators(db, at + timedelta(minutes=1))
    assert done.stored == {"demo": len(INDICATOR_IDS)}
    rows = await db.fetch("SELECT DISTINCT recorded_at FROM indicator_history")
    assert [r["recorded_at"] for r in rows] == [at]   # recorded at the snapshot's time
    # Long after the snapshot, the history computes for its own time.
    later = at + timedelta(minutes=30)
    await record_indicators(db, later)
    assert await db.fetchval("SELECT max(recorded_at) FROM indicator_history") == later


async def test_a_community_locked_by_another_evaluator_is_skipped(
        loaded: str, db: asyncpg.Connection) -> None:
    other = await asyncpg.connect(loaded)
    try:
        await other.execute("SELECT pg_advisory_lock($1, hashtext('demo'))", SNAPSHOT_LOCK)
        assert await evaluate(db, "demo", datetime.now(UTC)) is None
        await other.execute("SELECT pg_advisory_unlock($1, hashtext('demo'))", SNAPSHOT_LOCK)
        assert await evaluate(db, "demo", datetime.now(UTC)) is not None
        assert await evaluate(db, "nowhere", datetime.now(UTC)) is None
    finally:
        await other.close()


def test_state_news_go_first_then_the_oldest_snapshots() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    s = EvaluatorSettings()
    t_inv = now - timedelta(days=3)

    def row(ident: str, age: float | None, *, version: int = 5, state_version: int = 2,
            imported: datetime = t_inv, declared: datetime | None = None) -> dict[str, Any]:
        return {"id": ident, "as_of": None if age is None else now - timedelta(seconds=age),
                "imported_at": imported, "version": version, "state_version": state_version,
                "declared_at": declared, "snap_version": 5, "snap_state": 2,
                "snap_inventory": t_inv, "snap_declared": None}

    rows = [row("clean", 60), row("old", 400), row("readings", 40, version=6),
            row("readings-young", 10, version=6), row("state", 5, state_version=3),
            row("state-too-soon", 1, state_version=3), row("new", None),
            row("imported", 3, imported=now - timedelta(seconds=3)),
            row("declared", 3, declared=now)]
    assert due_order(rows, now, s) == ["new", "state", "declared", "imported", "old",
                                       "readings"]
    with pytest.raises(ValueError, match="evaluator refresh must be longer than zero"):
        EvaluatorSettings(refresh=timedelta(0))
