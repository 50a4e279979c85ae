"""The building blocks of completion texts: figures with their source, percentages written
the way the published tables write them (one rule for every format:
`indicators.model.tenths`), shortfalls, reason words and lists of what is left out, by
name."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from indicators.model import tenths as _tenths
from indicators.model import tenths_text

Source = Literal["measured", "inventory", "declared", "system"]
#: How each source is named next to a figure in the report ("system": read by scg from
#: its own database — sealed personal data, users, the records' hash chains).
SOURCE_WORDS: Final[dict[str, str]] = {"measured": "设备实测", "inventory": "设备台账",
                                       "declared": "申报", "system": "平台实测"}
#: `not_judged`: nothing to judge against (a threshold no one published) or nothing to
#: judge on (a time before the community's first data).
VERDICT_WORDS: Final[dict[str, str]] = {"pass": "达标", "fail": "未达标", "no_data": "无数据",
                                        "not_judged": "未判定"}
#: Every measured indicator by the name the published tables use.
INDICATOR_NAMES: Final[dict[str, str]] = {
    "smart_lighting_rate": "智能照明设施安装率", "video_key_coverage": "关键位置覆盖率",
    "video_networked_rate": "联网率", "video_intact_rate": "摄像机完好率",
    "video_picture_out_rate": "公共视频资源出图率",
    "video_record_compliance": "编码、名称、行政区划、经纬度等合规率",
    "energy_collection_rate": "家庭能源自动化采集设施安装率",
    "smart_charging_compounds": "智能充电设施", "fire_hazard_compounds": "消防隐患自动化识别",
    "ebike_elevator_compounds": "电动车进电梯智能识别", "fire_alarm_coverage": "火灾自动报警覆盖",
    "highrise_throw_coverage": "高空抛物监测", "access_control_compounds": "出入管理",
    "perimeter_compounds": "周界防范", "elderly_sos_coverage": "紧急呼叫装置覆盖",
    "elderly_sos_response_rate": "15分钟响应率", "lighting_energy_saving": "公共照明节能率"}

#: Why an item is left out of a numerator, in words, for every breakdown reason the
#: evaluators use. Reasons that only mean "not in this figure" are absent (see SKIPPED).
REASON_WORDS: Final[dict[str, str]] = {
    "plain": "无智能控制器", "silent": "离线或统计期内未上报", "unknown": "状态未知",
    "no_access": "凭据或时钟错误、无法接入", "offline": "离线", "unmonitored": "未接入（无协议）",
    "open_fault": "有未消除的遮挡或视频丢失故障", "never_probed": "未抽检画面",
    "bad_picture": "画面抽检未通过", "no_camera": "无摄像机", "not_intact": "摄像机均不完好",
    "stale": "1小时内未抽检", "slow": "出图超时", "timeout": "出图超时",
    "unreachable": "无法连接", "auth": "认证失败", "http_error": "取图出错",
    "not_jpeg": "图像格式错误", "corrupt": "图像损坏", "black": "黑屏", "white": "白屏",
    "blank": "无画面内容", "frozen": "画面冻结", "failed": "抽检失败",
    "code": "编码不合规", "civil_code": "行政区划不合规", "name": "名称不合规",
    "coordinates": "经纬度不合规", "no_household": "未关联家庭", "not_remote": "非远程表",
    "no_station": "无充电设施", "no_station_online": "充电设施离线",
    "functions_not_shown": "统计期内未显示所需功能", "no_public_zone": "公共区域无探测回路",
    "panel_not_online": "报警主机离线", "zone_disabled": "回路被屏蔽", "zone_fault": "回路故障",
    "transmission_device_not_online": "用户信息传输装置离线",
    "no_fire_lane": "缺消防通道占用识别", "no_hydrant": "缺消防栓异常识别",
    "no_fire_door": "缺防火门打开识别", "no_electrical": "缺电气设施异常识别",
    "no_detector": "无检测设备", "detector_not_online": "检测设备离线",
    "alarm_not_shown": "统计期内未产生报警", "floors_not_covered": "3层及以上楼层未全覆盖",
    "not_online": "设备离线", "no_person_gate": "无人员门禁", "no_vehicle_gate": "无车辆门禁",
    "late": "超过15分钟响应", "missed": "未响应",
    "elevators_not_registered": "登记有电梯但未登记电梯设备",
    "no_rated_power": "未登记额定功率", "no_burn_hours": "未登记每日亮灯时长",
    "not_metered": "统计期内无电量读数", "metered_too_short": "电量读数不足一天",
    "never_online": "统计窗口内从未联网（含拒绝平台凭据）",
    "gateway_offline": "网关离线、统计窗口内未能观测",
    "not_yet_connected": "统计窗口内尚未接入平台、未能观测",
}
#: Reasons that only mean "not in this figure" (or, for the unregistered ones, are said
#: apart from the shortfall).
SKIPPED: Final = frozenset({"not_public", "no_ebikes", "not_residential", "below_threshold",
                            "no_elevators", "not_closed", "pending", "floors_unregistered",
                            "closed_unstated", "ebikes_unstated", "elevators_unstated"})
#: At most this many ids are named per reason; the rest are counted.
LISTED: Final = 8


@dataclass(frozen=True, slots=True)
class Figure:
    """One number (or fact) in a completion text, and where it comes from: the devices'
    own reports (measured), the community register (inventory), a person (declared), or
    scg's own state (system)."""

    label: str
    value: int | float | str | bool | None
    unit: str
    source: Source
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "unit": self.unit,
                "source": self.source, "source_word": SOURCE_WORDS[self.source],
                **({"note": self.note} if self.note else {})}

    def words(self) -> str:
        shown = ("是" if self.value else "否") if isinstance(self.value, bool) else (
            "—" if self.value is None else number(self.value))
        return f"{self.label}{shown}{self.unit}〔{SOURCE_WORDS[self.source]}〕"


@dataclass(frozen=True, slots=True)
class Clause:
    """A part of a completion text with the figures it states."""

    text: str
    figures: tuple[Figure, ...] = ()


def number(value: int | float | str) -> str:
    """3790, 0.4, 12.5 — no trailing zeros, no thousands separators (as published)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def tenths(numerator: float, denominator: float) -> int:
    """The rate in tenths of a percent, rounded down (`indicators.model.tenths`)."""
    return _tenths(numerator, denominator)


def from_tenths(t: int) -> str:
    return tenths_text(t)


def pct(numerator: float, denominator: float) -> str:
    return from_tenths(tenths(numerator, denominator))


def thr(threshold: float) -> str:
    return number(threshold)


def rate_phrase(name: str, numerator: float, denominator: float, threshold: float,
                passed: bool) -> str:
    """`{name}达到100%` or `{name}为28%，低于80%的要求52个百分点`."""
    t = tenths(numerator, denominator)
    if passed:
        return f"{name}达到{from_tenths(t)}%"
    gap = round(threshold * 10) - t
    return f"{name}为{from_tenths(t)}%，低于{thr(threshold)}%的要求{from_tenths(gap)}个百分点"


def needed(numerator: int, denominator: int, threshold: float) -> int:
    """How many more items the numerator needs to reach the threshold."""
    return max(math.ceil(threshold * denominator / 100 - 1e-9) - numerator, 0)


def id_list(ids: Sequence[str], name: Callable[[str], str] = str) -> str:
    """The first LISTED items by `name`, `等N个` when there are more."""
    shown = "、".join(name(i) for i in ids[:LISTED])
    return shown + (f"等{len(ids)}个" if len(ids) > LISTED else "")


def reasons_phrase(breakdown: Mapping[str, Iterable[str]], unit: str,
                   *, name_ids: bool = True, name: Callable[[str], str] = str,
                   unknown_word: str = "") -> str:
    """`无智能控制器720个、离线或统计期内未上报3个（北苑路灯1、…）` for every non-empty
    reason, in the evaluator's order; items are written by `name`, and `unknown` by
    `unknown_word` (why their state is unknown: gateway offline, not reported yet)."""
    parts: list[str] = []
    for reason, ids in breakdown.items():
        listed = list(ids)
        if reason in SKIPPED or not listed:
            continue
        word = (unknown_word or REASON_WORDS["unknown"]) if reason == "unknown" else \
            REASON_WORDS.get(reason, reason)
        part = f"{word}{len(listed)}{unit}"
        if name_ids:
            part += f"（{id_list(listed, name)}）"
        parts.append(part)
    return "、".join(parts)


def window_words(seconds: int) -> str:
    """近7天 / 近48小时 / 近24小时 (up to two days in hours, as the tables' 24/48 h)."""
    if seconds > 2 * 86400 and seconds % 86400 == 0:
        return f"近{seconds // 86400}天"
    if seconds % 3600 == 0:
        return f"近{seconds // 3600}小时"
    return f"近{max(seconds // 60, 1)}分钟"
