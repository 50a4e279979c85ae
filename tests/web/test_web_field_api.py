"""The energy, charging and fire indicators over HTTP, on a migrated database fed through
the writer with readings, events, states and gateway status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from ingest_support import T0, client_for, envelope, msg, reading, state, status_msg

from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from telemetry import DeviceState, Event, Item, Severity

AS_OF = T0 + timedelta(hours=1)
GW = "fld-gw1"

# north: e-bikes, building b01 (residential, panel fp-1), shop b03; south: e-bikes, b02 on
# the offline panel fp-2 and b04 on fp-1 with a disabled zone; east: no e-bikes, nothing.
INVENTORY = """\
community: {id: fld, name: 现场社区, district: "370102", households: 10}
compounds:
  - {id: north, ebikes: true}
  - {id: south, ebikes: true}
  - {id: east, ebikes: false}
buildings:
  - {id: b01, compound: north, floors: 18}
  - {id: b02, compound: south, floors: 11}
  - {id: b03, compound: north, floors: 2, residential: false}
  - {id: b04, compound: south, floors: 6}
devices:
  - {id: m1, kind: meter, building: b01, household: b01-0101, gateway: fld-gw1,
     protocol: modbus, address: bus1/1}
  - {id: m2, kind: meter, building: b01, household: b01-0102, gateway: fld-gw1,
     protocol: dlt645, address: tgw/000000000002}
  - {id: m3, kind: meter, building: b02, household: b02-0101, gateway: fld-gw1,
     protocol: dlt645, address: tgw/000000000003}
  - {id: m4, kind: meter, building: b02, household: b02-0102, gateway: fld-gw1,
     protocol: modbus, address: bus1/4}
  - {id: m5, kind: meter, building: b02, household: b02-0103}
  - {id: ch-n1, kind: charger, compound: north, ports: 10, gateway: fld-gw1,
     protocol: modbus, address: gw2/1}
  - {id: ch-s1, kind: charger, compound: south, ports: 10, gateway: fld-gw1,
     protocol: modbus, address: gw2/3}
  - id: fp-1
    kind: fire_panel
    building: b01
    gateway: fld-gw1
    protocol: modbus
    address: gw2/2
    hazards: [hydrant, fire_door, electrical]
    zones:
      - {zone: 1, area: public}
      - {zone: 2, area: public}
      - {zone: 3, area: private}
      - {zone: 5, building: b04, area: public}
  - {id: fp-2, kind: fire_panel, building: b02, gateway: fld-gw1, protocol: modbus,
     address: gw2/4, hazards: [hydrant], zones: [{zone: 1, area: public}]}
  - {id: lane-n, kind: fire_hazard_sensor, compound: north, hazards: [fire_lane],
     gateway: fld-gw1, protocol: mqtt, address: lane-n}
"""


def ev(device: str, type_: str, minutes: int, *, active: bool | None = None,
       severity: Severity = Severity.ALARM, **data: Any) -> Event:
    return Event(device, type_, severity, T0 + timedelta(minutes=minutes), active, data)


def energy(device: str, value: float, at: timedelta = timedelta(0)) -> Item:
    return reading(device, T0 + at, "energy_import_kwh", value)


async def write(dsn: str, *items: Item, seq: int = 1) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await write_batch(conn, [msg(envelope(seq, items, community="fld", gateway=GW),
                                     community="fld", gateway=GW),
                                 status_msg(True, community="fld", gateway=GW)])
    finally:
        await conn.close()


@pytest.fixture
async def api(migrated: str) -> AsyncIterator[httpx.AsyncClient]:
    conn = await asyncpg.connect(migrated)
    try:
        await import_inventory(conn, parse_inventory(INVENTORY, "fld.yaml"))
    finally:
        await conn.close()
    online = [state(d, DeviceState.ONLINE) for d in
              ("m1", "m2", "m3", "ch-n1", "ch-s1", "fp-1", "lane-n")]
    await write(migrated, *online,
                state("m4", DeviceState.OFFLINE, T0 + timedelta(minutes=30), "no answer"),
                state("fp-2", DeviceState.OFFLINE, T0, "no answer to 3 polls"),
                energy("m1", 1234.5),                             # valid, in the window
                energy("m2", -3.0),                               # implausible: not valid
                energy("m3", 88.0, -timedelta(days=3)),           # valid, before the window
                energy("m4", 17.25, timedelta(minutes=20)),       # valid, then went offline
                ev("ch-n1", "charge_stopped", 5, severity=Severity.INFO, port=1,
                   reason="full", energy_kwh=1.1),
                ev("ch-n1", "charge_stopped", 6, severity=Severity.INFO, port=2,
                   reason="timer", energy_kwh=0.5),
                ev("ch-n1", "port_fault", 7, active=True, port=4),
                ev("ch-s1", "charge_stopped", 5, severity=Severity.INFO, port=1,
                   reason="timer", energy_kwh=0.4),
                ev("ch-s1", "charge_stopped", 6, severity=Severity.INFO, port=3,
                   reason="unplugged", energy_kwh=0.1),
                ev("fp-1", "zone_fire", 10, active=True, severity=Severity.CRITICAL, zone=1),
                ev("fp-1", "zone_disabled", 11, active=True, severity=Severity.WARNING,
                   zone=2),
                ev("fp-1", "zone_disabled", 12, active=False, severity=Severity.WARNING,
                   zone=2),
                ev("fp-1", "zone_disabled", 13, active=True, severity=Severity.WARNING,
                   zone=5))
    async for client in client_for(migrated):
        yield client


async def indicators(api: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    r = await api.get("/api/communities/fld/indicators",
                      params={"as_of": AS_OF.isoformat(), **params})
    assert r.status_code == 200, r.text
    return {i["id"]: i for i in r.json()}


def figure(result: dict[str, Any]) -> tuple[int, int, float | None]:
    return result["numerator"], result["denominator"], result["value"]


async def test_field_indicators_come_after_video_in_a_stable_order(
        api: httpx.AsyncClient) -> None:
    assert list(await indicators(api))[6:10] == [
        "energy_collection_rate", "smart_charging_compounds", "fire_hazard_compounds",
        "fire_alarm_coverage"]


async def test_energy_counts_valid_readings_in_48_hours_over_declared_households(
        api: httpx.AsyncClient) -> None:
    got = (await indicators(api))["energy_collection_rate"]
    assert figure(got) == (2, 10, 20.0)
    assert got["status"] == {"basic": "not_required", "growth": "fail"}
    assert got["window"]["seconds"] == 48 * 3600
    assert got["devices"] == {"numerator": ["m1", "m4"],
                              "denominator": ["m1", "m2", "m3", "m4", "m5"]}
    assert got["breakdown"] == {"no_household": [], "not_remote": ["m5"], "unknown": [],
                                "offline": [], "silent": ["m2", "m3"]}
    assert got["details"]["counted_not_online"] == ["m4"]
    assert got["details"]["households"] == {"declared": 10, "metered": 5, "collected": 2,
                                            "without_meter": 5}


async def test_an_explicit_window_applies_and_a_past_as_of_sees_the_past(
        api: httpx.AsyncClient) -> None:
    wide = (await indicators(api, window="P4D"))["energy_collection_rate"]
    assert (wide["numerator"], wide["window"]["seconds"]) == (3, 4 * 86400)
    before = await indicators(api, as_of=(T0 + timedelta(minutes=10)).isoformat())
    assert before["energy_collection_rate"]["devices"]["numerator"] == ["m1"]
    # Before fp-1 reported the disabled zone 5, building b04 was covered.
    assert before["fire_alarm_coverage"]["devices"]["numerator"] == ["b01", "b04"]


async def test_smart_charging_per_tier_with_the_failing_compound_explained(
        api: httpx.AsyncClient) -> None:
    got = (await indicators(api))["smart_charging_compounds"]
    assert figure(got) == (1, 2, 50.0)
    assert got["status"] == {"basic": "fail", "growth": "fail"}
    assert got["window"]["seconds"] == 7 * 86400
    assert got["devices"] == {"numerator": ["north"], "denominator": ["north", "south"]}
    assert {t: (f["numerator"], f["devices"]) for t, f in got["tiers"].items()} == {
        "basic": (1, ["north"]), "growth": (1, ["north"])}
    assert got["breakdown"]["functions_not_shown"] == ["south"]
    assert got["breakdown"]["no_ebikes"] == ["east"]
    assert got["details"]["compounds"]["south"]["basic"]["why"] == (
        "no online station showed auto_power_off in the window: ch-s1 lacks auto_power_off")
    assert got["details"]["stations"]["ch-n1"]["shown"] == {
        "auto_power_off": f"charge_stopped (full, port 1) at "
                          f"{(T0 + timedelta(minutes=5)).isoformat()}",
        "timed_charging": f"charge_stopped (timer, port 2) at "
                          f"{(T0 + timedelta(minutes=6)).isoformat()}",
        "fault_alarm": f"port_fault (port 4) at {(T0 + timedelta(minutes=7)).isoformat()}"}


async def test_fire_alarm_coverage_and_hazard_detection(api: httpx.AsyncClient) -> None:
    got = await indicators(api)
    cover = got["fire_alarm_coverage"]
    assert figure(cover) == (1, 3, 33.3)
    assert cover["breakdown"] == {"no_public_zone": [], "panel_not_online": ["b02"],
                                  "transmission_device_not_online": [],
                                  "zone_disabled": ["b04"], "zone_fault": [], "unknown": [],
                                  "not_residential": ["b03"]}
    assert cover["details"]["buildings"]["b01"] == {"zones": ["fp-1:1", "fp-1:2"],
                                                    "failing": {}}
    hazards = got["fire_hazard_compounds"]
    assert figure(hazards) == (1, 3, 33.3)
    assert hazards["status"] == {"basic": "not_required", "growth": "fail"}
    assert hazards["breakdown"] == {"no_fire_lane": ["east", "south"],
                                    "no_hydrant": ["east", "south"],
                                    "no_fire_door": ["east", "south"],
                                    "no_electrical": ["east", "south"]}
    assert hazards["details"]["compounds"]["south"]["not_online"] == {
        "hydrant": [f"fp-2 offline since {T0.isoformat()}: no answer to 3 polls"]}


async def test_a_lost_gateway_makes_the_fire_panels_unknown(
        api: httpx.AsyncClient, migrated: str) -> None:
    conn = await asyncpg.connect(migrated)
    try:
        await write_batch(conn, [status_msg(False, community="fld", gateway=GW,
                                            t=T0 + timedelta(minutes=40))])
    finally:
        await conn.close()
    got = await indicators(api)
    cover = got["fire_alarm_coverage"]
    # Behind a lost gateway the panels' own states — offline or not — are unknown, and so
    # are their zones' conditions: shown apart, counted as not covered.
    assert (cover["numerator"], cover["breakdown"]["unknown"]) == (0, ["b01", "b02", "b04"])
    assert cover["details"]["buildings"]["b01"]["failing"]["fp-1:1"] == (
        f"panel fp-1 unknown since {(T0 + timedelta(minutes=40)).isoformat()}: gateway "
        "fld-gw1 is offline (last will); the device's own state is unknown")
    # Readings in the window still count: the reading decides, not the state.
    assert got["energy_collection_rate"]["numerator"] == 2
    assert got["smart_charging_compounds"]["breakdown"]["unknown"] == ["north", "south"]
