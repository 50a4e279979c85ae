"""The safety indicators over HTTP for a community with passing, failing, missing and
unknown devices, fed through the real writer: e-bikes in elevators, fire hazards from
MQTT sensors and a Modbus panel, high-rise throw detection per tier, access control,
perimeter detection and SOS coverage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from safety_support import AS_OF, Clock, api, by_id, ev, load_community, write

from indicators.load import INDICATOR_IDS
from telemetry import Severity

pytestmark = pytest.mark.asyncio

SAFETY_IDS = ("ebike_elevator_compounds", "highrise_throw_coverage",
              "access_control_compounds", "perimeter_compounds",
              "elderly_sos_response_rate", "elderly_sos_coverage")


def lockout(device: str, at_minutes: int, detector: str, latency_ms: int) -> list[Any]:
    start = AS_OF - timedelta(minutes=at_minutes)
    return [ev(device, "ebike_lockout", start, active=True, rule="lockout-n2",
               detector=detector, latency_ms=latency_ms),
            ev(device, "ebike_lockout", start + timedelta(seconds=40), active=False,
               rule="lockout-n2", detector=detector, held_s=40)]


@pytest.fixture
async def indicators(migrated: str) -> dict[str, dict[str, Any]]:
    conn = await asyncpg.connect(migrated)
    try:
        await load_community(conn)
        await write(conn,
                    # north: lift-n1 by its own alarm, lift-n2 by its rule's lock-outs
                    ev("cam-n1", "ebike_detected", AS_OF - timedelta(days=1), confidence=0.9),
                    *lockout("ctl-n2", 120, "cam-n2", 850),
                    *lockout("ctl-n2", 60, "cam-n2", 1250),
                    # south: its detector's only alarm is older than the 7-day window
                    ev("cam-s1", "ebike_detected", AS_OF - timedelta(days=8),
                       confidence=0.8),
                    # an info event is no alarm: it shows nothing
                    ev("cam-s1", "ebike_left", AS_OF - timedelta(hours=1),
                       severity=Severity.INFO))
        # west: an alarm from a detector whose gateway then went away
        await write(conn, ev("cam-w1", "ebike_detected", AS_OF - timedelta(days=2)),
                    gateway="safe-gw2", now=AS_OF - timedelta(days=2))
    finally:
        await conn.close()
    async with api(migrated, Clock(AS_OF)) as (_, client):
        r = await client.get("/api/communities/safe/indicators",
                             params={"as_of": AS_OF.isoformat()})
        assert r.status_code == 200, r.text
        return by_id(r.json())


async def test_safety_indicators_follow_the_existing_ones_in_order(
        indicators: dict[str, dict[str, Any]]) -> None:
    assert tuple(indicators) == INDICATOR_IDS
    # The safety group, then the windowed networked rate and the energy saving.
    assert INDICATOR_IDS[-8:-2] == SAFETY_IDS


async def test_compounds_pass_ebike_recognition_only_when_every_elevator_shows_an_alarm(
        indicators: dict[str, dict[str, Any]]) -> None:
    r = indicators["ebike_elevator_compounds"]
    assert (r["numerator"], r["denominator"], r["value"]) == (1, 4, 25.0)
    assert r["thresholds"] == {"basic": 50.0, "growth": 80.0}
    assert r["status"] == {"basic": "fail", "growth": "fail"}
    assert r["devices"] == {"numerator": ["north"],
                            "denominator": ["east", "north", "south", "west"]}
    assert r["breakdown"] == {"elevators_not_registered": [], "no_detector": ["east"],
                              "detector_not_online": [], "alarm_not_shown": ["south"],
                              "unknown": ["west"], "no_elevators": ["centre"],
                              "elevators_unstated": []}
    lifts = r["details"]["elevators"]
    assert lifts["lift-n1"]["why"] == "ebike_detected alarm from cam-n1 at " \
        "2026-11-23T08:00:00+00:00"
    assert lifts["lift-n2"]["why"] == "ebike_lockout alarm from cam-n2 at " \
        "2026-11-24T07:00:00+00:00"
    assert (lifts["lift-n2"]["lockouts"], lifts["lift-n1"]["lockouts"]) == (2, 0)
    assert lifts["lift-w1"]["why"].startswith("no detector answers: cam-w1 unknown")
    assert r["details"]["lockout"] == {"count": 2, "median_ms": 1050.0, "max_ms": 1250.0,
                                       "without_latency": 0}


async def test_fire_hazard_detection_counts_mqtt_sensors_and_modbus_panels_together(
        indicators: dict[str, dict[str, Any]]) -> None:
    r = indicators["fire_hazard_compounds"]
    assert (r["numerator"], r["denominator"]) == (1, 5)
    assert r["details"]["compounds"]["north"]["detectors"] == {
        "fire_lane": ["hz-n"], "hydrant": ["hz-n"], "fire_door": ["hz-n"],
        "electrical": ["fp-n"]}


async def test_high_rise_buildings_count_per_tier_and_lower_ones_not_at_all(
        indicators: dict[str, dict[str, Any]]) -> None:
    r = indicators["highrise_throw_coverage"]
    # The top-level figure is the growth tier's, the highest tier requiring the row.
    assert (r["numerator"], r["denominator"], r["value"]) == (1, 5, 20.0)
    assert r["status"] == {"basic": "fail", "growth": "fail"}
    basic, growth = r["tiers"]["basic"], r["tiers"]["growth"]
    # basic: n1 (26 floors, 3-14 + 12-26 answering) and s1 (20, 5-20: floors 3-4 unwatched)
    assert (basic["denominator_devices"], basic["devices"]) == (["n1", "s1"], ["n1"])
    assert basic["breakdown"] == {
        "no_camera": [], "floors_not_covered": ["s1"], "not_online": [], "unknown": [],
        "below_threshold": ["e1", "n2", "n3", "w1"], "floors_unregistered": [],
        "not_residential": ["s2"]}
    # growth adds n2 (15, its camera offline), e1 (18, behind the lost gateway), w1 (12)
    assert (growth["numerator"], growth["denominator"], growth["value"]) == (1, 5, 20.0)
    assert growth["denominator_devices"] == ["e1", "n1", "n2", "s1", "w1"]
    assert growth["breakdown"] == {
        "no_camera": ["w1"], "floors_not_covered": ["s1"], "not_online": ["n2"],
        "unknown": ["e1"], "below_threshold": ["n3"], "floors_unregistered": [],
        "not_residential": ["s2"]}
    buildings = r["details"]["buildings"]
    assert buildings["s1"]["why"] == "floors 3-4 are not watched by an answering camera"
    assert buildings["n3"] == {"floors": 8, "compound": "north", "residential": True,
                               "eligible": [], "cameras": {"tc-n3": [3, 8]}}
    assert buildings["n2"]["eligible"] == ["growth"]


async def test_closed_compounds_need_online_gates_for_people_and_vehicles(
        indicators: dict[str, dict[str, Any]]) -> None:
    r = indicators["access_control_compounds"]
    assert (r["numerator"], r["denominator"], r["value"]) == (1, 4, 25.0)
    assert r["status"] == {"basic": "fail", "growth": "fail"}
    assert r["breakdown"] == {"no_person_gate": [], "no_vehicle_gate": ["centre"],
                              "not_online": ["south"], "unknown": ["east"],
                              "not_closed": ["west"], "closed_unstated": []}
    east = r["details"]["compounds"]["east"]
    assert east["person"] == {"online": ["gate-e-p"], "not_online": []}
    assert east["vehicle"]["not_online"][0].startswith("gate-e-v unknown")


async def test_closed_compounds_need_an_online_perimeter_detector(
        indicators: dict[str, dict[str, Any]]) -> None:
    r = indicators["perimeter_compounds"]
    assert (r["numerator"], r["denominator"]) == (1, 4)
    assert r["breakdown"] == {"no_detector": ["centre"], "not_online": ["south"],
                              "unknown": ["east"], "not_closed": ["west"],
                              "closed_unstated": []}


async def test_sos_coverage_counts_lone_elderly_with_an_online_button(
        indicators: dict[str, dict[str, Any]]) -> None:
    r = indicators["elderly_sos_coverage"]
    assert (r["numerator"], r["denominator"], r["value"]) == (1, 4, 25.0)
    assert r["status"] == {"basic": "not_required", "growth": "fail"}
    assert r["breakdown"] == {"not_online": ["sos-2"], "unknown": ["sos-3"]}
    assert r["details"]["residents"] == {"declared": 4, "with_device": 3,
                                         "with_online_device": 1, "without_device": 1}
    rate = indicators["elderly_sos_response_rate"]
    assert (rate["denominator"], rate["status"]) == (
        0, {"basic": "not_required", "growth": "no_data"})
