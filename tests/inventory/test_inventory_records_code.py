"""GB/T 28181 codes, civil codes and the shipped GB/T 2260 table of Shandong."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.records import (
    DistrictTableError,
    check_civil_code,
    check_code,
    duplicate_codes,
    load_districts,
    parse_code,
    shandong,
)

GOOD = "37010200001320000001"  # 历下区, unit 00, industry 00, type 132 (IPC), net 0, serial 1


def code_problems(code: str | None, district: str = "370102") -> list[str]:
    return check_code(code, district, shandong())


def test_the_shipped_table_covers_all_of_shandong() -> None:
    table = shandong()
    current = [d for d in table if d.current]
    assert len(current) == 153  # province + 16 prefecture-level cities + 136 counties
    assert [d.code for d in current if d.level == "province"] == ["370000"]
    cities = {d.code: d.name for d in current if d.level == "prefecture"}
    assert len(cities) == 16
    assert (cities["370100"], cities["370200"], cities["371700"]) == ("济南市", "青岛市", "菏泽市")
    assert "371200" not in cities  # 莱芜市 merged into 济南 in 2019
    counties = [d for d in current if d.level == "county"]
    assert len(counties) == 136
    assert all(d.code.startswith("37") for d in table)
    assert table.label("370102") == "370102 (历下区)"
    assert table.label("370116") == "370116 (莱芜区)"


def test_abolished_codes_name_their_successor() -> None:
    table = shandong()
    assert table.why_unusable("370102") is None
    assert table.why_unusable("370181") == ("370181 (章丘市) was abolished in 2016; now "
                                            "370114 (章丘区)")
    assert table.why_unusable("371200") == "371200 (莱芜市) was abolished in 2018"
    assert table.why_unusable("379999") == ("379999 is not a GB/T 2260 district code "
                                            "(table gb2260_shandong.csv)")


def test_a_well_formed_camera_code_passes_and_its_fields_are_read() -> None:
    code, problems = parse_code(GOOD)
    assert problems == [] and code is not None
    assert (code.centre, code.district, code.unit, code.industry, code.type, code.network,
            code.serial) == ("37010200", "370102", "00", "00", "132", "0", "000001")
    assert code.is_camera
    assert code_problems(GOOD) == []
    assert code_problems("37010200001310000002") == []  # 131: camera


@pytest.mark.parametrize(("code", "expected"), [
    (None, ["code: missing; assign the camera its 20-digit GB/T 28181 code"]),
    ("", ["code: missing; assign the camera its 20-digit GB/T 28181 code"]),
    ("3701020000132000001", ["code: '3701020000132000001' has 19 characters, expected 20 "
                             "digits (GB/T 28181)"]),
    ("370102000013200000011", ["code: '370102000013200000011' has 21 characters, expected "
                               "20 digits (GB/T 28181)"]),
    ("3701020000132000000A", ["code: character 20 is 'A'; a GB/T 28181 code has digits only"]),
    ("37O1O2000013200000O1", ["code: character 3 is 'O' and 2 more; a GB/T 28181 code has "
                              "digits only"]),
    ("3701-0200001320000001", ["code: '3701-0200001320000001' has 21 characters, expected "
                               "20 digits (GB/T 28181)",
                               "code: character 5 is '-'; a GB/T 28181 code has digits only"]),
    (" 37010200001320000001", ["code: ' 37010200001320000001' has spaces around it; remove "
                               "them"]),
    ("37010300001320000001", ["code: digits 1-6 are 370103 (市中区), expected 370102 "
                              "(历下区), the community's district"]),
    ("37999900001320000001", ["code: digits 1-6 are 379999, not a GB/T 2260 district code "
                              "(table gb2260_shandong.csv)"]),
    ("37018100001320000001", ["code: digits 1-6 are 370181 (章丘市), abolished in 2016; now "
                              "370114 (章丘区)"]),
    ("37010200001180000001", ["code: digits 11-13 are 118, expected 131 (camera) or 132 "
                              "(IPC); 118 is the type of an NVR, not a camera"]),
    ("37010200001990000001", ["code: digits 11-13 are 199, expected 131 (camera) or 132 "
                              "(IPC)"]),
    ("37010300001110000001", ["code: digits 1-6 are 370103 (市中区), expected 370102 "
                              "(历下区), the community's district",
                              "code: digits 11-13 are 111, expected 131 (camera) or 132 "
                              "(IPC); 111 is the type of a DVR, not a camera"]),
])
def test_every_malformed_field_is_named(code: str | None, expected: list[str]) -> None:
    assert code_problems(code) == expected


def test_a_community_outside_shandong_fails_every_code_saying_where_it_is() -> None:
    assert code_problems("11010800001320000001", district="110108") == [
        "code: digits 1-6 are 110108 (北京市海淀区), a district outside Shandong"]


def test_not_a_code_outside_shandong_and_abolished_are_told_apart() -> None:
    table = shandong()
    assert table.why_unusable("340200") == "340200 (安徽省芜湖市) is a district outside Shandong"
    assert table.why_unusable("340203") == (
        "340203 (安徽省芜湖市弋江区) is a district outside Shandong, abolished in 2020; now "
        "340209 (安徽省芜湖市弋江区)")
    assert table.why_unusable("340299") == (
        "340299 is not a GB/T 2260 district code (tables gb2260_shandong.csv, "
        "gb2260_other_provinces.csv)")
    assert table.why_unusable("379999") == ("379999 is not a GB/T 2260 district code "
                                            "(table gb2260_shandong.csv)")
    assert table.why_unusable("370181") == ("370181 (章丘市) was abolished in 2016; now "
                                            "370114 (章丘区)")
    assert table.label("710000") == "710000 (台湾省)"


def test_the_platforms_example_code_is_named_for_what_it_is() -> None:
    assert code_problems("34020000001320000001") == [
        "code: digits 1-6 are 340200 (安徽省芜湖市), a district outside Shandong; 34020000… is "
        "the example centre code many GB/T 28181 platforms and cameras ship with: give the "
        "camera the code assigned to it in 370102 (历下区)"]
    assert check_civil_code("340200", "34020000001320000001", shandong()) == [
        "civil_code: 340200 (安徽省芜湖市) is a district outside Shandong"]


def test_the_rest_of_china_is_shipped_with_all_province_level_codes() -> None:
    elsewhere = shandong().elsewhere
    assert elsewhere is not None
    current = [d for d in elsewhere if d.current]
    provinces = {d.code for d in current if d.level == "province"}
    assert len(provinces) == 33 and "370000" not in provinces  # 34 with Shandong's
    assert {"110000", "340000", "650000", "710000", "810000", "820000"} <= provinces
    assert len([d for d in current if d.level == "prefecture"]) == 317
    assert not any(d.code.startswith("37") for d in elsewhere)


def test_duplicates_name_the_other_cameras() -> None:
    got = duplicate_codes([("a", GOOD), ("b", "37010200001320000002"), ("c", GOOD),
                           ("d", None), ("e", None), ("f", " " + GOOD)])
    assert got == {"a": ["c", "f"], "c": ["a", "f"], "f": ["a", "c"]}


@pytest.mark.parametrize(("civil", "code", "expected"), [
    ("370102", GOOD, []),
    ("37010200", GOOD, []),  # 8 digits: district plus grassroots unit
    (None, GOOD, ["civil_code: missing; enter the 6-digit GB/T 2260 code of the camera's "
                  "district, e.g. 370102"]),
    ("3701", GOOD, ["civil_code: '3701' is not a GB/T 2260 code: expected 6 digits (or 8 with "
                    "the grassroots unit)"]),
    ("37010A", GOOD, ["civil_code: '37010A' is not a GB/T 2260 code: expected 6 digits (or 8 "
                      "with the grassroots unit)"]),
    ("379999", GOOD, ["civil_code: 379999 is not a GB/T 2260 district code (table "
                      "gb2260_shandong.csv)"]),
    ("370181", GOOD, ["civil_code: 370181 (章丘市) was abolished in 2016; now 370114 (章丘区)"]),
    ("370103", GOOD, ["civil_code: 370103 differs from digits 1-6 of the code (370102); they "
                      "must be equal"]),
    ("37010201", GOOD, ["civil_code: 37010201 differs from digits 1-8 of the code "
                        "(37010200); they must be equal"]),
    ("370103", "bad", []),  # nothing to compare with: the code check reports the code
])
def test_civil_code_is_a_real_code_equal_to_the_code_prefix(
        civil: str | None, code: str, expected: list[str]) -> None:
    assert check_civil_code(civil, code, shandong()) == expected


def test_a_broken_district_table_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("# comment\ncode,name,level,status,abolished,successor\n"
                    "370102,历下区,county,current,,\n37010,x,county,current,,\n",
                    encoding="utf-8")
    with pytest.raises(DistrictTableError, match=r"d\.csv:4: code '37010' is not 6 digits"):
        load_districts(path)
    path.write_text("code,name\n", encoding="utf-8")
    with pytest.raises(DistrictTableError, match="the first non-comment line must be the "
                                                 "header code,name,level,status,abolished"):
        load_districts(path)
    path.write_text("code,name,level,status,abolished,successor\n"
                    "370181,章丘市,county,gone,,\n", encoding="utf-8")
    with pytest.raises(DistrictTableError, match=r"d\.csv:2: status must be 'current', or "
                                                 r"'abolished' with the year"):
        load_districts(path)
