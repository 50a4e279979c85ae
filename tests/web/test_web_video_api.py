"""The video indicators and camera records over HTTP, on a migrated database fed through
the writer with states, probes and tamper events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from ingest_support import T0, client_for, envelope, msg, state, status_msg
from video_support import VIDEO_INVENTORY, probe

from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from telemetry import DeviceState, Event, Severity

AS_OF = (T0 + timedelta(minutes=30)).isoformat()


def tamper(active: bool, minutes: int) -> Event:
    return Event("cam-04", "tamper", Severity.ALARM, T0 + timedelta(minutes=minutes), active)


async def write(dsn: str, *messages: Any) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await write_batch(conn, list(messages))
    finally:
        await conn.close()


@pytest.fixture
async def api(migrated: str) -> AsyncIterator[httpx.AsyncClient]:
    """Community `vid`: cam-01 online and good; cam-02 refuses our credentials; cam-03
    answers with a black picture; cam-04 good picture but tampered with; cam-05 online, not
    public; cam-06 has no protocol. Gateway vid-gw1 is online."""
    conn = await asyncpg.connect(migrated)
    try:
        await import_inventory(conn, parse_inventory(VIDEO_INVENTORY, "vid.yaml"))
    finally:
        await conn.close()
    at = T0 + timedelta(minutes=10)
    items = [
        state("cam-01", DeviceState.ONLINE), probe("cam-01", at),
        state("cam-02", DeviceState.DEGRADED,
              reason="wrong credentials: camera answered NotAuthorized"),
        probe("cam-02", at, "auth", reason="NotAuthorized"),
        state("cam-03", DeviceState.DEGRADED, reason="picture black (mean 12.0)"),
        probe("cam-03", at, "black"),
        state("cam-04", DeviceState.ONLINE), probe("cam-04", at), tamper(True, 5),
        state("cam-05", DeviceState.ONLINE), probe("cam-05", at),
    ]
    await write(migrated, msg(envelope(1, items, community="vid", gateway="vid-gw1"),
                              community="vid", gateway="vid-gw1"),
                status_msg(True, community="vid", gateway="vid-gw1"))
    async for client in client_for(migrated):
        yield client


async def indicators(api: httpx.AsyncClient, as_of: str = AS_OF) -> dict[str, Any]:
    r = await api.get("/api/communities/vid/indicators", params={"as_of": as_of})
    assert r.status_code == 200, r.text
    return {i["id"]: i for i in r.json()}


def counts(result: dict[str, Any]) -> tuple[int, int, float | None]:
    return result["numerator"], result["denominator"], result["value"]


async def test_video_indicators_follow_the_stored_facts(api: httpx.AsyncClient) -> None:
    got = await indicators(api)
    assert list(got) == ["smart_lighting_rate", "video_key_coverage", "video_networked_rate",
                         "video_intact_rate", "video_picture_out_rate",
                         "video_record_compliance", "energy_collection_rate",
                         "smart_charging_compounds", "fire_hazard_compounds",
                         "fire_alarm_coverage", "ebike_elevator_compounds",
                         "highrise_throw_coverage", "access_control_compounds",
                         "perimeter_compounds", "elderly_sos_response_rate",
                         "elderly_sos_coverage", "video_networked_time_rate",
                         "lighting_energy_saving"]
    cover = got["video_key_coverage"]
    assert counts(cover) == (1, 4, 25.0)
    assert cover["devices"] == {"numerator": ["kp-gate-n"],
                                "denominator": ["kp-fire", "kp-gate-n", "kp-park", "kp-road"]}
    assert cover["breakdown"] == {"no_camera": ["kp-fire"], "unknown": [],
                                  "not_intact": ["kp-park", "kp-road"]}
    assert cover["status"] == {"basic": "fail", "growth": "fail"}

    net = got["video_networked_rate"]
    assert counts(net) == (3, 4, 75.0)
    assert net["devices"]["numerator"] == ["cam-01", "cam-03", "cam-04"]
    assert net["breakdown"]["no_access"] == ["cam-02"]
    assert net["details"]["degraded_counted"] == ["cam-03"]

    intact = got["video_intact_rate"]
    assert counts(intact) == (1, 4, 25.0)
    assert {k: v for k, v in intact["breakdown"].items() if v} == {
        "no_access": ["cam-02"], "open_fault": ["cam-04"], "bad_picture": ["cam-03"]}

    out = got["video_picture_out_rate"]
    assert counts(out) == (2, 5, 40.0)
    assert out["devices"]["numerator"] == ["cam-01", "cam-04"]
    assert {k: v for k, v in out["breakdown"].items() if v} == {
        "auth": ["cam-02"], "black": ["cam-03"], "never_probed": ["cam-06"],
        "not_public": ["cam-05"]}
    assert out["window"] == {"from": "2026-11-23T07:30:00Z", "to": "2026-11-23T08:30:00Z",
                             "seconds": 3600}

    records = got["video_record_compliance"]
    assert counts(records) == (3, 6, 50.0)
    assert records["breakdown"] == {"code": ["cam-03"], "civil_code": [], "name": ["cam-02"],
                                    "coordinates": ["cam-04"]}
    assert records["details"]["failed_checks"] == {"code": 1, "civil_code": 0, "name": 1,
                                                   "coordinates": 1}
    assert records["details"]["problems"]["cam-03"] == [
        "code: digits 11-13 are 118, expected 131 (camera) or 132 (IPC); 118 is the type of "
        "an NVR, not a camera"]


async def test_a_cleared_fault_and_a_lost_gateway_change_the_figures(
        api: httpx.AsyncClient, migrated: str) -> None:
    await write(migrated, msg(envelope(2, [tamper(False, 20)], community="vid",
                                       gateway="vid-gw1"), community="vid", gateway="vid-gw1"))
    got = await indicators(api)
    assert counts(got["video_intact_rate"]) == (2, 4, 50.0)
    assert got["video_key_coverage"]["devices"]["numerator"] == ["kp-gate-n", "kp-road"]
    # Before the fault cleared it was still open.
    earlier = await indicators(api, (T0 + timedelta(minutes=15)).isoformat())
    assert earlier["video_intact_rate"]["breakdown"]["open_fault"] == ["cam-04"]

    await write(migrated, status_msg(False, community="vid", gateway="vid-gw1",
                                     t=T0 + timedelta(minutes=25)))
    got = await indicators(api, (T0 + timedelta(days=3)).isoformat())
    net = got["video_networked_rate"]
    assert counts(net) == (0, 4, 0.0)
    assert net["breakdown"]["unknown"] == ["cam-01", "cam-02", "cam-03", "cam-04"]
    assert got["video_picture_out_rate"]["breakdown"]["unknown"] == [
        "cam-01", "cam-02", "cam-03", "cam-04"]
    assert got["video_key_coverage"]["breakdown"]["unknown"] == ["kp-gate-n", "kp-park",
                                                                 "kp-road"]


async def test_before_any_report_every_camera_is_unknown(api: httpx.AsyncClient) -> None:
    got = await indicators(api, (T0 - timedelta(minutes=1)).isoformat())
    assert counts(got["video_networked_rate"]) == (0, 4, 0.0)
    assert got["video_networked_rate"]["breakdown"]["unknown"] == [
        "cam-01", "cam-02", "cam-03", "cam-04"]
    assert got["video_picture_out_rate"]["breakdown"]["unknown"] == [
        "cam-01", "cam-02", "cam-03", "cam-04"]
    assert got["video_picture_out_rate"]["breakdown"]["never_probed"] == ["cam-06"]
    assert counts(got["video_record_compliance"]) == (3, 6, 50.0)


async def test_camera_records_list_every_check(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/communities/vid/cameras/records")
    assert r.status_code == 200
    by_id = {c["id"]: c for c in r.json()}
    assert list(by_id) == ["cam-01", "cam-02", "cam-03", "cam-04", "cam-05", "cam-06"]
    good = by_id["cam-01"]
    assert (good["passed"], good["failed_checks"], good["notes"]) == (True, [], [])
    assert good["checks"]["code"] == {"passed": True, "problems": []}
    assert (good["code"], good["civil_code"], good["key_position"], good["origin"]) == (
        "37010200001320000001", "370102", "kp-gate-n", "inventory")
    zero = by_id["cam-04"]
    assert zero["failed_checks"] == ["coordinates"]
    assert zero["checks"]["coordinates"] == {"passed": False, "problems": [
        "longitude/latitude: 0, 0 is a placeholder, not a position; survey the camera and "
        "enter its WGS-84 coordinates"]}
    assert by_id["cam-02"]["checks"]["name"]["problems"] == [
        "name: 'IPCamera' is a factory default; rename it after the place the camera watches "
        "(e.g. 北苑北门入口)"]
    r = await api.get("/api/communities/atlantis/cameras/records")
    assert r.status_code == 404
