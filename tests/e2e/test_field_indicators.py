"""Meters, charging stations and fire-alarm gateways over Modbus and DL/T 645, measured
through gateway, broker, ingest and API (`scg.field_plan` describes the community):

- energy collection: 400 households, one meter each; 40 silent (every tenth) and 12
  answering garbage never give a valid reading -> 348 / 400 = 87 %;
- charging: north's station shows auto power-off (a session ends full), timed charging (one
  ends on its timer) and a fault alarm (smoke); south's only auto power-off; east's sessions
  only end by unplugging -> basic 2 / 3, growth 1 / 3;
- fire alarm: six residential buildings, each with a gateway whose two public-area zones
  work; east-b2's gateway is dead -> 5 / 6.
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import Community, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def figures(c: Community, ident: str) -> tuple[int, int]:
    r = c.indicator(ident)
    return r["numerator"], r["denominator"]


def test_energy_collection_rate_from_400_modbus_and_dlt645_meters(
        field_community: Community) -> None:
    c = field_community
    wait_until(lambda: figures(c, "energy_collection_rate") == (348, 400),
               "348 of 400 households collected", timeout=120, interval=1)
    rate = c.indicator("energy_collection_rate")
    assert rate["value"] == 87.0
    assert rate["status"] == {"basic": "not_required", "growth": "pass"}
    silent_or_garbage = {f"meter-{n:03d}" for n in range(1, 401)
                         if n % 10 == 0 or n in (7, 47, 87, 127, 167, 207, 237, 247, 287,
                                                 327, 367, 397)}
    not_counted = {m for ms in rate["breakdown"].values() for m in ms}
    assert not_counted == silent_or_garbage
    expected = {"meter-010": "offline",    # Modbus unit that never answers
                "meter-007": "degraded",   # Modbus unit answering garbage
                "meter-250": "offline",    # DL/T 645 meter that never answers
                "meter-247": "degraded"}   # DL/T 645 meter with a bad checksum

    def states() -> dict[str, Any] | None:
        devices = {d["id"]: d for d in c.get("/api/communities/e2e/devices", kind="meter")}
        return devices if {m: devices[m]["state"] for m in expected} == expected else None

    devices = wait_until(states, "the meters' states to settle (three periods)", timeout=90,
                         interval=1)
    assert "checksum expected" in devices["meter-247"]["reason"]
    assert "no answer" in devices["meter-250"]["reason"]


def test_charging_per_compound_and_fire_alarm_coverage(field_community: Community) -> None:
    c = field_community
    sims = c.field_devices
    assert sims is not None
    station = {compound: sims.farm.unit("ch", i)
               for i, compound in enumerate(("north", "south", "east"), start=1)}

    # A session that ends before the driver first polls its station is the station's
    # starting state, not an event: wait until the stations are being polled.
    wait_until(lambda: {d["id"]: d["state"] for d in c.get(
        "/api/communities/e2e/devices", kind="charger")} == dict.fromkeys(
        ("charger-north", "charger-south", "charger-east"), "online"), "stations online")

    def session(compound: str, port: int, reason: str) -> None:
        st: Any = station[compound]
        st.start_session(port)
        st.end_session(port, reason)

    sims.call(session, "north", 1, "full")
    sims.call(session, "north", 2, "timer")
    sims.call(station["north"].set_alarm, "smoke", True)
    sims.call(session, "south", 1, "full")
    sims.call(session, "east", 1, "unplugged")

    def charging() -> dict[str, Any] | None:
        r = c.indicator("smart_charging_compounds")
        return r if (r["tiers"]["basic"]["numerator"], r["tiers"]["growth"]["numerator"]) \
            == (2, 1) else None

    result = wait_until(charging, "north passing both tiers, south basic only", timeout=60)
    assert result["denominator"] == 3
    assert sorted(result["tiers"]["basic"]["devices"]) == ["north", "south"]
    assert result["tiers"]["growth"]["devices"] == ["north"]
    assert result["status"] == {"basic": "fail", "growth": "fail"}
    east = result["details"]["compounds"]["east"]["basic"]
    assert not east["pass"] and "auto_power_off" in east["why"]

    # The five answering panels count as soon as they answer; the dead one is `unknown`
    # until the gateway has missed it often enough to call it offline.
    wait_until(lambda: figures(c, "fire_alarm_coverage") == (5, 6) and c.indicator(
        "fire_alarm_coverage")["breakdown"]["panel_not_online"] == ["east-b2"],
        "five of six buildings covered, east-b2's panel offline", timeout=60)
    fire = c.indicator("fire_alarm_coverage")
    assert fire["breakdown"]["panel_not_online"] == ["east-b2"]
