"""One clause per measured indicator, in the phrasing of the published tables: `智能照明设施
安装率达到100%，其中社区内智能照明设备数112个，社区内公共照明设备总数112个`; a shortfall says by
how much and what is left out, by name, and why a device's state is unknown in the words
of `TextContext` (gateway offline, or not reported yet).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from acceptance.judge import MeasureOutcome, breakdown_of
from acceptance.names import Names
from acceptance.phrasing import (
    Clause,
    Figure,
    from_tenths,
    needed,
    number,
    pct,
    rate_phrase,
    reasons_phrase,
    tenths,
    thr,
    window_words,
)
from indicators.model import IndicatorResult

Results = Mapping[str, IndicatorResult]

FUNCTION_WORDS: Final = {"timed_charging": "定时充电", "auto_power_off": "自动断电",
                         "fault_alarm": "故障报警"}
HAZARDS: Final = "消防通道占用、消防栓异常、防火门打开、电气设施异常等情况的自动化识别和上报"
KEY_PLACES: Final = "视频监控在小区出入口、停车库（场）出入口、社区主干道、消防通道等关键位置的"
VIDEO_TRIPLE: Final = ("video_key_coverage", "video_networked_rate", "video_intact_rate")


@dataclass(frozen=True, slots=True)
class TextContext:
    """What a clause needs beyond the figures: names of the items it lists, why devices of
    an indicator are in state unknown (`unknown_words`), and a county's own wording for
    rows with nothing eligible (`not_applicable`)."""

    names: Names = field(default_factory=Names)
    unknown_words: Mapping[str, str] = field(default_factory=dict)
    not_applicable: Mapping[str, str] = field(default_factory=dict)

    def namer(self, indicator: str, result: IndicatorResult | None) -> Callable[[str], str]:
        return self.names.namer(indicator, result.details if result is not None else None)

    def unknown(self, indicator: str) -> str:
        return self.unknown_words.get(indicator, "状态未知")


Builder = Callable[[MeasureOutcome, IndicatorResult, TextContext], Clause]


def _passed(o: MeasureOutcome) -> bool:
    return o.status == "pass"


def rate(name: str, o: MeasureOutcome) -> str:
    if o.denominator == 0 or o.threshold is None:
        return f"{name}无数据"
    return rate_phrase(name, o.numerator, o.denominator, o.threshold, _passed(o))


def left_out(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext, unit: str,
             lead: str = "未计入", *, always: bool = False,
             skip: Sequence[str] = ()) -> str:
    """`；未计入：无智能控制器720个（…）` when the figure falls short (or `always`)."""
    if _passed(o) and not always:
        return ""
    breakdown = {k: v for k, v in breakdown_of(r, o.basis).items() if k not in skip}
    listed = reasons_phrase(breakdown, unit, name=ctx.namer(o.indicator, r),
                            unknown_word=ctx.unknown(o.indicator))
    return f"；{lead}：{listed}" if listed else ""


def _share(o: MeasureOutcome, achieved: str) -> str:
    """`社区内100%小区实现…` or `社区内仅60%小区实现…，低于80%的要求20个百分点`."""
    assert o.threshold is not None
    t = tenths(o.numerator, o.denominator)
    if _passed(o):
        return f"社区内{from_tenths(t)}%小区实现{achieved}"
    gap = round(o.threshold * 10) - t
    return (f"社区内仅{from_tenths(t)}%小区实现{achieved}，低于{thr(o.threshold)}%的要求"
            f"{from_tenths(gap)}个百分点")


def _every(o: MeasureOutcome, whole: str, each_passing: str, part_passing: str,
           unit: str, r: IndicatorResult, ctx: TextContext) -> str:
    """`{whole}，{each_passing}` when every item passes; else how many do and why not."""
    n, d = o.numerator, o.denominator
    if _passed(o) and n == d:
        return f"{whole}，{each_passing}"
    text = f"{whole}，其中{number(n)}{unit}{part_passing}"
    if not _passed(o):
        text += "，" + rate("达标比例", o)
    return text + left_out(o, r, ctx, unit, "未达到")


def lighting(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    n, d = o.numerator, o.denominator
    text = (f"{rate('智能照明设施安装率', o)}，其中社区内智能照明设备数{number(n)}个，"
            f"社区内公共照明设备总数{number(d)}个")
    if not _passed(o) and o.threshold is not None:
        text += f"，尚差{needed(int(n), int(d), o.threshold)}个"
    return Clause(text + left_out(o, r, ctx, "个"), (
        Figure("社区内智能照明设备数", n, "个", "measured",
               f"有智能控制器且{window_words(r.window.seconds)}内上报的公共照明设备"),
        Figure("社区内公共照明设备总数", d, "个", "inventory")))


def energy_saving(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    lights = r.details.get("lights", {})
    baseline, metered = r.details.get("baseline_kwh", 0), r.details.get("metered_kwh", 0)
    text = (f"{rate('社区路灯、景观灯节能率', o)}（{window_words(r.window.seconds)}，计入智能照明"
            f"灯具{lights.get('counted', 0)}个：按额定功率和每日亮灯时长计算的基准耗电量"
            f"{number(baseline)}千瓦时，智能控制器计量耗电量{number(metered)}千瓦时）")
    text += left_out(o, r, ctx, "个", "未计入的智能照明灯具", always=True,
                     skip=("plain",))
    return Clause(text, (
        Figure("基准耗电量", baseline, "千瓦时", "inventory", "额定功率×每日亮灯时长×计量天数"),
        Figure("计量耗电量", metered, "千瓦时", "measured", "灯具控制器的电量计数增量")))


def key_positions(triple: Sequence[MeasureOutcome], results: Results,
                  ctx: TextContext) -> Clause:
    names = {"video_key_coverage": "覆盖率", "video_networked_rate": "联网率",
             "video_intact_rate": "摄像机完好率"}
    shown = {pct(o.numerator, o.denominator) for o in triple if o.denominator}
    if len(triple) == 3 and all(_passed(o) for o in triple) and len(shown) == 1:
        # The published phrasing when the three agree: 覆盖率、联网率、摄像机完好率均达到100%.
        parts = [f"覆盖率、联网率、摄像机完好率均达到{shown.pop()}%"]
    else:
        parts = [rate(names[o.indicator], o) for o in triple]
    by_id = {o.indicator: o for o in triple}
    counts: list[str] = []
    figures: list[Figure] = []
    cover = by_id.get("video_key_coverage")
    if cover is not None and cover.denominator:
        counts.append(f"关键位置{number(cover.denominator)}处，有联网且完好摄像机的"
                      f"{number(cover.numerator)}处")
        figures += [Figure("关键位置数", cover.denominator, "处", "inventory"),
                    Figure("有联网且完好摄像机的关键位置数", cover.numerator, "处", "measured")]
    net, intact = by_id.get("video_networked_rate"), by_id.get("video_intact_rate")
    cams = next((o.denominator for o in (net, intact) if o is not None), 0)
    if cams:
        line = f"关键位置摄像机{number(cams)}台"
        figures.append(Figure("关键位置摄像机数", cams, "台", "inventory"))
        for o, word in ((net, "联网"), (intact, "完好")):
            if o is not None:
                line += f"，{word}{number(o.numerator)}台"
                figures.append(Figure(f"{word}摄像机数", o.numerator, "台", "measured"))
        counts.append(line)
    text = KEY_PLACES + "，".join(parts) + (f"（{'；'.join(counts)}）" if counts else "")
    for o in triple:
        r = results.get(o.indicator)
        if r is not None and not _passed(o) and o.denominator:
            unit = "处" if o.indicator == "video_key_coverage" else "台"
            text += left_out(o, r, ctx, unit, f"{names[o.indicator]}未计入")
    return Clause(text, tuple(figures))


def picture_out(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    period = int(r.details.get("probe_period_s", r.window.seconds))
    within = window_words(period).removeprefix("近") + "内"
    text = (f"{rate('公共视频资源出图率', o)}（公共摄像机{number(o.denominator)}台，{within}"
            f"抽检出图正常{number(o.numerator)}台）")
    return Clause(text + left_out(o, r, ctx, "台"), (
        Figure("公共摄像机数", o.denominator, "台", "inventory"),
        Figure("抽检出图正常的公共摄像机数", o.numerator, "台", "measured")))


def record_compliance(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    text = (f"{rate('视频监控编码、名称、行政区划、经纬度等合规率', o)}（摄像机"
            f"{number(o.denominator)}台，档案全部合规{number(o.numerator)}台")
    failed = reasons_phrase(r.breakdown, "台", name_ids=not _passed(o),
                            name=ctx.namer(o.indicator, r))
    text += (f"；{failed}）" if failed else "）")
    return Clause(text, (Figure("摄像机数", o.denominator, "台", "inventory"),
                         Figure("档案全部合规的摄像机数", o.numerator, "台", "inventory",
                                "按GB/T 28181编码、GB/T 2260行政区划、命名与坐标规则核验")))


def energy(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    meters = len(r.numerator_devices)
    households = r.details.get("households", {})
    text = (f"{rate('家庭能源自动化采集设施安装率', o)}，远程能源智能监控表数量{meters}个，"
            f"社区家庭总数{number(o.denominator)}户（{window_words(r.window.seconds)}内自动"
            f"采集到有效读数的家庭{number(o.numerator)}户）")
    if not _passed(o):
        without = households.get("without_meter")
        if without:
            text += f"；无远程表的家庭{without}户"
        text += left_out(o, r, ctx, "个", "未采集到的表")
    return Clause(text, (
        Figure("远程能源智能监控表数量", meters, "个", "measured", "统计期内返回有效读数的表"),
        Figure("自动采集到有效读数的家庭数", o.numerator, "户", "measured"),
        Figure("社区家庭总数", o.denominator, "户", "inventory",
               "社区登记的家庭总数（community.households）")))


def charging(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    figure = r.tiers.get(o.basis)
    required = figure.requires if figure is not None else ()
    functions = "、".join(FUNCTION_WORDS.get(f, f) for f in required)
    window = window_words(r.window.seconds)
    n, d = o.numerator, o.denominator
    whole = f"社区内共{number(d)}个有电动自行车的小区"
    if _passed(o) and n == d:
        text = (f"{whole}，每个小区拥有具备{functions}等功能的智能安全充电设施（{window}内"
                f"均已实际显示上述功能）")
    else:
        text = (f"{whole}，其中{number(n)}个小区的智能安全充电设施在{window}内实际显示了"
                f"{functions}等功能，{number(d - n)}个小区未达到"
                + left_out(o, r, ctx, "个", "原因"))
    return Clause(text, (Figure("有电动自行车的小区数", d, "个", "inventory"),
                         Figure("充电设施显示所需功能的小区数", n, "个", "measured")))


def fire_hazards(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    text = (_share(o, HAZARDS) + f"（小区{number(o.denominator)}个，其中"
            f"{number(o.numerator)}个）" + left_out(o, r, ctx, "个", "未达到"))
    return Clause(text, (Figure("小区数", o.denominator, "个", "inventory"),
                         Figure("四类消防隐患均有在线识别设备的小区数", o.numerator, "个",
                                "measured")))


def ebike_elevators(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    text = (_share(o, "电动车进电梯智能识别、自动报警")
            + f"（有电梯的小区{number(o.denominator)}个，其中{number(o.numerator)}个）"
            + left_out(o, r, ctx, "个", "未达到"))
    return Clause(text, (Figure("有电梯的小区数", o.denominator, "个", "inventory"),
                         Figure("每部电梯均识别并报警的小区数", o.numerator, "个", "measured")))


def fire_alarm(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    n, d = o.numerator, o.denominator
    if _passed(o) and n == d:
        text = (f"社区内住宅建筑公共区域实现火灾自动报警系统全覆盖（住宅建筑{number(d)}栋，"
                "公共区域报警回路均在线）")
    else:
        text = (f"社区内住宅建筑{number(d)}栋，其中{number(n)}栋公共区域实现火灾自动报警，"
                + rate("覆盖率", o) + left_out(o, r, ctx, "栋", "未覆盖"))
    return Clause(text, (Figure("住宅建筑数", d, "栋", "inventory"),
                         Figure("公共区域报警回路均在线的住宅建筑数", n, "栋", "measured")))


def throw(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    floors = r.details.get("min_floors", {}).get(o.basis, "")
    text = _every(o, f"社区内{floors}层及以上住宅{number(o.denominator)}栋",
                  "均实现高空抛物监控报警，监控范围覆盖3层及以上所有窗户和洞口",
                  "实现高空抛物监控报警且覆盖3层及以上所有窗户和洞口", "栋", r, ctx)
    return Clause(text, (Figure(f"{floors}层及以上住宅数", o.denominator, "栋", "inventory",
                                "按设备台账登记的楼层数"),
                         Figure("高空抛物监控覆盖的住宅数", o.numerator, "栋", "measured")))


def access(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    text = _every(o, f"社区内封闭式小区{number(o.denominator)}个",
                  "出入口部署智能门禁系统，实现人员和车辆的通行认证（人员、车辆门禁设备均在线）",
                  "小区出入口的人员、车辆智能门禁在线", "个", r, ctx)
    return Clause(text, (Figure("封闭式小区数", o.denominator, "个", "inventory"),
                         Figure("人员和车辆门禁均在线的小区数", o.numerator, "个", "measured")))


def perimeter(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    text = _every(o, f"社区内封闭式小区{number(o.denominator)}个",
                  "均通过红外入侵报警、雷达监测、电子围栏、周界视频资源的智能化分析等周界防护"
                  "设施（至少具备一种），实现入侵检测报警（周界设备在线）",
                  "小区的周界防护设施在线", "个", r, ctx)
    return Clause(text, (
        Figure("封闭式小区数", o.denominator, "个", "inventory"),
        Figure("周界防护设备在线的小区数", o.numerator, "个", "measured")))


def sos_coverage(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    text = (f"社区为60岁及以上独居老人配备紧急呼叫装置，登记的独居老人{number(o.denominator)}"
            f"人，{number(o.numerator)}人的紧急呼叫装置在线，" + rate("覆盖率", o)
            + left_out(o, r, ctx, "台", "未计入的装置"))
    return Clause(text, (Figure("登记的独居老人数", o.denominator, "人", "inventory",
                                "社区登记（community.lone_elderly）"),
                         Figure("紧急呼叫装置在线的独居老人数", o.numerator, "人", "measured")))


def sos_response(o: MeasureOutcome, r: IndicatorResult, ctx: TextContext) -> Clause:
    window = window_words(r.window.seconds)
    n, d = o.numerator, o.denominator
    if _passed(o) and n == d:
        text = (f"实现意外事故发生后15分钟内快速响应（{window}内紧急呼叫{number(d)}次，均在15"
                "分钟内响应）")
    else:
        text = (f"{window}内紧急呼叫{number(d)}次，{number(n)}次在15分钟内响应，"
                + rate("响应率", o) + left_out(o, r, ctx, "次", "未及时响应"))
    return Clause(text, (Figure("紧急呼叫次数", d, "次", "measured"),
                         Figure("15分钟内响应次数", n, "次", "measured")))


BUILDERS: Final[dict[str, Builder]] = {
    "smart_lighting_rate": lighting,
    "lighting_energy_saving": energy_saving,
    "video_picture_out_rate": picture_out,
    "video_record_compliance": record_compliance,
    "energy_collection_rate": energy,
    "smart_charging_compounds": charging,
    "fire_hazard_compounds": fire_hazards,
    "ebike_elevator_compounds": ebike_elevators,
    "fire_alarm_coverage": fire_alarm,
    "highrise_throw_coverage": throw,
    "access_control_compounds": access,
    "perimeter_compounds": perimeter,
    "elderly_sos_coverage": sos_coverage,
    "elderly_sos_response_rate": sos_response,
}
