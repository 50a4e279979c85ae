"""Verdicts an assessor would sign, on a real database: a row with nothing eligible (and an
inventory that says so) is met in the published wording, a row whose inventory is
incomplete says what to register; items are written by their names; unknown states say
why (gateway offline or not reported yet); a time before the first data judges nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import yaml
from acceptance_support import (
    AS_OF,
    COMMUNITY,
    GW,
    SINCE,
    Figures,
    inventory,
    populate,
    qingzhou_county,
    qingzhou_declarations,
)
from ingest_support import status_msg

from acceptance.export import export
from acceptance.report import build_report
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory

SMALL = Figures(lights=10, smart_lights=10, households=5, meters_collected=5)


@pytest.fixture
async def conn(migrated: str) -> asyncpg.Connection:
    c = await asyncpg.connect(migrated)
    yield c
    await c.close()


def rows_of(report: Any) -> dict[str, Any]:
    return {r.row.id: r for r in report.rows}


async def test_no_19_floor_building_in_a_registered_inventory_passes_as_published(
        conn: asyncpg.Connection) -> None:
    """The towers have 18 floors, every building its floors: basic row 14 has nothing to
    watch, and the published tables write that as met."""
    await populate(conn, SMALL)
    report = await build_report(conn, COMMUNITY, "basic", now=AS_OF, declarations={})
    row = rows_of(report)["basic-14"]
    assert (row.verdict, row.text) == ("pass", "达标。社区内19层及以上住宅0栋。")
    assert [m.status for m in row.measures] == ["not_applicable"]
    assert {f.label: f.value for f in row.figures} == {"登记住宅建筑数": 22,
                                                       "19层及以上住宅数": 0}
    # The growth table counts the 18-floor towers (12 floors and up): judged on them.
    growth = rows_of(await build_report(conn, COMMUNITY, "growth", now=AS_OF,
                                        declarations={}))["growth-17"]
    assert growth.verdict == "pass" and growth.text.startswith("达标。社区内12层及以上住宅5栋")


def _open_and_unmeasured(doc: dict[str, Any]) -> None:
    """Every compound registered as not closed, and one building without its floors."""
    for c in doc["compounds"]:
        c["closed"] = False
    doc["buildings"][0].pop("floors")
    doc["buildings"][0]["attrs"] = {"name": "偕园1区1号楼"}


async def test_no_closed_compound_passes_and_a_building_without_floors_is_named(
        conn: asyncpg.Connection) -> None:
    await populate(conn, SMALL, edit=_open_and_unmeasured)
    rows = rows_of(await build_report(conn, COMMUNITY, "basic", now=AS_OF, declarations={}))
    assert rows["basic-12"].text == "达标。社区内封闭式小区0个。"
    assert rows["basic-13"].text == "达标。社区内封闭式小区0个。"
    assert {f.label: f.value for f in rows["basic-12"].figures} == {
        "登记小区数（均非封闭式）": 11}
    assert rows["basic-14"].verdict == "no_data"
    assert rows["basic-14"].text == (
        "无数据。高空抛物监测无数据：设备台账中1栋住宅建筑未登记楼层数（偕园1区1号楼），"
        "请在设备台账中登记（floors: N）。")


async def test_a_county_words_nothing_eligible_its_own_way(conn: asyncpg.Connection) -> None:
    from acceptance.county import CountySettings

    await populate(conn, SMALL, edit=_open_and_unmeasured)
    county = CountySettings(not_applicable={"access_control_compounds": "社区内无封闭式小区"})
    rows = rows_of(await build_report(conn, COMMUNITY, "basic", now=AS_OF, declarations={},
                                      county=county))
    assert rows["basic-12"].text == "达标。社区内无封闭式小区。"
    assert rows["basic-13"].text == "达标。社区内封闭式小区0个。"


async def test_shortfalls_name_compounds_and_positions_not_their_ids(
        conn: asyncpg.Connection) -> None:
    await populate(conn, Figures(lights=10, smart_lights=10, households=5, meters_collected=5,
                                 offline={"ch-c01", "cam-01"}))
    rows = rows_of(await build_report(conn, COMMUNITY, "growth", now=AS_OF,
                                      declarations={}))
    charging = rows["growth-06"].text
    assert "充电设施离线1个（偕园1区）" in charging and "c01" not in charging
    video = rows["growth-04"].text
    assert "小区北门1" in video and "kp-" not in video
    assert "小区北门1号" in video          # the camera, by its registered name


async def test_devices_that_never_reported_are_not_blamed_on_the_gateway(
        conn: asyncpg.Connection) -> None:
    silent = {f"light-{n:04d}" for n in (1, 2, 3)}
    await populate(conn, Figures(lights=10, smart_lights=10, households=5,
                                 meters_collected=5, silent=silent))
    report = await build_report(conn, COMMUNITY, "growth", now=AS_OF, declarations={})
    row = rows_of(report)["growth-05"]
    assert "状态未知（设备尚未上报）3个（light-0001、light-0002、light-0003）" in row.text
    assert "网关" not in row.text
    assert row.unknown_words == "状态未知（设备尚未上报）"
    page = export(report, "html").decode("utf-8")
    assert "网关" not in page and "部分设备状态未知（设备尚未上报）。" in page

    # Now the gateway's last will arrives: the same devices are unknown because of it.
    await write_batch(conn, [status_msg(False, community=COMMUNITY, gateway=GW,
                                        t=AS_OF - timedelta(minutes=30))])
    row = rows_of(await build_report(conn, COMMUNITY, "growth", now=AS_OF,
                                     declarations={}))["growth-05"]
    assert row.unknown_words == f"状态未知（网关{GW}离线）"
    assert f"状态未知（网关{GW}离线）10个" in row.text


async def test_a_report_before_the_first_data_judges_nothing(conn: asyncpg.Connection) -> None:
    await populate(conn, SMALL)
    before = SINCE - timedelta(days=1)
    report = await build_report(conn, COMMUNITY, "growth", as_of=before, now=AS_OF,
                                declarations=qingzhou_declarations(),
                                county=qingzhou_county())
    assert not report.judged and report.verdict == "not_judged"
    measured = [r for r in report.rows if r.row.kind == "measured"]
    assert {r.verdict for r in measured} == {"not_judged"}
    assert measured[0].text == ("未判定。截至2026-11-13 16:00（北京时间）社区尚无设备数据，"
                                "不作判定。")
    assert report.counts["fail"] == 0
    doc = report.to_dict()
    assert doc["verdict_word"] == "未判定（该时刻社区尚无设备数据）"
    assert doc["first_data"] == "2026-11-14T08:00:00Z"
    assert any("首条数据时间2026-11-14 16:00" in n for n in doc["notes"])
    # From the first data on, the rows are judged.
    assert (await build_report(conn, COMMUNITY, "growth", as_of=SINCE, now=AS_OF,
                               declarations={})).judged


async def test_a_community_whose_devices_never_sent_anything_is_not_judged_live(
        conn: asyncpg.Connection) -> None:
    doc = yaml.safe_dump(inventory(SMALL), allow_unicode=True)
    await import_inventory(conn, parse_inventory(doc, "xieyuan.yaml"))
    report = await build_report(conn, COMMUNITY, "growth", now=AS_OF, declarations={})
    assert (report.judged, report.first_data, report.verdict) == (False, None, "not_judged")
    assert any("社区尚无设备数据，设备实测项不作判定" in n for n in report.notes)


async def test_times_are_beijing_times_in_every_format(conn: asyncpg.Connection) -> None:
    await populate(conn, SMALL)
    report = await build_report(conn, COMMUNITY, "growth", as_of=AS_OF, now=AS_OF,
                                declarations=qingzhou_declarations())
    page = export(report, "html").decode("utf-8")
    assert "数据时间：2026-11-24 16:00（北京时间）" in page       # AS_OF is 08:00 UTC
    assert "UTC" not in page
    assert "2026-11-24 16:00（北京时间）" in export(report, "csv").decode("utf-8-sig")
