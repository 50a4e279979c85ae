"""Completion texts (本社区完成情况) of measured rows, written from the indicator figures in
the phrasing of the published tables (the clauses are in `acceptance.clauses`). A row with
nothing eligible, as the inventory shows, is met and says so as the tables do
(`达标。社区内19层及以上住宅0栋。`); a figure without data says why and what to register. Rows
with several requirements number their clauses (1.…；2.…。) as the published video and
fire-hazard rows do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from acceptance.catalogue import Row
from acceptance.clauses import BUILDERS, VIDEO_TRIPLE, Results, TextContext, key_positions
from acceptance.judge import MeasureOutcome, breakdown_of
from acceptance.phrasing import (
    INDICATOR_NAMES,
    VERDICT_WORDS,
    Clause,
    Figure,
    id_list,
    number,
)
from indicators.model import IndicatorResult, percent_text

#: Why a figure has nothing to divide by, per indicator, when the inventory holds nothing
#: to count at all (an attribute some objects lack is named from the result instead).
NO_DATA: Final[dict[str, str]] = {
    "smart_lighting_rate": "智能照明设施安装率无数据：设备台账中没有登记公共照明设备",
    "video_key_coverage": "覆盖率无数据：设备台账中没有登记关键位置",
    "video_networked_rate": "联网率无数据：设备台账中没有登记关键位置的摄像机",
    "video_intact_rate": "摄像机完好率无数据：设备台账中没有登记关键位置的摄像机",
    "video_picture_out_rate": "公共视频资源出图率无数据：设备台账中没有登记公共摄像机",
    "video_record_compliance": "视频监控编码、名称、行政区划、经纬度等合规率无数据：设备台账中"
                               "没有登记摄像机",
    "energy_collection_rate": "家庭能源自动化采集设施安装率无数据：社区未登记家庭总数"
                              "（设备台账 community.households）",
    "smart_charging_compounds": "智能充电设施无数据：设备台账中没有登记小区",
    "fire_hazard_compounds": "消防隐患自动化识别无数据：设备台账中没有登记小区",
    "fire_alarm_coverage": "火灾自动报警覆盖无数据：设备台账中没有登记住宅建筑",
    "ebike_elevator_compounds": "电动车进电梯识别无数据：设备台账中没有登记小区",
    "highrise_throw_coverage": "高空抛物监测无数据：设备台账中没有登记住宅建筑",
    "access_control_compounds": "出入管理无数据：设备台账中没有登记小区",
    "perimeter_compounds": "周界防范无数据：设备台账中没有登记小区",
    "elderly_sos_coverage": "紧急呼叫装置覆盖无数据：社区未登记60岁及以上独居老人数"
                            "（设备台账 community.lone_elderly）",
    "elderly_sos_response_rate": "15分钟响应率无数据：统计期内没有已有结果的紧急呼叫（可按下"
                                 "一个紧急呼叫装置并确认，以验证响应）",
    "lighting_energy_saving": "公共照明节能率无数据：没有同时登记额定功率（rated_power_w）和"
                              "每日亮灯时长（burn_hours_per_day）并有一天以上计量电量的智能照明"
                              "灯具",
}
#: An attribute the inventory lacks: what it is called, the objects that lack it, the
#: key to register.
ATTRIBUTES: Final[dict[str, tuple[str, str, str]]] = {
    "floors": ("楼层数", "栋住宅建筑", "floors: N"),
    "closed": ("是否封闭式小区", "个小区", "closed: true/false"),
    "ebikes": ("是否有电动自行车", "个小区", "ebikes: true/false"),
    "elevators": ("是否有电梯", "个小区", "elevators: true/false")}
#: The published way of saying a row has nothing eligible (counties may word it their own
#: way: `acceptance.county`); {floors} is the tier's floor count.
NOT_APPLICABLE: Final[dict[str, str]] = {
    "highrise_throw_coverage": "社区内{floors}层及以上住宅0栋",
    "access_control_compounds": "社区内封闭式小区0个",
    "perimeter_compounds": "社区内封闭式小区0个",
    "smart_charging_compounds": "社区内有电动自行车的小区0个",
    "ebike_elevator_compounds": "社区内有电梯的小区0个",
    "elderly_sos_coverage": "社区内60岁及以上独居老人0人",
    "elderly_sos_response_rate": "社区内60岁及以上独居老人0人，无紧急呼叫需要响应",
}
#: What the inventory shows for a row with nothing eligible, as a figure: its label,
#: unit, and the breakdown reason listing the objects (None: `details.residential`).
_ELIGIBILITY_FIGURES: Final[dict[str, tuple[str, str, str | None]]] = {
    "highrise_throw_coverage": ("登记住宅建筑数", "栋", None),
    "access_control_compounds": ("登记小区数（均非封闭式）", "个", "not_closed"),
    "perimeter_compounds": ("登记小区数（均非封闭式）", "个", "not_closed"),
    "smart_charging_compounds": ("登记小区数（均无电动自行车）", "个", "no_ebikes"),
    "ebike_elevator_compounds": ("登记小区数（均无电梯）", "个", "no_elevators"),
}


def row_verdict(outcomes: Sequence[MeasureOutcome]) -> str:
    """fail when any measure fails; pass when every measure passes or has nothing
    eligible; otherwise no_data."""
    statuses = [o.status for o in outcomes]
    if "fail" in statuses:
        return "fail"
    if statuses and all(s in ("pass", "not_applicable") for s in statuses):
        return "pass"
    return "no_data"


def compose(verdict: str, clauses: Sequence[Clause], suffix: str = "") -> str:
    """`达标。…。` with one clause, `达标。\\n1.…；\\n2.…。` with several."""
    word = VERDICT_WORDS[verdict]
    if len(clauses) == 1:
        return f"{word}。{clauses[0].text}。{suffix}"
    body = "；\n".join(f"{i}.{c.text}" for i, c in enumerate(clauses, 1))
    return f"{word}。\n{body}。{suffix}"


def not_applicable_clause(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    """The published sentence for nothing eligible, with what the inventory shows."""
    floors = r.details.get("min_floors", {}).get(o.basis, "")
    wording = ctx.not_applicable.get(o.indicator) or NOT_APPLICABLE.get(
        o.indicator, f"{INDICATOR_NAMES.get(o.indicator, o.indicator)}：社区内无适用对象")
    figures: list[Figure] = []
    shown = _ELIGIBILITY_FIGURES.get(o.indicator)
    if shown is not None:
        label, unit, reason = shown
        count = r.details.get("residential") if reason is None else len(
            breakdown_of(r, o.basis).get(reason, ()))
        figures.append(Figure(label, count, unit, "inventory"))
    if o.indicator == "highrise_throw_coverage":
        figures.append(Figure(f"{floors}层及以上住宅数", 0, "栋", "inventory",
                              "按设备台账登记的楼层数"))
    return Clause(wording.format(floors=floors), tuple(figures))


def no_data_clause(o: MeasureOutcome, r: IndicatorResult | None, ctx: TextContext) -> Clause:
    """Why the figure has no data, naming what to register where the inventory lacks an
    attribute for some objects."""
    lacking: Mapping[str, Any] = (r.details.get("unregistered") or {}) if r else {}
    attribute = ATTRIBUTES.get(str(lacking.get("attribute")))
    ids = list(lacking.get("ids", ()))
    if attribute is None or not ids:
        return Clause(NO_DATA.get(o.indicator, f"{INDICATOR_NAMES.get(o.indicator)}无数据"))
    what, objects, key = attribute
    kind = "building" if lacking.get("objects") == "buildings" else "compound"
    listed = id_list(ids, lambda i: ctx.names.of(kind, i))
    return Clause(f"{INDICATOR_NAMES.get(o.indicator, o.indicator)}无数据：设备台账中"
                  f"{len(ids)}{objects}未登记{what}（{listed}），请在设备台账中登记（{key}）")


def measured_text(row: Row, outcomes: Sequence[MeasureOutcome], results: Results,
                  ctx: TextContext | None = None) -> tuple[str, str, tuple[Figure, ...]]:
    """(verdict, completion text, figures) of a measured row."""
    ctx = ctx or TextContext()
    verdict = row_verdict(outcomes)
    by_id = {o.indicator: o for o in outcomes}
    clauses: list[Clause] = []
    done: set[str] = set()
    for o in outcomes:
        if o.indicator in done:
            continue
        if o.indicator in VIDEO_TRIPLE:
            triple = [by_id[i] for i in VIDEO_TRIPLE if i in by_id]
            clauses.append(key_positions(triple, results, ctx))
            done.update(t.indicator for t in triple)
            continue
        done.add(o.indicator)
        result = results.get(o.indicator)
        if result is None:
            name = INDICATOR_NAMES.get(o.indicator, o.indicator)
            clauses.append(Clause(f"{name}无数据：该时刻没有此指标的计算结果"))
        elif result is not None and o.status == "not_applicable":
            clauses.append(not_applicable_clause(o, result, ctx))
        elif result is None or o.denominator == 0:
            clauses.append(no_data_clause(o, result, ctx))
        else:
            clauses.append(BUILDERS[o.indicator](o, result, ctx))
    suffix = ""
    if "2种社区养老服务" in row.requirement and any(
            i.startswith("elderly_") for i in by_id):
        suffix = ("（第2项“60岁及以上常住老年人占比超过30%的社区提供2种社区养老服务”"
                  "不由设备测量，未计入本行判定。）")
    figures = tuple(f for c in clauses for f in c.figures)
    return verdict, compose(verdict, clauses, suffix), figures


def not_judged_text(why: str) -> str:
    """A measured row judged on nothing (a time before the community's first data)."""
    return f"{VERDICT_WORDS['not_judged']}。{why}。"


def value_text(o: MeasureOutcome) -> str:
    """`28%（280/1000）` for the tables' figure columns, `—` without data: the same
    truncated figure as the API's `value` and the completion text."""
    if o.denominator == 0:
        return "—"
    return (f"{percent_text(o.numerator, o.denominator)}%（{number(o.numerator)}/"
            f"{number(o.denominator)}）")
