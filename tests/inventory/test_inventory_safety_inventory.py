"""Safety devices in the inventory: elevators and what serves them, SOS buttons per lone
elderly resident, access gates, throw cameras' floors; every fault with its key path."""

from __future__ import annotations

import asyncpg
import pytest
from safety_support import INVENTORY

from inventory import InventoryError, import_inventory, parse_inventory

HEAD = """\
community: {id: c1, name: 社区, district: "370102", lone_elderly: 1}
compounds:
  - {id: north, closed: true}
buildings:
  - {id: b01, compound: north, floors: 26}
  - {id: loose, floors: 12}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InventoryError) as info:
        parse_inventory(text, "t.yaml")
    return info.value.problems


def test_safety_devices_get_their_place_from_their_elevator_and_keep_their_facts() -> None:
    inv = parse_inventory(INVENTORY, "safe.yaml")
    assert inv.community.lone_elderly == 4
    devices = {d.id: d for d in inv.devices}
    assert (devices["lift-n2"].building, devices["lift-n2"].compound) == ("n2", "north")
    for ident in ("cam-n2", "ctl-n2"):
        d = devices[ident]
        assert (d.elevator, d.building, d.compound) == ("lift-n2", "n2", "north")
    assert devices["sos-3"].resident == "r3"
    assert devices["gate-s"].subjects == ("person", "vehicle")
    assert (devices["tc-n1b"].watched_floors, devices["tc-n1b"].compound) == (
        (12, 26), "north")


def test_every_safety_fault_is_reported_with_its_key_path_and_fix() -> None:
    got = problems(HEAD + """\
devices:
  - {id: lift-1, kind: elevator, building: b01}
  - {id: lift-2, kind: elevator}
  - {id: lift-3, kind: elevator, building: loose}
  - {id: cam-1, kind: ebike_detector}
  - {id: cam-2, kind: ebike_detector, elevator: lift-9}
  - {id: cam-3, kind: ebike_detector, elevator: sos-1}
  - {id: ctl-1, kind: elevator_controller, elevator: lift-1, building: loose}
  - {id: sos-1, kind: sos_button, resident: r1}
  - {id: sos-2, kind: sos_button, resident: r1}
  - {id: sos-3, kind: sos_button, resident: r2}
  - {id: sos-4, kind: sos_button}
  - {id: gate-1, kind: access_gate, compound: north, subjects: [person, bike]}
  - {id: gate-2, kind: access_gate, subjects: [vehicle]}
  - {id: gate-3, kind: access_gate, compound: north}
  - {id: tc-1, kind: throw_camera, building: b01, floors: [10, 3]}
  - {id: tc-2, kind: throw_camera, building: b01, floors: [3, 30]}
  - {id: tc-3, kind: throw_camera, floors: [3, 12]}
  - {id: tc-4, kind: throw_camera, building: b01, floors: 3}
  - {id: per-1, kind: perimeter_detector}
  - {id: mh-1, kind: manhole_cover}
  - {id: light-1, kind: light, subjects: [person], resident: r7}
""")
    assert got == [
        "devices[1].building: is required for this elevator: e-bike-into-elevator "
        "recognition is judged per compound from the building's elevators",
        "devices[2].compound: is required for this elevator: e-bike-into-elevator "
        "recognition is judged per compound; add compound: (or building: in a compound)",
        "devices[3].elevator: is required for kind ebike_detector: the id of the elevator "
        "device (kind: elevator) it serves",
        "devices[10].resident: is required for kind sos_button: the id of the lone elderly "
        "resident who carries it (one button each)",
        "devices[11].subjects: unknown subject 'bike'; use person, vehicle",
        "devices[12].compound: is required for this access_gate: access control is judged "
        "per closed compound; add compound: (or building: in a compound)",
        "devices[13].subjects: is required for kind access_gate: whom the gate "
        "authenticates: [person], [vehicle] or [person, vehicle]",
        "devices[14].floors: [10, 3] is not a range of floors: need 1 <= from <= to",
        "devices[15].floors: watches up to floor 30 but building 'b01' has 26 floors; "
        "correct the range or the building's floors",
        "devices[16].building: is required for this throw_camera: throw detection is "
        "judged per high-rise building",
        "devices[17].floors: must be [from, to], two whole floor numbers such as [3, 26], "
        "got 3",
        "devices[18].compound: is required for this perimeter_detector: perimeter "
        "detection is judged per closed compound; add compound: (or building: in a "
        "compound)",
        "devices[19].compound: is required for this manhole_cover: manhole covers are "
        "monitored per compound; add compound: (or building: in a compound)",
        "devices[20].resident: only sos_button devices have resident; this device is a "
        "light: remove resident or correct the kind",
        "devices[20].subjects: only access_gate devices have subjects; this device is a "
        "light: remove subjects or correct the kind",
        "devices[4].elevator: 'lift-9' is not an elevator in devices (known elevators: "
        "lift-1, lift-2, lift-3); add a device with kind: elevator and its building, or "
        "correct the id",
        "devices[5].elevator: 'sos-1' is not an elevator in devices (known elevators: "
        "lift-1, lift-2, lift-3); add a device with kind: elevator and its building, or "
        "correct the id",
        "devices[6].building: 'loose' differs from the building of elevator 'lift-1' "
        "('b01'); leave building out (it comes from the elevator) or fix one of them",
        "devices[8].resident: 'r1' already has an SOS button (sos-1 (devices[7])); one "
        "button per resident, correct one of the ids",
        "community.lone_elderly: declares 1 lone elderly residents but SOS buttons name 2 "
        "distinct residents; correct the count or the buttons' resident ids",
    ]


def test_template_rows_give_each_button_its_own_resident() -> None:
    inv = parse_inventory(HEAD.replace("lone_elderly: 1", "lone_elderly: 30") + """\
devices:
  - {id: "sos-{n:02d}", kind: sos_button, resident: "r{n}", repeat: 3, gateway: g1,
     protocol: mqtt}
""")
    assert [(d.id, d.resident) for d in inv.devices] == [
        ("sos-01", "r1"), ("sos-02", "r2"), ("sos-03", "r3")]


async def test_import_stores_the_safety_facts(conn: asyncpg.Connection) -> None:
    await import_inventory(conn, parse_inventory(INVENTORY, "safe.yaml"))
    assert await conn.fetchval("SELECT lone_elderly FROM communities WHERE id = 'safe'") == 4
    rows = {r["id"]: tuple(r)[1:] for r in await conn.fetch(
        """SELECT id, elevator, building, compound, resident, subjects, watch_from, watch_to
           FROM devices WHERE id = ANY($1)""",
        ["cam-n2", "sos-1", "gate-s", "tc-s1"])}
    assert rows == {
        "cam-n2": ("lift-n2", "n2", "north", None, [], None, None),
        "sos-1": (None, None, None, "r1", [], None, None),
        "gate-s": (None, None, "south", None, ["person", "vehicle"], None, None),
        "tc-s1": (None, "s1", "south", None, [], 5, 20),
    }
    # The database holds the rules too: one button per resident.
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute("UPDATE devices SET resident = 'r1' WHERE id = 'sos-2'")
