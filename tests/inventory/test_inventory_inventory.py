from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from ingest_support import INVENTORY, envelope, msg, reading

from ingest.writer import write_batch
from inventory import (
    Device,
    InventoryError,
    import_inventory,
    load_inventory,
    parse_inventory,
)

HEAD = """\
community: {id: demo, name: 演示社区, district: "370102"}
compounds:
  - {id: north}
buildings:
  - {id: b01, compound: north}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InventoryError) as err:
        parse_inventory(text, "inv.yaml")
    return err.value.problems


def test_sample_inventory_parses_with_defaults_and_expanded_templates() -> None:
    inv = parse_inventory(INVENTORY, "sample.yaml")
    assert inv.community.id == "demo"
    assert inv.community.district == "370102"
    assert inv.community.households == 3790
    assert [c.id for c in inv.compounds] == ["north", "south"]
    assert inv.compounds[0].closed and not inv.compounds[1].closed
    ids = [d.id for d in inv.devices]
    assert ids == ["light-001", "light-002", "light-101", "light-900", "cam-01",
                   "light-201", "light-202", "light-203"]
    plain = inv.devices[2]
    assert (plain.public, plain.protocol, plain.gateway, plain.capabilities) == (
        True, None, None, ())
    # a device in a building is in that building's compound
    assert inv.devices[4].compound == "north"
    assert inv.devices[6] == Device(
        id="light-202", kind="light", compound="south", gateway="demo-gw2", protocol="mqtt",
        address="addr-202", capabilities=("remote_control",))


def test_template_without_start_counts_from_one() -> None:
    inv = parse_inventory(HEAD + 'devices:\n'
                                 '  - {id: "m-{n:02d}", kind: meter, household: "h-{n}", '
                                 'repeat: 3}\n')
    assert [d.id for d in inv.devices] == ["m-01", "m-02", "m-03"]


def test_every_problem_is_reported_with_its_key_path_and_fix() -> None:
    got = problems(HEAD + """\
devices:
  - {id: a, kind: lamp}
  - {id: b, kind: light, compound: west}
  - {id: c, kind: light, building: b02}
  - {id: a, kind: light}
  - {id: d, kind: light, protocol: mqtt}
  - {id: e, kind: light, capabilities: [dimming]}
  - {id: f, kind: light, colour: red}
""")
    assert got == [
        "devices[0].kind: 'lamp' is not a known kind; use one of light, camera, meter, "
        "charger, fire_panel, fire_detector, fire_hazard_sensor, ebike_detector, elevator, "
        "elevator_controller, sos_button, manhole_cover, access_gate, perimeter_detector, "
        "throw_camera, garbage_monitor, fire_transmission_device",
        "devices[1].compound: 'west' is not in compounds (known: north); add it under "
        "compounds or correct the id",
        "devices[2].building: 'b02' is not in buildings (known: b01); add it under buildings "
        "or correct the id",
        "devices[3].id: 'a' is already used by devices[0]; device ids must be unique in the "
        "community",
        "devices[4].gateway: is required when protocol is set: name the gateway that reports "
        "this device",
        "devices[5].capabilities: are listed but protocol is not set; a device without a "
        "controller cannot offer them: add protocol (and gateway) or remove capabilities",
        "devices[6].colour: unknown key; known keys are id, kind, name, compound, building, "
        "public, gateway, protocol, address, capabilities, attrs, code, civil_code, longitude, "
        "latitude, key_position, household, ports, zones, hazards, elevator, resident, "
        "subjects, floors, rated_power_w, burn_hours_per_day, username, password, repeat, "
        "start (put other facts under attrs)",
    ]


def test_error_message_names_the_file_and_counts_the_problems() -> None:
    with pytest.raises(InventoryError) as err:
        parse_inventory(HEAD + "devices:\n  - {id: a}\n", "site/inv.yaml")
    assert str(err.value) == ("inventory site/inv.yaml has 1 problem:\n"
                              "  devices[0].kind: is required")


def test_community_section_is_checked() -> None:
    got = problems("""\
community: {id: "bad/id", name: x, district: 3701, households: -1}
""")
    assert got == [
        "community.id: community id 'bad/id' is not valid: use 1-64 characters of letters, "
        "digits, '_', '.', '-', starting with a letter or digit",
        "community.district: must be the 6-digit GB/T 2260 district code in quotes, e.g. "
        "\"370102\", got 3701",
        "community.households: must be a whole number >= 0, got -1",
    ]


def test_duplicates_created_by_a_template_name_the_copy() -> None:
    got = problems(HEAD + """\
devices:
  - {id: light-202, kind: light}
  - {id: "light-{n}", repeat: 2, start: 201, kind: light}
""")
    assert got == ["devices[1].id: 'light-202' (n=202) is already used by devices[0]; "
                   "device ids must be unique in the community"]


def test_template_mistakes_are_explained() -> None:
    got = problems(HEAD + """\
devices:
  - {id: "x-{n}", kind: light}
  - {id: fixed, kind: light, repeat: 3}
  - {id: "y-{m}", kind: light, repeat: 2}
  - {id: "z-{n}", kind: light, repeat: 0}
""")
    assert got == [
        "devices[0].id: 'x-{n}' has an {n} placeholder but the row has no repeat; add "
        "repeat: N (and start:) or write the id out",
        "devices[1].id: 'fixed' must contain a placeholder such as {n:03d} so each of the "
        "repeated devices gets its own id",
        "devices[2].id: 'y-{m}' must contain a placeholder such as {n:03d} so each of the "
        "repeated devices gets its own id",
        "devices[3].repeat: must be a whole number >= 1, got 0",
    ]


def test_building_in_another_compound_than_the_device_is_refused() -> None:
    text = HEAD.replace("  - {id: north}", "  - {id: north}\n  - {id: south}")
    got = problems(text + "devices:\n  - {id: a, kind: camera, compound: south, "
                          "building: b01}\n")
    assert got == ["devices[0].compound: 'south' differs from the compound of building "
                   "'b01' ('north'); fix one of them"]


def test_yaml_syntax_errors_and_repeated_keys_give_the_line() -> None:
    assert problems("community: {id: demo\n") [0].startswith("line 2, column 1: not valid YAML")
    got = problems("community:\n  id: a\n  id: b\n")
    assert got == ["line 3, column 3: not valid YAML: key 'id' appears twice in one mapping"]


def test_missing_file_is_reported_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"inventory .*nope\.yaml has 1 problem:\n  "
                                             r"cannot read the file: No such file"):
        load_inventory(tmp_path / "nope.yaml")


async def test_import_replaces_the_register_and_keeps_telemetry(
        conn: asyncpg.Connection) -> None:
    first = parse_inventory(INVENTORY, "sample.yaml")
    summary = await import_inventory(conn, first)
    assert (summary.compounds, summary.buildings, summary.devices) == (2, 1, 8)
    await write_batch(conn, [msg(envelope(1, [reading("light-001")]))])

    second = parse_inventory(HEAD + "devices:\n  - {id: light-001, kind: light, "
                                    "compound: north}\n", "v2.yaml")
    await import_inventory(conn, second)
    devices = await conn.fetch("SELECT id, protocol FROM devices WHERE community = 'demo'")
    assert [(r["id"], r["protocol"]) for r in devices] == [("light-001", None)]
    assert await conn.fetchval("SELECT count(*) FROM compounds") == 1
    assert await conn.fetchval("SELECT source FROM communities") == "v2.yaml"
    assert await conn.fetchval("SELECT count(*) FROM readings") == 1


async def test_failed_import_leaves_the_previous_register(conn: asyncpg.Connection) -> None:
    await import_inventory(conn, parse_inventory(INVENTORY, "sample.yaml"))
    broken = parse_inventory(INVENTORY, "sample.yaml")
    bad_device = Device(id="x", kind="light", compound="nowhere")  # bypasses validation
    broken = type(broken)(broken.community, broken.compounds, broken.buildings,
                          (*broken.devices, bad_device), "broken.yaml")
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await import_inventory(conn, broken)
    assert await conn.fetchval("SELECT count(*) FROM devices") == 8
    assert await conn.fetchval("SELECT source FROM communities") == "sample.yaml"
