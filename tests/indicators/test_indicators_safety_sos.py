"""The 15-minute SOS response rate end to end: presses stored by the writer at known
times, acknowledged over HTTP at times set by the injected server clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from safety_support import AS_OF, Clock, api, by_id, load_community, press, write

pytestmark = pytest.mark.asyncio

P1 = AS_OF - timedelta(hours=3)
P2 = AS_OF - timedelta(hours=2)
P3 = AS_OF - timedelta(hours=1)
P4 = AS_OF - timedelta(minutes=5)
OLD = AS_OF - timedelta(days=8)


async def rate(client: httpx.AsyncClient, as_of: Any) -> dict[str, Any]:
    r = await client.get("/api/communities/safe/indicators",
                         params={"as_of": as_of.isoformat()})
    assert r.status_code == 200, r.text
    return by_id(r.json())["elderly_sos_response_rate"]


async def test_presses_acknowledged_within_15_minutes_over_decided_presses(
        migrated: str) -> None:
    conn = await asyncpg.connect(migrated)
    try:
        await load_community(conn)
        await write(conn, press("sos-1", OLD), press("sos-1", P1), press("sos-2", P2),
                    press("sos-1", P3), press("sos-1", P4))
        ids = {r["raised_at"]: r["id"] for r in await conn.fetch(
            "SELECT id, raised_at FROM alarms WHERE type = 'sos_pressed'")}
    finally:
        await conn.close()
    clock = Clock(AS_OF)
    async with api(migrated, clock, user="值班员") as (_, client):
        for pressed, after in ((P1, 5), (P2, 14), (P3, 16)):
            clock.now = pressed + timedelta(minutes=after)
            r = await client.post(f"/api/alarms/{ids[pressed]}/acknowledge")
            assert r.status_code == 200, r.text

        got = await rate(client, AS_OF)
        assert (got["numerator"], got["denominator"], got["value"]) == (2, 3, 66.6)
        assert got["thresholds"] == {"basic": None, "growth": 100.0}
        assert got["status"] == {"basic": "not_required", "growth": "fail"}
        label = {t: f"alarm:{ids[t]}" for t in ids}
        assert got["devices"] == {"numerator": [label[P1], label[P2]],
                                  "denominator": [label[P1], label[P2], label[P3]]}
        assert got["breakdown"] == {"late": [label[P3]], "missed": [],
                                    "pending": [label[P4]]}
        assert [(p["device"], p["resident"], p["response_s"], p["verdict"],
                 p["acknowledged_by"]) for p in got["details"]["presses"]] == [
            ("sos-1", "r1", 300.0, "within", "值班员"),
            ("sos-2", "r2", 840.0, "within", "值班员"),
            ("sos-1", "r1", 960.0, "late", "值班员"),
            ("sos-1", "r1", None, "pending", None)]
        assert got["details"]["response_s"] == {"median": 840.0, "max": 960.0}
        assert got["window"]["seconds"] == 7 * 24 * 3600

        # Twenty minutes on, the unanswered press has failed.
        later = await rate(client, AS_OF + timedelta(minutes=20))
        assert (later["numerator"], later["denominator"]) == (2, 4)
        assert later["breakdown"]["missed"] == [label[P4]]

        # Seen from before the last acknowledgement, that press was still pending.
        before = await rate(client, P3 + timedelta(minutes=10))
        assert (before["numerator"], before["denominator"]) == (2, 2)
        assert before["breakdown"]["pending"] == [label[P3]]
