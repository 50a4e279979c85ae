"""Published claims beside the measured figures: for a table whose community is in the
inventory, every measured row (the tier catalogue says which) whose claim contradicts the
devices — a 达标 the devices do not bear out, a stated rate no rounding of the measured
one gives, a stated count that differs from the register — flagged with claim and
measurement side by side. The measurements come from the acceptance report
(`acceptance.report.build_report`), the same figures `scg report` prints.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from acceptance.claims.arithmetic import agrees, shown
from acceptance.claims.check import ClaimsError, check_table, no_table, row_claim
from acceptance.claims.figures import Percent, number
from acceptance.claims.model import ClaimsReport, Flag, TableClaims
from acceptance.claims.row import RowClaim
from acceptance.claims.table import PublishedTable, read_tables
from acceptance.judge import MeasureOutcome
from acceptance.phrasing import SOURCE_WORDS
from acceptance.report import build_report
from acceptance.report_row import RowReport

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

#: How each indicator is named in a flag.
INDICATOR_WORDS: Final[dict[str, str]] = {
    "smart_lighting_rate": "智能照明设施安装率", "video_key_coverage": "关键位置覆盖率",
    "video_networked_rate": "联网率", "video_intact_rate": "摄像机完好率",
    "video_picture_out_rate": "公共视频资源出图率", "video_record_compliance": "合规率",
    "energy_collection_rate": "家庭能源自动化采集设施安装率",
    "smart_charging_compounds": "智能充电设施达标小区比例",
    "fire_hazard_compounds": "消防隐患自动识别小区比例",
    "ebike_elevator_compounds": "电动车进电梯识别小区比例",
    "fire_alarm_coverage": "火灾自动报警覆盖率", "highrise_throw_coverage": "高空抛物监测覆盖率",
    "access_control_compounds": "出入管理达标小区比例",
    "perimeter_compounds": "周界防范达标小区比例",
    "elderly_sos_coverage": "紧急呼叫装置覆盖率", "elderly_sos_response_rate": "15分钟响应率",
    "lighting_energy_saving": "公共照明节能率"}
#: The rate words a claim names each indicator by (`安装率达到100%`).
RATE_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "smart_lighting_rate": ("安装率",), "video_key_coverage": ("覆盖率",),
    "video_networked_rate": ("联网率",), "video_intact_rate": ("完好率",),
    "video_picture_out_rate": ("出图率",), "video_record_compliance": ("合规率",),
    "energy_collection_rate": ("安装率", "采集率"), "fire_alarm_coverage": ("覆盖率",),
    "highrise_throw_coverage": ("覆盖率",), "elderly_sos_coverage": ("覆盖率", "配备率"),
    "elderly_sos_response_rate": ("响应率",)}
#: What a share of compounds says they do (`100%小区实现电动车进电梯智能识别`).
SHARE_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "fire_hazard_compounds": ("消防通道", "消防栓", "防火门", "电气设施"),
    "ebike_elevator_compounds": ("电梯",), "smart_charging_compounds": ("充电",),
    "access_control_compounds": ("门禁",), "perimeter_compounds": ("周界", "入侵")}
_LABEL_LEAD: Final = re.compile(r"^(?:其中|社区内|社区|共有|共)+")
_LABEL_TAIL: Final = re.compile(r"(?:数量|总数|数)$")


def label_key(label: str) -> str:
    """`社区内公共照明设备总数` and `公共照明设备总数` alike: `公共照明设备`."""
    return _LABEL_TAIL.sub("", _LABEL_LEAD.sub("", re.sub(r"\s+", "", label)))


def _measure_of(p: Percent, measures: Sequence[MeasureOutcome]) -> MeasureOutcome | None:
    for o in measures:
        if p.noun is not None:
            if any(w in p.predicate for w in SHARE_WORDS.get(o.indicator, ())):
                return o
        elif p.core is not None and p.core in RATE_WORDS.get(o.indicator, ()):
            return o
    return None


def _rate_items(rc: RowClaim, rr: RowReport) -> tuple[list[str], set[str]]:
    """Stated rates no rounding of the measured rate gives, and the indicators they name."""
    items: list[str] = []
    named: set[str] = set()
    seen: set[tuple[str, Decimal, str]] = set()
    for p in rc.claim.percents:
        o = _measure_of(p, rr.measures) if not p.condition else None
        if o is None or o.denominator == 0 or (o.indicator, p.value, p.bound) in seen:
            continue
        seen.add((o.indicator, p.value, p.bound))
        value = Fraction(o.numerator * 100) / Fraction(o.denominator)
        if not agrees(value, p.value, p.places, p.bound):
            named.add(o.indicator)
            items.append(f"所称{p.core or INDICATOR_WORDS.get(o.indicator, '')}{p.shown}，实测"
                         f"{INDICATOR_WORDS.get(o.indicator, o.indicator)}{o.numerator} ÷ "
                         f"{o.denominator} = {shown(value, p.places)}%")
    return items, named


def _figure_items(rc: RowClaim, rr: RowReport) -> list[str]:
    """Stated counts that differ from the same figure in the report (by its label)."""
    figures = {label_key(f.label): f for f in rr.figures
               if isinstance(f.value, int | float) and not isinstance(f.value, bool)}
    items: list[str] = []
    for q in rc.claim.quantities:
        f = figures.get(label_key(q.label)) if label_key(q.label) else None
        if f is None or q.bound != "exact" or q.value == Decimal(str(f.value)):
            continue
        items.append(f"所称{q.label}{q.shown}，{SOURCE_WORDS[f.source]}"
                     f"{f.label}{number(Decimal(str(f.value)))}{f.unit}")
    return items


def contradictions(rc: RowClaim, rr: RowReport) -> tuple[list[str], bool]:
    """What the claim says that the measurements do not, and whether the verdicts differ."""
    rates, named = _rate_items(rc, rr)
    items = rates + _figure_items(rc, rr)
    if rc.verdict == "pass" and rr.verdict == "fail":
        failing = "；".join(
            f"{INDICATOR_WORDS.get(o.indicator, o.indicator)}{o.numerator} ÷ {o.denominator}"
            f" = {shown(Fraction(o.numerator * 100) / Fraction(o.denominator))}%，要求"
            f"{number(Decimal(str(o.threshold)))}%"
            for o in rr.measures if o.status == "fail" and o.threshold is not None
            and o.indicator not in named)
        return [f"公示称达标，设备实测未达标{f'（{failing}）' if failing else ''}", *items], True
    if rc.verdict == "fail" and rr.verdict == "pass":
        return ["公示称未达标，设备实测达标", *items], True
    return items, False


def _flat(text: str, limit: int = 200) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def compare_table(table: PublishedTable, report_rows: Mapping[int, RowReport]) -> list[Flag]:
    """contradicts_measurement flags of a table against one community's report."""
    out: list[Flag] = []
    for row in table.rows:
        rc = row_claim(row, table.tier)
        rr = report_rows.get(row.number)
        if rc.catalogue is None or rc.catalogue.kind != "measured" or rr is None:
            continue
        items, verdicts_differ = contradictions(rc, rr)
        if items:
            problem = ("公示称达标，但设备实测未达标" if verdicts_differ and rc.verdict == "pass"
                       else "公示的判定与设备实测不符" if verdicts_differ
                       else "公示的数字与设备实测不符")
            out.append(rc.flag("contradicts_measurement", _flat(row.claim), problem,
                               "；".join(items), measured=rr.text))
    return out


def _key(name: str) -> str:
    return re.sub(r"\s+", "", name).replace("(", "（").replace(")", "）")


def match_community(table: PublishedTable, communities: Mapping[str, str]) -> str | None:
    """The inventory community (id → name) the table's heading names."""
    if table.community is None:
        return None
    wanted = _key(table.community)
    exact = [cid for cid, name in communities.items() if _key(name) == wanted]
    if len(exact) == 1:
        return exact[0]
    near = [cid for cid, name in communities.items()
            if name and (_key(name) in wanted or wanted in _key(name))]
    return near[0] if len(near) == 1 else None


async def check_claims_measured(conn: Connection, text: str, source: str = "", *,
                                community: str | None = None,
                                as_of: datetime | None = None,
                                now: datetime | None = None) -> ClaimsReport:
    """`check_claims` plus, for each table whose community is in the inventory (named in
    its heading, or `community` given), the measured rows that contradict the devices.

    `community` compares the tables that name it, or the only table of the text. `as_of`
    compares with the figures as they were then (as `scg report --as-of`).
    """
    read = read_tables(text)
    tables = [t for t in read if t.rows]
    if not tables:
        raise no_table(source, read)
    rows = await conn.fetch("SELECT id, name FROM communities ORDER BY id")
    communities = {r["id"]: r["name"] or "" for r in rows}
    if community is not None and community not in communities:
        raise ClaimsError(f"community {community!r} is not in the inventory (known: "
                          f"{', '.join(communities) or 'none imported yet'})")
    out: list[TableClaims] = []
    for table in tables:
        base = check_table(table)
        found = match_community(table, communities)
        if community is not None:
            found = community if (found == community or len(tables) == 1) else None
        if found is None or table.tier is None:
            out.append(replace(base, notes=(*base.notes, _why_not(table, community))))
            continue
        report = await build_report(conn, found, table.tier, as_of=as_of, now=now)
        measured = compare_table(table, {r.row.number: r for r in report.rows})
        flags = sorted((*base.flags, *measured), key=lambda f: f.row)
        out.append(replace(base, flags=tuple(flags), community_id=found))
    if community is not None and not any(t.community_id == community for t in out):
        named = "、".join(t.community or "（未写明）" for t in out)
        raise ClaimsError(f"no table in {source or 'the text'} names community {community!r} "
                          f"({communities[community]}); the tables name {named}")
    return ClaimsReport(source=source, tables=tuple(out))


def _why_not(table: PublishedTable, community: str | None) -> str:
    if table.tier is None:
        return "未写明星级，未与设备实测比对"
    if community is not None:
        return f"表中社区“{table.community or '未写明'}”不是 {community}，未与设备实测比对"
    return (f"设备台账中没有名为“{table.community}”的社区，未与设备实测比对（可用 --community "
            "指定）" if table.community else "表前文字未写明社区，未与设备实测比对（可用 "
            "--community 指定）")
