"""The inventory's video parts: boundary, key positions, camera record fields, and import."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from video_support import VIDEO_INVENTORY

from inventory import InventoryError, KeyPosition, import_inventory, parse_inventory
from inventory.records import Circle, Polygon
from scg.cli import main

HEAD = """\
community: {id: vid, name: 视频社区, district: "370102"}
compounds:
  - {id: north}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InventoryError) as err:
        parse_inventory(text, "inv.yaml")
    return err.value.problems


def test_the_video_inventory_parses_positions_boundary_and_records() -> None:
    inv = parse_inventory(VIDEO_INVENTORY, "vid.yaml")
    assert inv.community.boundary == Circle((117.0012, 36.6512), 800.0)
    assert inv.key_positions == (
        KeyPosition("kp-gate-n", "community_entrance", "北门", "north"),
        KeyPosition("kp-park", "parking_entrance", "地库入口", "north"),
        KeyPosition("kp-road", "main_road", "主干道", None),
        KeyPosition("kp-fire", "fire_lane", "消防通道", "south"))
    cam = inv.devices[0]
    assert (cam.code, cam.name, cam.civil_code, cam.longitude, cam.latitude,
            cam.key_position, cam.public) == ("37010200001320000001", "北苑北门入口", "370102",
                                              117.0011, 36.6515, "kp-gate-n", True)
    assert inv.devices[3].longitude == 0.0  # stored as given: compliance is measured later
    assert inv.devices[4].public is False


def test_a_polygon_boundary_and_chinese_position_types_are_accepted() -> None:
    inv = parse_inventory("""\
community:
  id: vid
  name: x
  district: "370102"
  boundary: {polygon: [[116.996, 36.646], [117.006, 36.646], [117.006, 36.656]]}
key_positions:
  - {id: p1, type: 停车场出入口}
  - {id: p2, type: 小区出入口}
devices:
  - {id: "cam-{n}", kind: camera, repeat: 2, code: "3701020000132{n:07d}", key_position: p1}
""")
    assert inv.community.boundary == Polygon(((116.996, 36.646), (117.006, 36.646),
                                              (117.006, 36.656)))
    assert [k.type for k in inv.key_positions] == ["parking_entrance", "community_entrance"]
    assert [d.code for d in inv.devices] == ["37010200001320000001", "37010200001320000002"]


def test_every_video_problem_names_its_key_and_fix() -> None:
    got = problems(HEAD.replace('district: "370102"}', 'district: "370102", boundary: '
                                '{center: [36.65, 117.0], radius_m: -5}}') + """\
key_positions:
  - {id: kp1, type: fire_lane}
  - {id: kp2, type: gate}
  - {id: kp1, type: main_road, compound: west}
  - {type: main_road}
devices:
  - {id: a, kind: camera, key_position: kp9, longitude: "117,0", latitude: true}
  - {id: b, kind: light, key_position: kp1}
  - {id: c, kind: camera, code: 3.7e+19}
""")
    assert got == [
        "community.boundary.center: [36.65, 117.0] is outside Shandong (N 34.38–38.40, "
        "E 114.79–122.71); longitude comes first",
        "community.boundary.radius_m: must be a positive number of metres, got -5",
        "key_positions[1].type: 'gate' is not a key-position type; use one of "
        "community_entrance (小区出入口), parking_entrance (停车库出入口), main_road (社区主干道), "
        "fire_lane (消防通道)",
        "key_positions[2].compound: 'west' is not in compounds (known: north); add it under "
        "compounds or correct the id",
        "key_positions[2].id: 'kp1' is already used by key_positions[0]; key-position ids must "
        "be unique",
        "key_positions[3].id: is required",
        "devices[0].key_position: 'kp9' is not in key_positions (known: kp1); add it under "
        "key_positions or correct the id",
        "devices[0].longitude: must be a number (WGS-84 decimal degrees), got '117,0'",
        "devices[0].latitude: must be a number (WGS-84 decimal degrees), got True",
        "devices[1].key_position: only cameras watch key positions; this device is a light: "
        "remove key_position or set kind: camera",
        "devices[2].code: must be a non-empty string, got 3.7e+19; quote it",
    ]


@pytest.mark.parametrize(("boundary", "message"), [
    ("{center: [117.0, 36.6]}", "community.boundary: must be {center: [longitude, latitude], "
     "radius_m: metres} or {polygon: [[longitude, latitude], ...]}; got the keys center"),
    ("{polygon: [[117.0, 36.6], [117.1, 36.6]]}", "community.boundary.polygon: must list at "
     "least 3 [longitude, latitude] points, got [[117.0, 36.6], [117.1, 36.6]]"),
    ("{polygon: [[117.0, 36.6], [117.1], [117.1, 36.7]]}", "community.boundary.polygon[1]: "
     "must be [longitude, latitude] in decimal degrees, got [117.1]"),
    ("800", "community.boundary: must be {center: [longitude, latitude], radius_m: metres} or "
     "{polygon: [[longitude, latitude], ...]}, got 800"),
])
def test_malformed_boundaries_are_explained(boundary: str, message: str) -> None:
    text = HEAD.replace('district: "370102"}', f'district: "370102", boundary: {boundary}}}')
    assert problems(text) == [message]


async def test_import_stores_positions_boundary_and_records(conn: asyncpg.Connection) -> None:
    summary = await import_inventory(conn, parse_inventory(VIDEO_INVENTORY, "vid.yaml"))
    assert (summary.key_positions, summary.devices, summary.kept_sheet_cameras) == (4, 7, 0)
    boundary = await conn.fetchval("SELECT boundary FROM communities WHERE id = 'vid'")
    assert boundary == '{"center": [117.0012, 36.6512], "radius_m": 800.0}'
    rows = await conn.fetch("SELECT id, type, compound FROM key_positions ORDER BY id")
    assert [tuple(r) for r in rows] == [("kp-fire", "fire_lane", "south"),
                                        ("kp-gate-n", "community_entrance", "north"),
                                        ("kp-park", "parking_entrance", "north"),
                                        ("kp-road", "main_road", None)]
    cam = await conn.fetchrow("SELECT code, civil_code, longitude, latitude, key_position, "
                              "origin FROM devices WHERE id = 'cam-01'")
    assert tuple(cam) == ("37010200001320000001", "370102", 117.0011, 36.6515, "kp-gate-n",
                          "inventory")

    # A second import without kp-road drops it; the camera watching it goes with the YAML.
    smaller = VIDEO_INVENTORY.replace("  - {id: kp-road, type: main_road, name: 主干道}\n", "")
    smaller = smaller.replace("key_position: kp-road,", "")
    await import_inventory(conn, parse_inventory(smaller, "vid2.yaml"))
    assert await conn.fetchval("SELECT count(*) FROM key_positions") == 3
    assert await conn.fetchval("SELECT key_position FROM devices WHERE id = 'cam-04'") is None


def test_inventory_check_counts_key_positions(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "vid.yaml"
    path.write_text(VIDEO_INVENTORY, encoding="utf-8")
    assert main(["inventory", "check", str(path)]) == 0
    assert capsys.readouterr().out == (f"{path}: community vid (视频社区), 2 compounds, "
                                       "0 buildings, 4 key positions, 6 camera, 1 light\n")
