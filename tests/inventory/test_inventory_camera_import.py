"""Camera sheets (一机一档) in CSV and XLSX: good rows imported, bad rows refused by line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import openpyxl
import pytest
from video_support import VIDEO_INVENTORY

from inventory import import_inventory, parse_inventory
from inventory.sheet import SheetError, parse_sheet
from inventory.sheet_store import CommunityMissing, import_camera_sheet
from scg.cli import main

CSV = """\
设备编码,设备名称,行政区划,经度(°),纬度(°),点位类型,重点点位,是否公共,小区,安装单位
37010200001320000011,北苑西门入口,370102,117.0001,36.6520,小区出入口,kp-gate-n,是,north,甲公司
37010200001320000012,IPCamera,370102,117.0002,36.6521,,,否,,
,没有编码,370102,117.0,36.65,,,是,,
37010200001320000014,南门,370102,东经117度,36.65,,,是,south,

37010200001320000015,北苑停车场,370102,117.0003,36.6522,停车库出入口,kp-nowhere,是,,
37010200001320000016,南苑东门,370102,117.0004,36.6523,,,maybe,south,
37010200001320000017,"南苑北门,消防",370102,117.0005,36.6524,消防通道,kp-gate-n,1,south,
37010200001320000011,重复,370102,117.0,36.65,,,是,,
"""


@pytest.fixture
async def vid(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a database holding the video community `vid`."""
    await import_inventory(conn, parse_inventory(VIDEO_INVENTORY, "vid.yaml"))
    yield conn


def write_csv(tmp_path: Path, text: str = CSV, encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / "cameras.csv"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(tmp_path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / "cameras.xlsx"
    book.save(path)
    return path


REFUSED_CSV = [
    (4, "no id and no code: the row cannot be tied to a camera"),
    (5, "longitude: '东经117度' is not a number; give decimal degrees such as 117.0011"),
    (7, "key_position: 'kp-nowhere' is not a key position of the community (known: kp-fire, "
        "kp-gate-n, kp-park, kp-road); add it under key_positions in the inventory"),
    (8, "public: 'maybe' is not yes/no; use 是/否, 1/0 or true/false"),
    (10, "id '37010200001320000011' is already on line 2; each camera once"),
]


async def test_csv_sheet_imports_good_rows_and_refuses_bad_ones_by_line(
        vid: asyncpg.Connection, tmp_path: Path) -> None:
    result = await import_camera_sheet(vid, "vid", write_csv(tmp_path), gateway="vid-gw2")
    assert result.refused == REFUSED_CSV
    assert (result.added, result.updated, result.removed) == (3, 0, 0)
    assert result.warnings == [
        (1, "column '安装单位' is not used"),
        (9, "position type '消防通道' differs from key position 'kp-gate-n', a "
            "community_entrance; the key position wins")]
    # The factory-named camera is imported (compliance is measured, not enforced) and flagged.
    assert result.noncompliant == [("37010200001320000012", ("name",))]
    rows = await vid.fetch(
        "SELECT id, name, code, civil_code, longitude, latitude, key_position, public, "
        "compound, gateway, protocol, origin, attrs FROM devices "
        "WHERE community = 'vid' AND origin = 'sheet' ORDER BY id")
    assert [tuple(r)[:12] for r in rows] == [
        ("37010200001320000011", "北苑西门入口", "37010200001320000011", "370102", 117.0001,
         36.652, "kp-gate-n", True, "north", "vid-gw2", "onvif", "sheet"),
        ("37010200001320000012", "IPCamera", "37010200001320000012", "370102", 117.0002,
         36.6521, None, False, None, "vid-gw2", "onvif", "sheet"),
        ("37010200001320000017", "南苑北门,消防", "37010200001320000017", "370102", 117.0005,
         36.6524, "kp-gate-n", True, "south", "vid-gw2", "onvif", "sheet"),
    ]
    assert rows[0]["attrs"] == '{"position_type": "小区出入口"}'


async def test_gbk_csv_exported_by_chinese_excel_is_read(
        vid: asyncpg.Connection, tmp_path: Path) -> None:
    result = await import_camera_sheet(vid, "vid", write_csv(tmp_path, encoding="gb18030"))
    assert result.refused == REFUSED_CSV
    assert await vid.fetchval("SELECT name FROM devices WHERE id = '37010200001320000011'") \
        == "北苑西门入口"
    # Without --gateway new cameras are registered but nothing reports them.
    assert await vid.fetchval("SELECT protocol FROM devices WHERE id = "
                              "'37010200001320000011'") is None


async def test_xlsx_sheet_updates_inventory_cameras_and_refuses_damaged_codes(
        vid: asyncpg.Connection, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [
        ["一机一档 视频社区 2026-11"],  # a title row above the header is skipped
        ["ID", "Code", "Name", "Civil code", "Longitude", "Latitude", "Position type",
         "Key-position id", "Public flag", "Compound"],
        ["cam-01", "37010200001320000001", "北苑北门入口(新)", 370102, 117.0011, 36.6515,
         "community_entrance", "kp-gate-n", "yes", "north"],
        ["cam-20", "37010200001320000020", "南苑消防通道", "370102", "117.0030", "36.6490",
         "fire_lane", "kp-fire", "no", "south"],
        [None, 3.701020000132e19, "北门", "370102", 117.0, 36.65, None, None, None, None],
        ["light-01", "37010200001320000021", "路灯", "370102", 117.0, 36.65, None, None, None,
         None],
        [None, None, None, None, None, None, None, None, None, None],
        ["cam-22", "37010200001320000022", "南苑南门", "370102", None, None, None, None, 0,
         None],
    ])
    result = await import_camera_sheet(vid, "vid", path)
    assert result.refused == [
        (5, "code: is a number in the sheet (3.70102e+19), and a spreadsheet keeps only 15 "
            "digits of a number, so the code is damaged; format the column as text and enter "
            "the codes again"),
        (6, "id 'light-01' is a light in the inventory, not a camera; give the camera another "
            "id or code"),
    ]
    assert (result.added, result.updated) == (2, 1)
    # cam-22 has no coordinates: imported, and its record fails the coordinates check.
    assert result.noncompliant == [("cam-22", ("coordinates",))]
    cam01 = await vid.fetchrow("SELECT name, gateway, protocol, origin FROM devices "
                               "WHERE id = 'cam-01'")
    assert tuple(cam01) == ("北苑北门入口(新)", "vid-gw1", "onvif", "inventory")
    cam20 = await vid.fetchrow("SELECT code, longitude, public, key_position FROM devices "
                               "WHERE id = 'cam-20'")
    assert tuple(cam20) == ("37010200001320000020", 117.003, False, "kp-fire")


async def test_inventory_reimport_keeps_sheet_cameras_and_replace_removes_them(
        vid: asyncpg.Connection, tmp_path: Path) -> None:
    await import_camera_sheet(vid, "vid", write_csv(tmp_path))
    summary = await import_inventory(vid, parse_inventory(VIDEO_INVENTORY, "vid.yaml"))
    assert summary.kept_sheet_cameras == 3
    assert await vid.fetchval("SELECT count(*) FROM devices WHERE origin = 'sheet'") == 3

    # The inventory drops compound north: kept cameras lose the reference, not their rows.
    without_north = VIDEO_INVENTORY.replace(", compound: north}", "}").replace(
        "compound: north, ", "").replace("  - {id: north, name: 北苑, closed: true}\n", "")
    await import_inventory(vid, parse_inventory(without_north, "vid2.yaml"))
    assert await vid.fetchval("SELECT compound FROM devices WHERE id = "
                              "'37010200001320000011'") is None

    only_one = tmp_path / "one.csv"
    only_one.write_text("设备编码,设备名称\n37010200001320000012,北苑西门\n", encoding="utf-8")
    result = await import_camera_sheet(vid, "vid", only_one, replace=True)
    assert (result.added, result.updated, result.removed) == (0, 1, 2)
    assert [r["id"] for r in await vid.fetch(
        "SELECT id FROM devices WHERE origin = 'sheet'")] == ["37010200001320000012"]


async def test_unusable_files_and_communities_are_refused_whole(
        vid: asyncpg.Connection, tmp_path: Path) -> None:
    with pytest.raises(CommunityMissing, match="community 'nowhere' is not in the database "
                                               r"\(known: vid\); import its inventory first"):
        await import_camera_sheet(vid, "nowhere", write_csv(tmp_path))
    no_code = tmp_path / "names.csv"
    no_code.write_text("设备名称,经度\n北门,117.0\n", encoding="utf-8")
    with pytest.raises(SheetError, match=r"line 1: no code column \(设备编码 / 国标编码\) and "
                                         "no id column, so no row can be tied to a camera; "
                                         "found 设备名称, 经度"):
        parse_sheet(no_code, set(), {})
    (tmp_path / "c.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(SheetError, match=r"unknown sheet type \.xls; give a \.csv or \.xlsx "
                                         r"file \(save \.xls sheets as \.xlsx first\)"):
        parse_sheet(tmp_path / "c.xls", set(), {})
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(SheetError, match="cannot be read as an XLSX workbook"):
        parse_sheet(tmp_path / "broken.xlsx", set(), {})


def test_cli_reports_refused_rows_and_exits_1(migrated: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    inv = tmp_path / "vid.yaml"
    inv.write_text(VIDEO_INVENTORY, encoding="utf-8")
    assert main(["inventory", "import", str(inv), "--database-url", migrated]) == 0
    capsys.readouterr()
    sheet = write_csv(tmp_path)
    code = main(["inventory", "import-cameras", str(sheet), "--community", "vid",
                 "--gateway", "vid-gw1", "--database-url", migrated])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines()[0] == (f"imported 3 cameras into community vid from {sheet} "
                                   "(3 new, 0 updated)")
    assert "1 of them have a record that is not compliant (see /api/communities/vid/cameras/" \
           "records):\n  37010200001320000012: name\n" in out
    assert err.splitlines() == ["refused 5 row(s):"] + [f"  line {n}: {why}"
                                                         for n, why in REFUSED_CSV]
    code = main(["inventory", "import-cameras", str(sheet), "--community", "atlantis",
                 "--database-url", migrated])
    assert code == 2
    assert capsys.readouterr().err.startswith("scg inventory: community 'atlantis' is not in "
                                              "the database (known: vid)")
