"""Indicator history: recordings of every indicator, read back over a window, used for a
report as of a past time (recomputed where nothing was recorded), and recorded by the API
in the background."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from declared_support import Clock, api, iso
from ingest_support import INVENTORY, T0, envelope, msg, reading, state, status_msg, wait_until

from acceptance.history import (
    HistoryRecorder,
    indicators_as_of,
    next_tick,
    record_indicators,
)
from indicators.load import INDICATOR_IDS
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from telemetry import DeviceState

pytestmark = pytest.mark.asyncio

H = timedelta(hours=1)


@pytest.fixture
async def lit(loaded: str) -> str:
    """The sample community with light-001 online and reporting at T0 (1 of 6 public lights
    smart and heard from); the others silent."""
    conn = await asyncpg.connect(loaded)
    try:
        await write_batch(conn, [msg(envelope(1, [state("light-001", DeviceState.ONLINE),
                                                  reading("light-001")])),
                                 status_msg(True)])
    finally:
        await conn.close()
    return loaded


async def test_recordings_are_returned_per_indicator_in_a_window_oldest_first(
        lit: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(lit)
    try:
        for hours in (1, 2, 3):
            done = await record_indicators(conn, T0 + hours * H)
            assert done.stored == {"demo": len(INDICATOR_IDS)}
        again = await record_indicators(conn, T0 + 3 * H + timedelta(minutes=1),
                                        skip_within=timedelta(minutes=6))
        assert (again.stored, again.skipped) == ({}, ("demo",))
        assert await conn.fetchval("SELECT count(*) FROM indicator_history") == \
            3 * len(INDICATOR_IDS)
    finally:
        await conn.close()
    async with api(lit, tmp_path / "ev", Clock(T0 + 4 * H)) as (_, client):
        url = "/api/communities/demo/indicators/history"
        r = await client.get(url, params={"id": "smart_lighting_rate",
                                          "from": iso(T0 + 90 * timedelta(minutes=1)),
                                          "to": iso(T0 + 3 * H)})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["from"], body["to"], body["ids"]) == (
            "2026-11-23T09:30:00Z", "2026-11-23T11:00:00Z", ["smart_lighting_rate"])
        assert body["entries"] == [
            {"id": "smart_lighting_rate", "recorded_at": iso(T0 + h * H), "value": 16.6,
             "numerator": 1, "denominator": 6, "unit": "%",
             "status": {"basic": "not_required", "growth": "fail"}}
            for h in (2, 3)]

        r = await client.get(url, params={"id": "video_key_coverage,smart_lighting_rate",
                                          "full": "true"})  # default: the 7 days to now
        entries = r.json()["entries"]
        assert [(e["id"], e["recorded_at"]) for e in entries] == [
            (ident, iso(T0 + h * H)) for h in (1, 2, 3)
            for ident in ("smart_lighting_rate", "video_key_coverage")]
        assert entries[0]["result"]["devices"]["numerator"] == ["light-001"]
        assert entries[0]["result"]["as_of"] == iso(T0 + H)

        r = await client.get(url, params={"from": iso(T0 + 3 * H)})
        assert [e["id"] for e in r.json()["entries"]] == list(INDICATOR_IDS)

        for params, detail in (
                ({"from": "yesterday"}, "from 'yesterday' is not a time such as "
                                        "2026-11-23T08:00:00Z"),
                ({"to": "2026-11-23T10:00:00"}, "to '2026-11-23T10:00:00' has no timezone; add "
                                                "Z (UTC) or an offset like +08:00"),
                ({"from": iso(T0 + 2 * H), "to": iso(T0 + H)},
                 "from 2026-11-23T10:00:00Z is after to 2026-11-23T09:00:00Z; swap them"),
                ({"id": "smart_lighting"}, "id 'smart_lighting' is not a measured indicator; "
                                           "did you mean smart_lighting_rate? known: "
                                           + ", ".join(INDICATOR_IDS))):
            r = await client.get(url, params=params)
            assert (r.status_code, r.json()["detail"]) == (422, detail), params
        assert (await client.get("/api/communities/nowhere/indicators/history")
                ).status_code == 404


async def test_as_of_a_past_time_uses_the_recording_before_it_else_recomputes(
        lit: str) -> None:
    conn = await asyncpg.connect(lit)
    try:
        await record_indicators(conn, T0 + H)
        # Afterwards light-001 loses its controller in the register: a recomputation of the
        # past would no longer count it, the recording made then still does.
        changed = INVENTORY.replace("    capabilities: [dimming, remote_control, fault_report]\n",
                                    "")
        changed = changed.replace("    protocol: mqtt\n    address: light-001\n", "", 1)
        await import_inventory(conn, parse_inventory(changed, "changed.yaml"))

        recorded = {r["id"]: r for r in await indicators_as_of(conn, "demo",
                                                               T0 + 90 * timedelta(minutes=1))}
        lighting = recorded["smart_lighting_rate"]
        assert (lighting["source"], lighting["recorded_at"], lighting["as_of"],
                lighting["numerator"], lighting["denominator"]) == (
            "recorded", iso(T0 + H), iso(T0 + H), 1, 6)
        assert list(recorded) == list(INDICATOR_IDS)
        assert {r["source"] for r in recorded.values()} == {"recorded"}

        # Before the recording, and more than an interval after it: computed.
        for at in (T0 + 30 * timedelta(minutes=1), T0 + 2 * H + timedelta(seconds=1)):
            results = await indicators_as_of(conn, "demo", at)
            lighting = {r["id"]: r for r in results}["smart_lighting_rate"]
            assert (lighting["source"], lighting["as_of"], lighting["numerator"]) == (
                "computed", iso(at), 0)
            assert "recorded_at" not in lighting
        # A wider tolerance reaches the recording again.
        lighting = {r["id"]: r for r in await indicators_as_of(
            conn, "demo", T0 + 3 * H, within=3 * H)}["smart_lighting_rate"]
        assert (lighting["source"], lighting["numerator"]) == ("recorded", 1)
    finally:
        await conn.close()


async def test_the_api_records_every_community_in_the_background_on_each_tick(
        lit: str, tmp_path: Path) -> None:
    async def two_recordings() -> bool:
        c = await asyncpg.connect(lit)
        try:
            return bool(await c.fetchval(
                "SELECT count(DISTINCT recorded_at) >= 2 FROM indicator_history"))
        finally:
            await c.close()

    async with api(lit, tmp_path / "ev", history_interval=timedelta(seconds=0.3)) as (app, _):
        recorder: HistoryRecorder = app.state.history_recorder
        assert recorder.interval == timedelta(seconds=0.3)
        # One at start (nothing recorded yet), then one per tick.
        await wait_until(two_recordings, within=10, what="two background recordings")
    assert recorder.last is not None and recorder.last.stored == {"demo": len(INDICATOR_IDS)}


async def test_a_restarted_recorder_waits_for_the_next_tick_when_the_last_is_recent(
        lit: str) -> None:
    pool = await asyncpg.create_pool(lit, min_size=0, max_size=2)
    try:
        async with pool.acquire() as conn:
            await record_indicators(conn, T0)
        clock = Clock(T0 + timedelta(minutes=20))
        recorder = HistoryRecorder(pool, H, clock=clock)
        task = asyncio.create_task(recorder.run())
        await wait_until(lambda: _passes(recorder, 1), what="the start-up pass")
        recorder.stop()
        await task
        async with pool.acquire() as conn:
            assert await conn.fetchval(
                "SELECT count(DISTINCT recorded_at) FROM indicator_history") == 1
    finally:
        await pool.close()
    assert next_tick(T0 + timedelta(minutes=20), H) == T0 + H
    assert next_tick(T0, H) == T0 + H


async def _passes(recorder: HistoryRecorder, n: int) -> bool:
    return recorder.passes >= n
