"""Staff actions on alarms over HTTP: acknowledge then close, in the signed-in user's name
at the server's time, the errors of illegal moves, and an operation log that refuses to be
altered or deleted."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from auth_support import user_headers
from safety_support import AS_OF, Clock, api, ev, load_community, press, write

pytestmark = pytest.mark.asyncio

T = AS_OF - timedelta(hours=1)


@pytest.fixture
async def safe(migrated: str) -> str:
    conn = await asyncpg.connect(migrated)
    try:
        await load_community(conn)
        await write(conn, press("sos-1", T),
                    ev("per-n", "perimeter_intrusion", T + timedelta(minutes=1), active=True))
    finally:
        await conn.close()
    return migrated


async def test_an_alarm_is_acknowledged_then_closed_by_the_signed_in_user_at_the_server_time(
        safe: str) -> None:
    clock = Clock(T + timedelta(minutes=4))
    li = await user_headers(safe, "李强", "operator", ["safe"])
    async with api(safe, clock) as (_, client):
        [sos] = (await client.get("/api/communities/safe/alarms",
                                  params={"type": "sos_pressed"})).json()
        assert (sos["state"], sos["device"], sos["device_kind"]) == (
            "open", "sos-1", "sos_button")
        r = await client.post(f"/api/alarms/{sos['id']}/acknowledge",
                              json={"note": "called her daughter"})
        assert r.status_code == 200, r.text
        got = r.json()
        assert {k: got[k] for k in ("state", "acknowledged_at", "acknowledged_by",
                                    "acknowledged_note", "closed_at")} == {
            "state": "acknowledged", "acknowledged_at": "2026-11-24T07:04:00Z",
            "acknowledged_by": "王芳", "acknowledged_note": "called her daughter",
            "closed_at": None}
        clock.now = T + timedelta(minutes=40)
        r = await client.post(f"/api/alarms/{sos['id']}/close", headers=li)
        assert r.status_code == 200, r.text
        assert {k: r.json()[k] for k in ("state", "closed_at", "closed_by", "closed_note")} \
            == {"state": "closed", "closed_at": "2026-11-24T07:40:00Z", "closed_by": "李强",
                "closed_note": None}
        listed = (await client.get("/api/communities/safe/alarms",
                                   params={"state": "closed"})).json()
        assert [a["id"] for a in listed] == [sos["id"]]


async def test_illegal_moves_are_409_unknown_ids_404_and_a_name_in_the_body_422(
        safe: str) -> None:
    li = await user_headers(safe, "李强", "operator", ["safe"])
    async with api(safe, Clock(AS_OF)) as (_, client):
        [intrusion, sos] = (await client.get("/api/communities/safe/alarms")).json()
        ident = sos["id"]
        r = await client.post(f"/api/alarms/{ident}/close", headers=li)
        assert (r.status_code, r.json()["detail"]) == (409, (
            f"alarm {ident} (sos_pressed on sos-1) is open, not yet acknowledged; only an "
            "acknowledged alarm can be closed: acknowledge it first"))
        assert (await client.post(f"/api/alarms/{ident}/acknowledge")).status_code == 200
        r = await client.post(f"/api/alarms/{ident}/acknowledge", headers=li)
        assert (r.status_code, r.json()["detail"]) == (409, (
            f"alarm {ident} (sos_pressed on sos-1) is acknowledged by 王芳 at "
            "2026-11-24T08:00:00Z; only an open alarm can be acknowledged: it was already "
            "acknowledged"))
        assert (await client.post(f"/api/alarms/{ident}/close", json={})).status_code == 200
        r = await client.post(f"/api/alarms/{ident}/acknowledge", headers=li)
        assert r.status_code == 409
        assert "is closed by 王芳 at 2026-11-24T08:00:00Z" in r.json()["detail"]
        r = await client.post("/api/alarms/999999/acknowledge")
        assert (r.status_code, r.json()["detail"]) == (404, (
            "alarm 999999 does not exist; list alarms with GET "
            "/api/communities/{id}/alarms"))
        # Neither who nor when is the client's to say.
        for body in ({"by": "王芳"}, {"by": "   "}, {"note": 5},
                     {"note": "x", "at": "2020-01-01T00:00:00Z"}):
            r = await client.post(f"/api/alarms/{intrusion['id']}/acknowledge", json=body)
            assert r.status_code == 422, body
        r = await client.post(f"/api/alarms/{intrusion['id']}/acknowledge",
                              json={"by": "director.wang"})
        assert r.json()["detail"] == ("body field `by`: extra inputs are not permitted, got "
                                      "'director.wang'")
        r = await client.get("/api/communities/safe/alarms", params={"state": "done"})
        assert (r.status_code, r.json()["detail"]) == (
            422, "state 'done' is not an alarm state; use one of open, acknowledged, closed")
        r = await client.get("/api/communities/safe/alarms", params={"since": "yesterday"})
        assert r.status_code == 422
        assert r.json()["detail"].startswith("since 'yesterday' is not a time")
        assert (await client.get("/api/communities/nowhere/alarms")).status_code == 404
        assert [a["state"] for a in (await client.get(
            "/api/communities/safe/alarms")).json()] == ["open", "closed"]


async def test_every_action_is_in_the_operation_log_which_refuses_changes(
        safe: str) -> None:
    async with api(safe, Clock(AS_OF)) as (_, client):
        alarms = (await client.get("/api/communities/safe/alarms")).json()
        ident = alarms[1]["id"]
        await client.post(f"/api/alarms/{ident}/acknowledge", json={"note": "on my way"})
        await client.post(f"/api/alarms/{ident}/close")
        await client.post(f"/api/alarms/{ident}/close")  # 409: no entry
    conn = await asyncpg.connect(safe)
    try:
        rows = await conn.fetch("SELECT at, actor, action, community, target, note "
                                "FROM operation_log ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (AS_OF, "王芳", "alarm.acknowledge", "safe", f"alarm:{ident}", "on my way"),
            (AS_OF, "王芳", "alarm.close", "safe", f"alarm:{ident}", None)]
        for statement in ("UPDATE operation_log SET actor = 'someone else'",
                          "DELETE FROM operation_log",
                          "TRUNCATE operation_log",
                          "UPDATE alarm_changes SET by = 'someone else'",
                          "DELETE FROM alarm_changes"):
            with pytest.raises(asyncpg.RaiseError, match="cannot be altered or deleted"):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM operation_log") == 2
        assert [r["change"] for r in await conn.fetch(
            "SELECT change FROM alarm_changes WHERE alarm = $1 ORDER BY id", ident)] == [
            "opened", "acknowledged", "closed"]
    finally:
        await conn.close()
