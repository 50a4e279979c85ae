"""The HTTP API against a migrated database holding the sample inventory and telemetry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest
from ingest_support import T0, client_for, envelope, msg, reading, state, status_msg

from ingest.writer import write_batch
from telemetry import DeviceState

AS_OF = (T0 + timedelta(hours=1)).isoformat().replace("+00:00", "Z")


@pytest.fixture
async def api(loaded: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the sample community with: light-001 online and reporting, light-002
    offline, light-201..203 online behind demo-gw2 whose last will has arrived."""
    conn = await asyncpg.connect(loaded)
    try:
        gw1 = [state("light-001", DeviceState.ONLINE), reading("light-001"),
               state("light-002", DeviceState.OFFLINE, reason="no status for 3 periods")]
        gw2 = [x for n in (201, 202, 203)
               for x in (state(f"light-{n}", DeviceState.ONLINE), reading(f"light-{n}"))]
        await write_batch(conn, [msg(envelope(1, gw1)),
                                 msg(envelope(1, gw2, gateway="demo-gw2"), gateway="demo-gw2"),
                                 status_msg(True), status_msg(False, gateway="demo-gw2")])
    finally:
        await conn.close()
    async for client in client_for(loaded):
        yield client


async def test_healthz_reports_the_database_and_storage_mode(
        api: httpx.AsyncClient) -> None:
    r = await api.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["database"], body["storage"]) == ("ok", "ok", "postgresql")
    assert body["storage_note"].startswith("plain PostgreSQL tables")


async def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    async for client in client_for("postgresql://postgres@127.0.0.1:9/nowhere", user=None):
        r = await client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "error"
    assert r.json()["storage"] == "unknown"


async def test_healthz_is_503_on_an_unmigrated_database(database: str) -> None:
    async for client in client_for(database, user=None):
        r = await client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["storage"] == "unmigrated"


async def test_communities_list_device_counts_by_kind_and_state(
        api: httpx.AsyncClient) -> None:
    r = await api.get("/api/communities")
    assert r.status_code == 200
    [demo] = r.json()
    assert (demo["id"], demo["name"], demo["district"], demo["households"]) == (
        "demo", "演示社区", "370102", 3790)
    assert demo["devices"] == {
        "total": 8, "by_kind": {"camera": 1, "light": 7},
        # unknown: light-201..203 (gateway gone), light-900 and cam-01 (never reported)
        "by_state": {"offline": 1, "online": 1, "unknown": 5, "unmonitored": 1}}


async def test_lighting_rate_counts_only_lights_heard_from_behind_an_online_gateway(
        api: httpx.AsyncClient, loaded: str) -> None:
    r = await api.get("/api/communities/demo/indicators", params={"as_of": AS_OF})
    assert r.status_code == 200
    lighting = r.json()[0]
    assert [i["id"] for i in r.json()] == [
        "smart_lighting_rate", "video_key_coverage", "video_networked_rate",
        "video_intact_rate", "video_picture_out_rate", "video_record_compliance",
        "energy_collection_rate", "smart_charging_compounds", "fire_hazard_compounds",
        "fire_alarm_coverage", "ebike_elevator_compounds", "highrise_throw_coverage",
        "access_control_compounds", "perimeter_compounds", "elderly_sos_response_rate",
        "elderly_sos_coverage", "video_networked_time_rate", "lighting_energy_saving"]
    assert (lighting["numerator"], lighting["denominator"], lighting["value"]) == (1, 6, 16.6)
    assert lighting["status"] == {"basic": "not_required", "growth": "fail"}
    assert lighting["breakdown"] == {
        "plain": ["light-101"], "silent": ["light-002"],
        "unknown": ["light-201", "light-202", "light-203"], "not_public": ["light-900"]}
    assert lighting["window"]["seconds"] == 86400

    # The gateway comes back: its lights count again at once, nothing was rewritten.
    conn = await asyncpg.connect(loaded)
    try:
        await write_batch(conn, [status_msg(True, gateway="demo-gw2")])
    finally:
        await conn.close()
    r = await api.get("/api/communities/demo/indicators", params={"as_of": AS_OF})
    lighting = r.json()[0]
    assert (lighting["numerator"], lighting["value"]) == (4, 66.6)
    assert lighting["devices"]["numerator"] == ["light-001", "light-201", "light-202",
                                                "light-203"]


async def test_window_accepts_iso_durations_and_seconds(api: httpx.AsyncClient) -> None:
    for window, seconds in (("PT30M", 1800), ("P7D", 604800), ("3600", 3600),
                            ("P1DT12H", 129600)):
        r = await api.get("/api/communities/demo/indicators",
                          params={"as_of": AS_OF, "window": window})
        assert r.status_code == 200, r.text
        assert r.json()[0]["window"]["seconds"] == seconds
    # A 30-minute window ending an hour after the readings sees none of them.
    r = await api.get("/api/communities/demo/indicators",
                      params={"as_of": AS_OF, "window": "PT30M"})
    assert r.json()[0]["numerator"] == 0


async def test_as_of_before_the_last_report_uses_the_history(api: httpx.AsyncClient) -> None:
    before = (T0 - timedelta(minutes=1)).isoformat()
    r = await api.get("/api/communities/demo/indicators", params={"as_of": before})
    assert r.json()[0]["numerator"] == 0
    assert "light-001" in r.json()[0]["breakdown"]["silent"]


@pytest.mark.parametrize(("params", "message"), [
    ({"window": "P1M"}, "window 'P1M': years and months have no fixed length; give days, "
                        "e.g. P30D"),
    ({"window": "soon"}, "window 'soon' is not an ISO 8601 duration such as PT24H or P7D, "
                         "nor a number of seconds"),
    ({"window": "0"}, "window '0' must be longer than zero"),
    ({"as_of": "2026-11-23T08:00:00"}, "as_of '2026-11-23T08:00:00' has no timezone; add Z "
                                       "(UTC) or an offset like +08:00"),
    ({"as_of": "yesterday"}, "as_of 'yesterday' is not a time such as 2026-11-23T08:00:00Z"),
])
async def test_bad_indicator_parameters_are_422_with_the_fix(
        api: httpx.AsyncClient, params: dict[str, str], message: str) -> None:
    r = await api.get("/api/communities/demo/indicators", params=params)
    assert r.status_code == 422
    assert r.json() == {"detail": message, "problems": [message]}


async def test_unknown_community_is_404_naming_it(api: httpx.AsyncClient) -> None:
    for path in ("indicators", "devices"):
        r = await api.get(f"/api/communities/atlantis/{path}")
        assert r.status_code == 404
        assert r.json()["problems"] == ["community 'atlantis' is not in the inventory (known: "
                                        "demo); import it with `scg inventory import FILE`"]


async def test_devices_show_effective_state_and_filter(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/communities/demo/devices")
    assert r.status_code == 200
    by_id = {d["id"]: d for d in r.json()}
    assert len(by_id) == 8
    one = by_id["light-001"]
    assert (one["state"], one["edge_state"], one["gateway"], one["capabilities"]) == (
        "online", "online", "demo-gw1", ["dimming", "remote_control", "fault_report"])
    assert one["last_seen"] == "2026-11-23T08:00:00Z"
    assert (by_id["light-002"]["state"], by_id["light-002"]["reason"]) == (
        "offline", "no status for 3 periods")
    assert by_id["light-101"]["state"] == "unmonitored"
    assert by_id["cam-01"]["state"] == "unknown"
    assert by_id["cam-01"]["reason"] == "no state reported yet by gateway demo-gw1"
    gone = by_id["light-201"]
    assert (gone["state"], gone["edge_state"]) == ("unknown", "online")
    assert gone["reason"] == ("gateway demo-gw2 is offline (last will); the device's own "
                              "state is unknown")

    r = await api.get("/api/communities/demo/devices",
                      params={"kind": "light", "state": "unknown"})
    assert [d["id"] for d in r.json()] == ["light-201", "light-202", "light-203", "light-900"]


async def test_bad_device_filters_are_422(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/communities/demo/devices", params={"state": "broken"})
    assert r.status_code == 422
    assert r.json()["detail"] == ("state 'broken' is not a device state; use one of online, "
                                  "degraded, offline, unknown, unmonitored")
    r = await api.get("/api/communities/demo/devices", params={"kind": "lamp"})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("kind 'lamp' is not a known device kind; use one of "
                                         "light, camera,")


async def test_openapi_documents_every_route(api: httpx.AsyncClient) -> None:
    assert (await api.get("/docs")).status_code == 200
    paths = set((await api.get("/openapi.json")).json()["paths"])
    assert paths == {"/healthz", "/api/communities", "/api/auth/token", "/login", "/logout",
                     "/api/overview",
                     "/api/communities/{community_id}/indicators",
                     "/api/communities/{community_id}/devices",
                     "/api/communities/{community_id}/cameras/records",
                     "/api/communities/{community_id}/alarms",
                     "/api/communities/{community_id}/residents",
                     "/api/communities/{community_id}/alarms/stream",
                     "/api/alarms/{alarm_id}/acknowledge", "/api/alarms/{alarm_id}/close",
                     "/api/communities/{community_id}/declared",
                     "/api/communities/{community_id}/declared/{row_id}",
                     "/api/communities/{community_id}/declared/{row_id}/history",
                     "/api/evidence/{sha256}",
                     "/communities/{community_id}/declared.html",
                     "/communities/{community_id}/declared/{row_id}",
                     "/api/communities/{community_id}/indicators/history",
                     "/api/communities/{community_id}/acceptance",
                     *(f"/communities/{{community_id}}/acceptance.{ext}"
                       for ext in ("html", "csv", "xlsx", "json")),
                     "/api/communities/{community_id}/claims",
                     "/api/communities/{community_id}/devices/{device_id}/picture",
                     # the console's pages and forms
                     "/", "/overview", "/audit", "/communities/{community_id}",
                     *(f"/communities/{{community_id}}/{page}" for page in (
                         "devices", "devices.csv", "devices/{device_id}",
                         "gateways/{gateway_id}", "indicators/{indicator_id}", "map",
                         "claims", "alarms", "alarms/{alarm_id}/acknowledge",
                         "alarms/{alarm_id}/close"))}
