"""The growth-tier report of a community built with the device and household figures of the
published Qingzhou table carries that table's figures and verdicts on every measured row,
and, with the declared values that table reports, the same overall verdict."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import pytest
from acceptance_support import (
    AS_OF,
    COMMUNITY,
    populate,
    qingzhou_county,
    qingzhou_declarations,
)

from acceptance.report import AcceptanceReport, build_report

#: The published table, kept as test data (its first line names where it comes from).
SEED = Path(__file__).parent / "data" / "growth-tier-acceptance-qingzhou-2024.txt"

#: 本社区完成情况 of the measured rows as published (whitespace aside), clause by clause.
PUBLISHED: dict[str, tuple[str, ...]] = {
    "growth-04": ("1.视频监控在小区出入口、停车库（场）出入口、社区主干道、消防通道等关键位置的"
                  "覆盖率、联网率、摄像机完好率均达到100%",
                  "2.公共视频资源出图率达到100%",
                  "3.视频监控编码、名称、行政区划、经纬度等合规率达到100%"),
    "growth-05": ("智能照明设施安装率达到100%，其中社区内智能照明设备数112个，"
                  "社区内公共照明设备总数112个",),
    "growth-06": ("社区内共11个", "定时充电、自动断电、故障报警等功能的智能安全充电设施"),
    "growth-07": ("家庭能源自动化采集设施安装率达到100%，远程能源智能监控表数量3790个，"
                  "社区家庭总数3790户",),
    "growth-10": ("1.社区为60岁及以上独居老人配备紧急呼叫装置",
                  "实现意外事故发生后15分钟内快速响应"),
    "growth-15": ("社区内封闭式小区11个，出入口部署智能门禁系统，实现人员和车辆的通行认证",),
    "growth-16": ("社区内封闭式小区11个，均通过红外入侵报警、雷达监测、电子围栏、周界视频资源的"
                  "智能化分析等周界防护设施（至少具备一种），实现入侵检测报警",),
    "growth-17": ("社区内12层及以上住宅5栋，均实现高空抛物监控报警，监控范围覆盖3层及以上所有"
                  "窗户和洞口",),
    "growth-19": ("1.社区内100%小区实现消防通道占用、消防栓异常、防火门打开、电气设施异常等情况"
                  "的自动化识别和上报",
                  "2.社区内100%小区实现电动车进电梯智能识别、自动报警"),
    "growth-20": ("社区内住宅建筑公共区域实现火灾自动报警系统全覆盖",),
}


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
async def report(migrated: str) -> AcceptanceReport:
    conn = await asyncpg.connect(migrated)
    try:
        await populate(conn)
        return await build_report(conn, COMMUNITY, "growth", now=AS_OF,
                                  declarations=qingzhou_declarations(),
                                  county=qingzhou_county())
    finally:
        await conn.close()


def test_the_quoted_published_texts_are_in_the_seed() -> None:
    seed = _flat(SEED.read_text(encoding="utf-8"))
    for row, clauses in PUBLISHED.items():
        for clause in clauses:
            assert _flat(clause) in seed, (row, clause)


async def test_measured_rows_carry_the_published_figures_and_verdicts(
        report: AcceptanceReport) -> None:
    rows = {r.row.id: r for r in report.rows}
    measured = {r.row.id for r in report.rows if r.row.kind == "measured"}
    assert measured == set(PUBLISHED)
    for row_id, clauses in PUBLISHED.items():
        row = rows[row_id]
        assert row.verdict == "pass", (row_id, row.text)
        assert row.text.startswith("达标。"), row.text
        for clause in clauses:
            assert clause in row.text, (row_id, clause, row.text)
    # The two rows the published table words exactly as we do, end to end.
    assert rows["growth-05"].text == ("达标。智能照明设施安装率达到100%，其中社区内智能照明"
                                      "设备数112个，社区内公共照明设备总数112个。")
    assert rows["growth-17"].text == ("达标。社区内12层及以上住宅5栋，均实现高空抛物监控报警，"
                                      "监控范围覆盖3层及以上所有窗户和洞口。")


async def test_measured_figures_say_where_each_number_comes_from(
        report: AcceptanceReport) -> None:
    rows = {r.row.id: r for r in report.rows}
    lighting = {f.label: (f.value, f.source) for f in rows["growth-05"].figures}
    assert lighting == {"社区内智能照明设备数": (112, "measured"),
                        "社区内公共照明设备总数": (112, "inventory")}
    energy = {f.label: (f.value, f.source) for f in rows["growth-07"].figures}
    assert energy["远程能源智能监控表数量"] == (3790, "measured")
    assert energy["社区家庭总数"] == (3790, "inventory")
    charging = [(m.indicator, m.numerator, m.denominator, m.threshold)
                for m in rows["growth-06"].measures]
    assert charging == [("smart_charging_compounds", 11, 11, 100.0)]
    video = [(m.indicator, m.numerator, m.denominator) for m in rows["growth-04"].measures]
    assert video == [("video_key_coverage", 12, 12), ("video_networked_rate", 12, 12),
                     ("video_intact_rate", 12, 12), ("video_picture_out_rate", 16, 16),
                     ("video_record_compliance", 16, 16)]


async def test_with_the_published_declarations_the_whole_table_passes(
        report: AcceptanceReport) -> None:
    assert report.counts == {"pass": 28, "fail": 0, "no_data": 0, "not_judged": 0}
    assert report.verdict == "pass" and report.to_dict()["verdict_word"] == "达标"
    assert report.changes_if_online == ()
    rows = {r.row.id: r for r in report.rows}
    assert rows["growth-01"].text == ("达标。家庭千兆光纤网络覆盖率达到100%，其中具备千兆接入"
                                      "能力的家庭数3790户，社区家庭总数3790户。")
    assert rows["growth-02"].text.startswith("达标。5G网络覆盖率达到100%，其中5G信号覆盖的区域"
                                             "面积0.4平方公里，社区总面积0.4平方公里")
    assert [f.source for f in rows["growth-01"].figures] == ["declared", "declared"]
    assert rows["growth-01"].notes == ()      # 3790 declared = 3790 registered
    # 居民满意度 is judged on the county's published 100 %.
    assert rows["growth-28"].text == ("达标。已通过调查问卷等方式评价居民的切身感受：是；居民满意度"
                                      "100%（县级要求不少于100%）。")
