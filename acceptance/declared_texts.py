"""Completion texts of declared rows, from the latest entry: a declared rate in the
published phrasing (`家庭千兆光纤网络覆盖率达到100%，其中具备千兆接入能力的家庭数3790户，
社区家庭总数3790户`), the other values, then the entrant's own text. The verdict checks the
row's rate and targets; a row without an entry, a required value or its evidence has no
data; a value whose threshold nobody published is not judged (未判定) unless the county
settings give one.

The figures are always computed from the declared parts. The entrant's text is appended
without its own verdict word, and only when it agrees with them: a rate in it that the
parts do not give is flagged on the row (`申报文字中的80%与申报数据计算的96%不一致`) and the
text is kept in the entry, not in the completion text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Protocol

from acceptance.catalogue import DeclaredField, Row
from acceptance.county import CountySettings
from acceptance.names import local_time
from acceptance.phrasing import Clause, Figure, number, pct, rate_phrase
from acceptance.texts import compose


class DeclarationLike(Protocol):
    """What the report reads of an entry (`acceptance.declared.Declaration`)."""

    @property
    def row_id(self) -> str: ...
    @property
    def values(self) -> Mapping[str, Any]: ...
    @property
    def text(self) -> str: ...
    @property
    def entered_by(self) -> str: ...
    @property
    def entered_at(self) -> datetime: ...
    @property
    def evidence(self) -> Sequence[Any]: ...


@dataclass(frozen=True, slots=True)
class DeclaredOutcome:
    verdict: str
    text: str
    figures: tuple[Figure, ...]
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


#: Declared fields that restate a fact of the community register: the report says when
#: the two disagree.
REGISTER_FACTS: Final = {"total_households": ("households", "社区登记的家庭总数", "户"),
                         "compounds": ("compounds", "设备台账登记的小区数", "个")}
_RATE_IN_TEXT: Final = re.compile(r"([^，；。、：\s（）()]{2,30}?率)(?:达到|超过|不少于|达)")
#: A verdict the entrant wrote at the head of their text: the row's verdict is ours.
_OWN_VERDICT: Final = re.compile(r"^\s*(?:未达标|不达标|达标|已达标)\s*[。，,.:：;；!！]?\s*")


def rate_name(row: Row) -> str:
    """The rate's published name: `家庭千兆光纤网络覆盖率` from the definition's formula, or
    the requirement's `…率达到`, or the two labels."""
    if row.rate_name:
        return row.rate_name
    for line in row.definition.splitlines():
        for sep in ("=", "＝"):
            if sep in line:
                return line.split(sep, 1)[0].strip()
    found = _RATE_IN_TEXT.search(row.requirement)
    if found:
        return found.group(1)
    assert row.ratio is not None
    return f"{row.field(row.ratio.numerator).label}占{row.field(row.ratio.denominator).label}的比例"


def _value_words(f: DeclaredField, value: Any) -> str:
    if f.type == "boolean":
        return f"{f.label}：{'是' if value else '否'}"
    if f.type == "text":
        return f"{f.label}：{value}"
    return f"{f.label}{number(value)}{f.unit or ''}"


def _target(row: Row, f: DeclaredField, county: CountySettings | None) -> float | bool | None:
    """What the value must reach: the published target, or the county's for a value whose
    threshold is unpublished."""
    if f.target_unpublished and county is not None:
        return county.threshold(row.id, f.name)
    return f.target


def _meets(f: DeclaredField, value: Any, target: float | bool | None) -> bool:
    if target is None:
        return True
    if f.type == "boolean":
        return bool(value) is target
    return isinstance(value, int | float) and value >= float(target)


def _exact(value: float) -> Fraction:
    return Fraction(Decimal(str(value)))


def text_disagreements(row: Row, text: str, num: float, den: float) -> list[str]:
    """The rates of the row's kind in the entrant's `text` that `num` ÷ `den` does not
    give (under any fair rounding, or bound such as 以上)."""
    # The claims check reads published cells; its package imports the report, which
    # imports this module, so its reader is fetched when a text is checked.
    from acceptance.claims.arithmetic import agrees
    from acceptance.claims.figures import rate_core, read_figures

    core = rate_core(rate_name(row)) if row.ratio is not None else None
    if core is None or den <= 0:
        return []
    value = _exact(num) * 100 / _exact(den)
    out: list[str] = []
    for p in read_figures(text).percents:
        if p.noun is not None or p.condition or p.core is None or p.core != core:
            continue
        if not agrees(value, p.value, p.places, p.bound):
            out.append(f"申报文字中的{number(str(p.value))}%与申报数据计算的{pct(num, den)}%"
                       "不一致")
    return list(dict.fromkeys(out))


def declared_text(row: Row, entry: DeclarationLike | None,
                  register: Mapping[str, int | None],
                  county: CountySettings | None = None) -> DeclaredOutcome:
    """The verdict, completion text and figures of declared `row` from its latest `entry`;
    `register` holds the community's registered facts (households, compounds), `county`
    the thresholds the county publishes for values the standard leaves open."""
    wanted = "；".join(f.label for f in row.fields if f.required)
    if entry is None:
        proof = "，并上传证明材料" if row.evidence_required else ""
        return DeclaredOutcome("no_data", f"无数据。本行为申报项，尚未填报（需填写：{wanted}"
                                          f"{proof}）。", ())
    values = entry.values
    problems: list[str] = []
    missing = [f.label for f in row.fields if f.required and values.get(f.name) is None]
    if missing:
        problems.append(f"最近一次申报缺少{'、'.join(missing)}")
    if row.evidence_required and not entry.evidence:
        problems.append("最近一次申报未附证明材料")
    when = local_time(entry.entered_at, "%Y-%m-%d")
    figures = tuple(
        Figure(f.label, values[f.name], f.unit or "", "declared", f"{entry.entered_by} {when}")
        for f in row.fields if f.type != "text" and values.get(f.name) is not None)
    clauses: list[str] = []
    notes: list[str] = []
    passed = True
    open_values: list[str] = []
    used: set[str] = set()
    narrative = _OWN_VERDICT.sub("", entry.text.strip()).strip()
    if row.ratio is not None:
        num_f, den_f = row.field(row.ratio.numerator), row.field(row.ratio.denominator)
        num, den = values.get(num_f.name), values.get(den_f.name)
        used.update((num_f.name, den_f.name))
        if isinstance(num, int | float) and isinstance(den, int | float) and den > 0:
            ok = num * 100 >= row.ratio.threshold_pct * den
            passed = passed and ok
            unit = num_f.unit or ""
            clauses.append(rate_phrase(rate_name(row), num, den, row.ratio.threshold_pct, ok)
                           + f"，其中{num_f.label}{number(num)}{unit}，"
                             f"{den_f.label}{number(den)}{den_f.unit or ''}")
            notes += text_disagreements(row, narrative, num, den)
        else:
            if not missing:
                problems.append(f"申报的{den_f.label}为0，无法计算比例")
            given = [_value_words(f, values[f.name]) for f in (num_f, den_f)
                     if values.get(f.name) is not None]
            if given:
                clauses.append("已申报" + "，".join(given))
    others: list[str] = []
    for f in row.fields:
        value = values.get(f.name)
        if f.name in used or value is None or value == "":
            continue
        target = _target(row, f, county)
        ok = _meets(f, value, target)
        passed = passed and ok
        words = _value_words(f, value)
        if f.target_unpublished and target is None:
            open_values.append(f.label)
            words += "（标准要求未公布此项阈值，未作判定）"
        elif f.target_unpublished:
            words += f"（县级要求不少于{number(float(target or 0))}{f.unit or ''}）"
        elif not ok and f.type != "boolean":
            words += f"（要求不少于{number(float(target or 0))}{f.unit or ''}）"
        others.append(words)
    if others:
        clauses.append("；".join(others))
    verdict = ("no_data" if problems else "fail" if not passed
               else "not_judged" if open_values else "pass")
    text = compose(verdict, [Clause(c) for c in clauses] or [Clause("已申报")])
    if narrative and not notes:
        text += narrative if narrative.endswith(("。", ".", "！", "）")) else narrative + "。"
    if problems:   # why it is not judged belongs in the text: CSV and XLSX carry only that
        text += f"（{'；'.join(problems)}，不作判定，应补正后重新申报。）"
    return DeclaredOutcome(verdict, text, figures, tuple(problems),
                           tuple(notes + _disagreements(row, values, register)))


def _disagreements(row: Row, values: Mapping[str, Any],
                   register: Mapping[str, int | None]) -> list[str]:
    notes: list[str] = []
    for name, (fact, words, unit) in REGISTER_FACTS.items():
        declared, registered = values.get(name), register.get(fact)
        if (registered is not None and isinstance(declared, int | float)
                and any(f.name == name for f in row.fields) and declared != registered):
            notes.append(f"申报的{row.field(name).label}{number(declared)}{unit}与{words}"
                         f"{registered}{unit}不一致")
    return notes
