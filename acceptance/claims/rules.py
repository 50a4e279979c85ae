"""The checks a published row goes through, as a table of rules (kind id → function), and
the arithmetic ones: a rate against its own parts, a 达标 against the requirement's
figures, a rate against what its whole allows. Checks that read wording (template blanks,
counted lists, qualifications) are in `wording`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction as Exact
from typing import Final

from acceptance.claims import wording
from acceptance.claims.arithmetic import agrees, division, impossible, shown
from acceptance.claims.figures import Percent, Quantity, number
from acceptance.claims.model import Flag, FlagKind
from acceptance.claims.requirement import Target, matched
from acceptance.claims.row import AREA_UNITS, RowClaim, parts_of

#: The units a share's whole is counted in: `80%小区` of `共6个小区`.
WHOLE_UNITS: Final = {"小区": ("个", "小区"), "住宅": ("栋", "幢"), "楼栋": ("栋", "幢"),
                      "楼宇": ("栋", "幢"), "建筑": ("栋", "幢"), "家庭": ("户",),
                      "住户": ("户",), "居民": ("户", "人"), "电梯": ("部", "台")}


def _named(label: str, value: Decimal, unit: str) -> str:
    return f"{label}{number(value)}{unit}"


def _distinct(percents: tuple[Percent, ...]) -> list[Percent]:
    """One percent per position (a `均达到` list repeats it per rate)."""
    seen: set[int] = set()
    out: list[Percent] = []
    for p in percents:
        if p.start not in seen:
            seen.add(p.start)
            out.append(p)
    return out


def rate_mismatch(rc: RowClaim) -> list[Flag]:
    """A stated rate that no rounding of its own parts gives."""
    out: list[Flag] = []
    for p in _distinct(rc.claim.percents):
        parts = parts_of(rc, p) if not p.condition else None
        if parts is None or parts.numerator is None or parts.value is None:
            continue
        if agrees(parts.value, p.value, p.places, p.bound):
            continue
        name = p.core or p.subject or "比率"
        part = _named(parts.numerator_label, parts.numerator, parts.part_unit)
        whole = _named(parts.denominator_label, parts.denominator, parts.whole_unit)
        out.append(rc.flag(
            "rate_mismatch", rc.quote(p),
            f"所称{name}{p.shown}与其所列数字不符：按{part}、{whole}计算为"
            f"{shown(parts.value, p.places)}%",
            f"{division(parts.numerator, parts.denominator, p.places)}，所称{p.shown}"))
    return out


def _below(figure: Percent | Quantity, target: Target) -> bool:
    if figure.bound == "at_most":
        return figure.value <= target.value
    return figure.value < target.value


def _percent_below(rc: RowClaim, figure: Percent, target: Target) -> Flag | None:
    need = f"标准要求的{target.shown}"
    name = figure.core or (f"{figure.noun}比例" if figure.noun else figure.subject)
    if _below(figure, target):
        return rc.flag("pass_below_requirement", rc.quote(figure),
                       f"称达标，但所称{name}{figure.shown}低于{need}",
                       f"{figure.shown} < {target.shown}")
    parts = parts_of(rc, figure)
    if parts is None or parts.numerator is None or parts.value is None:
        return None
    if parts.value >= Exact(target.value):
        return None
    return rc.flag("pass_below_requirement", rc.quote(figure),
                   f"称达标，但按其所列数字{name}只有{shown(parts.value, figure.places)}%，"
                   f"低于{need}",
                   f"{division(parts.numerator, parts.denominator, figure.places)}"
                   f" < {target.shown}")


def pass_below_requirement(rc: RowClaim) -> list[Flag]:
    """达标 over a figure (stated, or worked out from its parts) below the requirement."""
    if rc.verdict != "pass":
        return []
    out: list[Flag] = []
    for target in rc.targets:
        for figure in matched(target, rc.targets, rc.claim):
            if isinstance(figure, Percent):
                flag = _percent_below(rc, figure, target)
                if flag is not None:
                    out.append(flag)
            elif _below(figure, target):
                out.append(rc.flag(
                    "pass_below_requirement", rc.quote(figure),
                    f"称达标，但{figure.label or '所称数量'}{figure.shown}少于标准要求的"
                    f"{target.shown}", f"{figure.shown} < {target.shown}"))
    return out


def _whole_of(rc: RowClaim, p: Percent) -> tuple[int, str] | None:
    """The count a rate is taken of, and how the text writes it: the compounds of
    `80%小区` (`共6个小区`, `小区6个`), or a whole written beside a rate without its part."""
    if p.noun is not None:
        units = WHOLE_UNITS.get(p.noun, ())
        wholes = {q.value: q for q in rc.claim.quantities if q.bound == "exact" and (
            q.unit == p.noun or (q.unit in units and (
                q.after.startswith(p.noun) or q.label.endswith(p.noun))))}
        if len(wholes) != 1:
            return None
        value, q = wholes.popitem()
        written = f"{number(value)}{q.unit}{'' if q.unit == p.noun else p.noun}"
        return (int(value), written) if value == int(value) else None
    parts = parts_of(rc, p)
    if parts is None or parts.numerator is not None or parts.whole_unit in AREA_UNITS:
        return None
    if parts.denominator != int(parts.denominator):
        return None
    return (int(parts.denominator),
            f"{parts.denominator_label}{number(parts.denominator)}{parts.whole_unit}")


def impossible_rate(rc: RowClaim) -> list[Flag]:
    """A rate over 100 %, or one no whole number of the items it counts can give."""
    out: list[Flag] = []
    for p in _distinct(rc.claim.percents):
        if p.condition or (p.core is None and p.noun is None):
            continue
        name = p.core or f"{p.noun}比例"
        if p.value > 100 and p.bound != "at_most":
            out.append(rc.flag("impossible_rate", rc.quote(p),
                               f"所称{name}{p.shown}超过100%：部分不可能多于全部",
                               f"{number(p.value)}% > 100%"))
            continue
        whole = _whole_of(rc, p) if p.bound == "exact" else None
        if whole is None:
            continue
        n, written = whole
        near = impossible(p.value, p.places, n)
        if near is None:
            continue
        options = "，".join(f"{k} ÷ {n} = {shown(v, p.places)}%"
                           for k, v in (x for x in (near.below, near.above) if x is not None))
        out.append(rc.flag(
            "impossible_rate", rc.quote(p),
            f"所称{name}{p.shown}对{written}不可能成立：无论其中几个，比例都不是"
            f"{p.shown}（最接近的：{options}）",
            f"{options}；所称{p.shown}"))
    return out


Check = Callable[[RowClaim], list[Flag]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of flag and the function that finds it in a row."""

    kind: FlagKind
    check: Check


#: Every check, in the order a row's flags are listed.
RULES: Final[tuple[Rule, ...]] = (
    Rule("rate_mismatch", rate_mismatch),
    Rule("pass_below_requirement", pass_below_requirement),
    Rule("impossible_rate", impossible_rate),
    Rule("unfilled_blank", wording.unfilled_blank),
    Rule("count_mismatch", wording.count_mismatch),
    Rule("pass_qualified_away", wording.pass_qualified_away),
)
