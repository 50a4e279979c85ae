"""The acceptance report on a real database: a lighting shortfall no declaration can hide,
rows without data saying why, the rows that devices behind an offline gateway could
change, and a report as of a past time from the indicator history."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import asyncpg
import pytest
from acceptance_support import (
    AS_OF,
    COMMUNITY,
    GW,
    Entry,
    Figures,
    populate,
    qingzhou_county,
    qingzhou_declarations,
)
from ingest_support import status_msg
from openpyxl import load_workbook

from acceptance.export import COLUMNS, export
from acceptance.report import ReportError, build_report
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory


@pytest.fixture
async def conn(migrated: str) -> asyncpg.Connection:
    c = await asyncpg.connect(migrated)
    yield c
    await c.close()


async def test_280_smart_of_1000_lights_is_28_percent_and_fails_growth_whatever_is_declared(
        conn: asyncpg.Connection) -> None:
    await populate(conn, Figures(lights=1000, smart_lights=280, households=40,
                                 meters_collected=40))
    claims = {**qingzhou_declarations(),
              "growth-05": Entry("growth-05", {"smart_lights": 1000, "public_lights": 1000},
                                 text="全部为智能照明")}
    report = await build_report(conn, COMMUNITY, "growth", now=AS_OF, declarations=claims)
    row = {r.row.id: r for r in report.rows}["growth-05"]
    assert row.verdict == "fail"
    assert row.text.startswith(
        "未达标。智能照明设施安装率为28%，低于80%的要求52个百分点，其中社区内智能照明设备数"
        "280个，社区内公共照明设备总数1000个，尚差520个；未计入：无智能控制器720个（light-0281、")
    assert [(m.numerator, m.denominator, m.value, m.status) for m in row.measures] == [
        (280, 1000, 28.0, "fail")]
    # The claim is not used, and the report says it was ignored and why.
    assert row.ignored_declaration is not None
    assert row.ignored_declaration["text"] == "全部为智能照明"
    assert row.ignored_declaration["why"] == "本行由设备上报数据计算，申报值不能替代实测"
    assert "全部为智能照明" not in row.text
    assert report.verdict == "fail"
    assert report.to_dict()["rows"][4]["ignored_declaration"]["entered_by"] == "社区工作者"


async def test_the_declared_store_refuses_a_value_for_a_measured_row(
        conn: asyncpg.Connection) -> None:
    declared = pytest.importorskip("acceptance.declared")
    from acceptance.declared_check import DeclarationRefused

    await populate(conn, Figures(lights=10, smart_lights=3, households=5, meters_collected=5))
    with pytest.raises(DeclarationRefused, match="measured from the devices"):
        await declared.enter_declaration(conn, COMMUNITY, "growth-05", {"smart_lights": 10},
                                         text="", by="某人", at=AS_OF)
    report = await build_report(conn, COMMUNITY, "growth", now=AS_OF)
    row = {r.row.id: r for r in report.rows}["growth-05"]
    assert (row.verdict, row.ignored_declaration) == ("fail", None)
    assert "智能照明设施安装率为30%" in row.text


async def test_rows_without_data_say_so_and_why(conn: asyncpg.Connection) -> None:
    await import_inventory(conn, parse_inventory(
        "community: {id: empty, name: 空社区, district: '370781'}\n", "empty.yaml"))
    report = await build_report(conn, "empty", "growth", now=AS_OF, declarations={})
    # Information security is checked of scg itself: with nobody given a role, it fails.
    assert report.counts == {"pass": 0, "fail": 1, "no_data": 27, "not_judged": 0}
    assert report.verdict == "fail"
    rows = {r.row.id: r for r in report.rows}
    assert rows["growth-26"].text.startswith(
        "未达标。\n1.社区未登记居民个人信息和设备凭据（0条）；平台只以SM4-GCM加密存储此类信息，"
        "数据库拒绝写入未加密的值；\n2.没有可访问本社区的在用账号，未实现分级授权")
    assert rows["growth-05"].text == ("无数据。智能照明设施安装率无数据：设备台账中没有登记公共"
                                      "照明设备。")
    assert rows["growth-07"].text == ("无数据。家庭能源自动化采集设施安装率无数据：社区未登记家庭"
                                      "总数（设备台账 community.households）。")
    assert rows["growth-15"].text == "无数据。出入管理无数据：设备台账中没有登记小区。"
    assert rows["growth-10"].text.startswith(
        "无数据。\n1.紧急呼叫装置覆盖无数据：社区未登记60岁及以上独居老人数")
    assert rows["growth-01"].text == ("无数据。本行为申报项，尚未填报（需填写：具备千兆接入能力的"
                                      "家庭数；社区家庭总数，并上传证明材料）。")
    assert all(r.text.startswith("无数据。") for r in report.rows if r.row.id != "growth-26")
    with pytest.raises(ReportError, match="community 'nowhere' is not in the inventory "
                                          r"\(known: empty\)"):
        await build_report(conn, "nowhere", "growth")


async def test_a_declared_rate_below_its_threshold_fails_by_how_much(
        conn: asyncpg.Connection) -> None:
    await import_inventory(conn, parse_inventory(
        "community: {id: few, name: 少社区, district: '370781', households: 400}\n",
        "few.yaml"))
    entries = {"growth-01": Entry("growth-01", {"fibre_households": 300,
                                                "total_households": 420}),
               "growth-25": Entry("growth-25", {"campaigns_this_year": 1}),
               "growth-03": Entry("growth-03", {"tv_households": 400}, evidence=[]),
               "growth-26": Entry("growth-26", {"personal_data_encrypted": True,
                                                "tiered_roles": True,
                                                "tamper_proof_records": True}, evidence=[])}
    report = await build_report(conn, "few", "growth", now=AS_OF, declarations=entries)
    rows = {r.row.id: r for r in report.rows}
    assert rows["growth-01"].verdict == "fail"
    assert rows["growth-01"].text == (
        "未达标。家庭千兆光纤网络覆盖率为71.4%，低于80%的要求8.6个百分点，其中具备千兆接入能力"
        "的家庭数300户，社区家庭总数420户。")
    assert rows["growth-01"].notes == ("申报的社区家庭总数420户与社区登记的家庭总数400户不一致",)
    # CSV and XLSX carry the notes in 备注, as the HTML prints them under the text.
    table = list(csv.reader(io.StringIO(export(report, "csv").decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(export(report, "xlsx")))["验收表"]
    remark = "申报的社区家庭总数420户与社区登记的家庭总数400户不一致。"
    assert table[1][COLUMNS.index("备注")] == remark
    assert sheet.cell(row=4, column=COLUMNS.index("备注") + 1).value == remark
    assert rows["growth-25"].text == ("未达标。本年度开展的智慧社区宣传普及活动次数1次"
                                      "（要求不少于2次）。")
    # An entry lacking a value and its evidence is not judged, and the text says why in
    # the report's language (CSV and XLSX carry only the text).
    assert rows["growth-03"].verdict == "no_data"
    assert rows["growth-03"].text == (
        "无数据。已申报具备有线广播电视或交互式网络电视（IPTV）接入能力的家庭数400户。（最近"
        "一次申报缺少社区家庭总数；最近一次申报未附证明材料，不作判定，应补正后重新申报。）")
    assert rows["growth-03"].problems == ("最近一次申报缺少社区家庭总数",
                                          "最近一次申报未附证明材料")
    # Information security is no longer declared: the entry is kept aside, the row is
    # judged from scg's own state (no user of the community holds a role: it fails).
    assert rows["growth-26"].verdict == "fail"
    assert rows["growth-26"].ignored_declaration is not None
    assert rows["growth-26"].ignored_declaration["values"]["tiered_roles"] is True
    assert rows["growth-26"].problems == ()


async def test_rows_that_devices_behind_an_offline_gateway_could_change(
        conn: asyncpg.Connection) -> None:
    await populate(conn)
    await write_batch(conn, [status_msg(False, community=COMMUNITY, gateway=GW,
                                        t=AS_OF - timedelta(minutes=30))])
    report = await build_report(conn, COMMUNITY, "growth", now=AS_OF,
                                declarations=qingzhou_declarations(), county=qingzhou_county())
    rows = {r.row.id: r for r in report.rows}
    # Every device is unknown now. Meters still count (a valid reading in the 48-hour
    # window decides) and the SOS responses happened; the rest fail for want of answers.
    assert rows["growth-07"].verdict == "pass"
    changed = {r.row.id for r in report.changes_if_online}
    assert changed == {"growth-04", "growth-05", "growth-06", "growth-10", "growth-15",
                       "growth-16", "growth-17", "growth-19", "growth-20"}
    assert all(rows[i].verdict == "fail" and rows[i].verdict_if_online == "pass"
               for i in changed)
    assert report.verdict == "fail" and report.verdict_if_online == "pass"
    assert len(rows["growth-05"].unknown["smart_lighting_rate"]) == 112
    assert rows["growth-19"].unknown == {"fire_hazard_compounds": tuple(
        f"c{n:02d}" for n in range(1, 12)), "ebike_elevator_compounds": tuple(
        f"c{n:02d}" for n in range(1, 6))}
    listed = report.to_dict()["if_unknown_online"]
    assert listed["verdict"] == "pass"
    assert [r["id"] for r in listed["rows"]] == sorted(changed)


async def test_a_report_as_of_a_past_time_uses_the_recorded_history(
        conn: asyncpg.Connection) -> None:
    history = pytest.importorskip("acceptance.history")
    await populate(conn, Figures(lights=10, smart_lights=10, households=5, meters_collected=5))
    await history.record_indicators(conn, AS_OF)
    # After the recording, the gateway goes away: a live report fails lighting…
    await write_batch(conn, [status_msg(False, community=COMMUNITY, gateway=GW,
                                        t=AS_OF + timedelta(hours=2))])
    live = await build_report(conn, COMMUNITY, "growth", now=AS_OF + timedelta(hours=3))
    assert {r.row.id: r for r in live.rows}["growth-05"].verdict == "fail"
    # …and the report as of 30 minutes after the recording reads the recording.
    past = await build_report(conn, COMMUNITY, "growth", as_of=AS_OF + timedelta(minutes=30),
                              now=AS_OF + timedelta(hours=3))
    assert not past.live and past.as_of == AS_OF + timedelta(minutes=30)
    assert set(past.indicator_sources.values()) == {"recorded"}
    row = {r.row.id: r for r in past.rows}["growth-05"]
    assert row.verdict == "pass" and "社区内智能照明设备数10个" in row.text
    assert row.measures[0].source == "recorded"


async def test_benchmark_is_marked_provisional_and_db37_scores_by_weight(
        conn: asyncpg.Connection) -> None:
    await populate(conn, Figures(lights=10, smart_lights=7, households=5, meters_collected=5))
    bench = await build_report(conn, COMMUNITY, "benchmark", now=AS_OF, declarations={})
    doc = bench.to_dict()
    assert doc["provisional"] is True and "标杆型指标表未公开" in doc["catalogue_note"]
    hazards = {r.row.id: r for r in bench.rows}["benchmark-11"]
    assert hazards.verdict == "pass"     # every compound: 100 % of 11, and of 5 with lifts
    assert [(m.threshold, m.numerator, m.denominator) for m in hazards.measures] == [
        (100.0, 11, 11), (100.0, 5, 5)]
    entries = {"db37-01": Entry("db37-01", {"fibre_households": 5, "online_households": 5,
                                            "open_access": True}),
               "db37-24": Entry("db37-24", {"innovative_applications": 2})}
    db37 = await build_report(conn, COMMUNITY, "db37", now=AS_OF, declarations=entries)
    assert db37.score == 13.0            # L1P1 3 % + L4P1 10 %
    lighting = {r.row.id: r for r in db37.rows}["db37-08"]
    # 70 % smart lighting passes DB37's 60 %, but no light registers its rated power.
    assert lighting.verdict == "no_data"
    assert lighting.text.startswith("无数据。\n1.智能照明设施安装率达到70%，")
    assert "2.公共照明节能率无数据：没有同时登记额定功率（rated_power_w）" in lighting.text
    assert db37.to_dict()["score_max"] == 100
