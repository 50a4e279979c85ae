"""Meters, charging stations, fire panels and hazard sensors in the inventory: the new keys,
every problem with its key path and fix, and the import into the database."""

from __future__ import annotations

import asyncpg
import pytest

from indicators.fire import HAZARD_KINDS as COUNTED_HAZARDS
from inventory import (
    HAZARD_KINDS,
    FireZone,
    InventoryError,
    import_inventory,
    parse_inventory,
)

HEAD = """\
community: {id: demo, name: 演示社区, district: "370102", households: 400}
compounds:
  - {id: north, closed: true, ebikes: true}
buildings:
  - {id: b01, compound: north, floors: 18, residential: true}
  - {id: b02, compound: north, floors: 6}
"""

FIELD = HEAD + """\
devices:
  - {id: meter-b01-0101, kind: meter, building: b01, household: b01-0101,
     gateway: demo-gw1, protocol: modbus, address: bus1/3}
  - {id: "meter-b02-{n:04d}", repeat: 2, start: 101, kind: meter, building: b02,
     household: "b02-{n:04d}", gateway: demo-gw1, protocol: dlt645, address: "tgw/{n:012d}"}
  - {id: charger-north-1, kind: charger, compound: north, ports: 10,
     gateway: demo-gw1, protocol: modbus, address: gw2/1}
  - id: fire-gw-b01
    kind: fire_panel
    building: b01
    gateway: demo-gw1
    protocol: modbus
    address: gw2/2
    zones:
      - {zone: 1, building: b01, area: public}
      - {zone: 2, area: public}
      - {zone: 3, building: b02, area: private}
    hazards: [hydrant, fire_door, electrical]
  - {id: lane-cam-north, kind: fire_hazard_sensor, compound: north, hazards: [fire_lane],
     gateway: demo-gw1, protocol: mqtt, address: lane-cam-north}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InventoryError) as err:
        parse_inventory(text, "inv.yaml")
    return err.value.problems


def test_field_devices_parse_with_households_ports_zones_and_hazards() -> None:
    inv = parse_inventory(FIELD, "field.yaml")
    by_id = {d.id: d for d in inv.devices}
    assert [d.id for d in inv.devices] == ["meter-b01-0101", "meter-b02-0101",
                                           "meter-b02-0102", "charger-north-1", "fire-gw-b01",
                                           "lane-cam-north"]
    assert [d.household for d in inv.devices[:3]] == ["b01-0101", "b02-0101", "b02-0102"]
    assert by_id["meter-b02-0102"].address == "tgw/000000000102"
    assert (by_id["charger-north-1"].ports, by_id["charger-north-1"].compound) == (10, "north")
    panel = by_id["fire-gw-b01"]
    # zone 2 names no building: it is in the panel's building
    assert panel.zones == (FireZone(1, "b01", "public"), FireZone(2, "b01", "public"),
                           FireZone(3, "b02", "private"))
    assert [z.public for z in panel.zones] == [True, True, False]
    assert panel.hazards == ("hydrant", "fire_door", "electrical")
    assert by_id["lane-cam-north"].hazards == ("fire_lane",)
    assert by_id["meter-b01-0101"].hazards == () and by_id["meter-b01-0101"].zones == ()


def test_the_indicators_count_the_hazard_kinds_the_inventory_accepts() -> None:
    assert tuple(HAZARD_KINDS) == COUNTED_HAZARDS


def test_meter_problems_name_the_key_and_the_fix() -> None:
    got = problems(HEAD + """\
devices:
  - {id: m1, kind: meter, gateway: g, protocol: modbus}
  - {id: m2, kind: meter, household: 101}
  - {id: m3, kind: meter, household: b01-0101}
  - {id: "m-{n}", repeat: 2, kind: meter, household: b01-0101}
  - {id: l1, kind: light, household: b01-0102}
""")
    assert got == [
        "devices[0].household: is required for a meter: name the household it serves (e.g. "
        "household: b01-0101), one meter per household in the community",
        "devices[1].household: must be a non-empty string, got 101; quote it",
        "devices[3].household: 'b01-0101' (n=1) is already served by m3 (devices[2]); "
        "household ids must be unique in the community (one meter per household)",
        "devices[3].household: 'b01-0101' (n=2) is already served by m3 (devices[2]); "
        "household ids must be unique in the community (one meter per household)",
        "devices[4].household: only meter devices have household; this device is a light: "
        "remove household or correct the kind",
    ]


def test_more_metered_households_than_declared_is_a_problem() -> None:
    text = HEAD.replace("households: 400", "households: 1") + """\
devices:
  - {id: "m-{n}", repeat: 2, kind: meter, household: "h-{n}"}
"""
    assert problems(text) == [
        "community.households: declares 1 households but meters serve 2 distinct households; "
        "correct the count or the meters' household ids"]


def test_charger_and_hazard_problems_name_the_key_and_the_fix() -> None:
    got = problems(HEAD + """\
devices:
  - {id: c1, kind: charger, ports: 0}
  - {id: c2, kind: charger, compound: north, ports: ten}
  - {id: cam1, kind: camera, ports: 4, hazards: [fire_lane]}
  - {id: s1, kind: fire_hazard_sensor, compound: north}
  - {id: s2, kind: fire_hazard_sensor, compound: north, hazards: [fire_lane, smoke, gas]}
  - {id: s3, kind: fire_hazard_sensor, hazards: [hydrant]}
  - {id: s4, kind: fire_hazard_sensor, compound: north, hazards: fire_door}
  - {id: p1, kind: fire_panel, hazards: [hydrant]}
  - {id: p2, kind: fire_panel, zones: [{zone: 1, building: b01, area: public}]}
""")
    assert got == [
        "devices[0].ports: must be a whole number >= 1, got 0",
        "devices[0].compound: is required for this charger: smart charging is judged per "
        "compound; add compound: (or building: in a compound)",
        "devices[1].ports: must be a whole number >= 1, got 'ten'",
        "devices[2].ports: only charger devices have ports; this device is a camera: remove "
        "ports or correct the kind",
        "devices[2].hazards: only fire_panel and fire_hazard_sensor devices have hazards; this "
        "device is a camera: remove hazards or correct the kind",
        "devices[3].hazards: is required for a fire_hazard_sensor: list what it detects, from "
        "fire_lane, hydrant, fire_door, electrical",
        "devices[4].hazards: unknown hazard kinds 'smoke', 'gas'; use fire_lane, hydrant, "
        "fire_door, electrical",
        "devices[5].compound: is required for this fire_hazard_sensor: fire-hazard detection "
        "is judged per compound; add compound: (or building: in a compound)",
        "devices[6].hazards: must be a list of hazard kinds from fire_lane, hydrant, "
        "fire_door, electrical, got 'fire_door'",
        "devices[7].compound: is required for this fire_panel: fire-hazard detection is "
        "judged per compound; add compound: (or building: in a compound)",
    ]


def test_zone_problems_name_the_zone_and_the_fix() -> None:
    got = problems(HEAD + """\
devices:
  - id: p1
    kind: fire_panel
    building: b01
    zones:
      - {zone: 1, area: public}
      - {zone: 1, area: public}
      - {zone: 2, building: b09, area: public}
      - {zone: 3, area: lobby}
      - {building: b01, area: private, floor: 3}
      - {zone: 4}
      - 5
  - {id: p2, kind: fire_panel, zones: [{zone: 1, area: public}]}
  - {id: p3, kind: fire_panel, building: b01, zones: {zone: 1}}
  - {id: m1, kind: meter, household: h1, zones: [{zone: 1, area: public}]}
""")
    assert got == [
        "devices[0].zones[1].zone: 1 is already listed at devices[0].zones[0]; zone numbers "
        "must be unique per panel",
        "devices[0].zones[2].building: 'b09' is not in buildings (known: b01, b02); add it "
        "under buildings or correct the id",
        "devices[0].zones[3].area: is 'lobby'; say public or private (public-area zones "
        "decide automatic fire alarm coverage)",
        "devices[0].zones[4].floor: unknown key; known keys are zone, building, area, loop, "
        "points (put other facts under attrs)",
        "devices[0].zones[4].zone: is required: the zone number the panel reports in its "
        "events (data.zone)",
        "devices[0].zones[5].area: is required; say public or private (public-area zones "
        "decide automatic fire alarm coverage)",
        "devices[0].zones[6]: must be a mapping {zone: N, building: ID, area: public|private}, "
        "got 5",
        "devices[1].zones[0].building: is required (the panel has no building of its own): "
        "name the building this zone watches",
        "devices[2].zones: must be a list of {zone: N, building: ID, area: public|private}, "
        "got {'zone': 1}",
        "devices[3].zones: only fire_panel devices have zones; this device is a meter: remove "
        "zones or correct the kind",
    ]


async def test_import_stores_households_hazards_and_zones(conn: asyncpg.Connection) -> None:
    await import_inventory(conn, parse_inventory(FIELD, "field.yaml"))
    rows = await conn.fetch("SELECT id, household, ports, hazards FROM devices "
                            "WHERE community = 'demo' ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("charger-north-1", None, 10, []),
        ("fire-gw-b01", None, None, ["hydrant", "fire_door", "electrical"]),
        ("lane-cam-north", None, None, ["fire_lane"]),
        ("meter-b01-0101", "b01-0101", None, []),
        ("meter-b02-0101", "b02-0101", None, []),
        ("meter-b02-0102", "b02-0102", None, []),
    ]
    zones = await conn.fetch("SELECT panel, zone, building, area FROM fire_zones "
                             "ORDER BY panel, zone")
    assert [tuple(z) for z in zones] == [("fire-gw-b01", 1, "b01", "public"),
                                         ("fire-gw-b01", 2, "b01", "public"),
                                         ("fire-gw-b01", 3, "b02", "private")]

    # Re-importing with the panel's zones changed replaces them; building b02 can go
    # because no zone points at it any more.
    again = FIELD.replace("      - {zone: 3, building: b02, area: private}\n", "").replace(
        "  - {id: b02, compound: north, floors: 6}\n", "").replace(
        'building: b02,\n     household: "b02-{n:04d}"', 'compound: north,\n     '
        'household: "b02-{n:04d}"')
    await import_inventory(conn, parse_inventory(again, "field.yaml"))
    zones = await conn.fetch("SELECT zone FROM fire_zones ORDER BY zone")
    assert [z["zone"] for z in zones] == [1, 2]
    assert await conn.fetchval("SELECT count(*) FROM buildings") == 1


async def test_the_database_refuses_a_second_meter_for_a_household(
        conn: asyncpg.Connection) -> None:
    await import_inventory(conn, parse_inventory(FIELD, "field.yaml"))
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute("INSERT INTO devices (community, id, kind, household) "
                           "VALUES ('demo', 'meter-x', 'meter', 'b01-0101')")
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("UPDATE devices SET hazards = '{smoke}' WHERE id = 'lane-cam-north'")
