"""Completion texts of declared rows, from the latest entry: a declared rate in the
published phrasing (`家庭千兆光纤网络覆盖率达到100%，其中具备千兆接入能力的家庭数3790户，
社区家庭总数3790户`), the other values, then the entrant's own text. The verdict checks the
row's rate and targets; a row without an entry, a required value or its evidence has no
data."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from acceptance.catalogue import DeclaredField, Row
from acceptance.phrasing import Clause, Figure, number, rate_phrase
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


def _meets(f: DeclaredField, value: Any) -> bool:
    if f.target is None:
        return True
    if f.type == "boolean":
        return bool(value) is f.target
    return isinstance(value, int | float) and value >= float(f.target)


def declared_text(row: Row, entry: DeclarationLike | None,
                  register: Mapping[str, int | None]) -> DeclaredOutcome:
    """The verdict, completion text and figures of declared `row` from its latest `entry`;
    `register` holds the community's registered facts (households, compounds)."""
    wanted = "；".join(f.label for f in row.fields if f.required)
    if entry is None:
        proof = "，并上传证明材料" if row.evidence_required else ""
        return DeclaredOutcome("no_data", f"无数据。本行为申报项，尚未填报（需填写：{wanted}"
                                          f"{proof}）。", ())
    values = entry.values
    problems: list[str] = []
    missing = [f.label for f in row.fields if f.required and values.get(f.name) is None]
    if missing:
        problems.append(f"{row.id}: the latest entry lacks {', '.join(missing)}")
    if row.evidence_required and not entry.evidence:
        problems.append(f"{row.id}: the latest entry has no evidence file")
    when = entry.entered_at.date().isoformat()
    figures = tuple(
        Figure(f.label, values[f.name], f.unit or "", "declared", f"{entry.entered_by} {when}")
        for f in row.fields if f.type != "text" and values.get(f.name) is not None)
    clauses: list[str] = []
    passed = True
    used: set[str] = set()
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
        elif not missing:
            problems.append(f"{row.id}: {den_f.label} must be more than 0 to give a rate")
    others: list[str] = []
    for f in row.fields:
        value = values.get(f.name)
        if f.name in used or value is None or value == "":
            continue
        ok = _meets(f, value)
        passed = passed and ok
        words = _value_words(f, value)
        if not ok and f.type != "boolean":
            words += f"（要求不少于{number(float(f.target or 0))}{f.unit or ''}）"
        others.append(words)
    if others:
        clauses.append("；".join(others))
    verdict = "no_data" if problems else ("pass" if passed else "fail")
    narrative = entry.text.strip()
    text = compose(verdict, [Clause(c) for c in clauses] or [Clause("已申报")])
    if narrative:
        text += narrative if narrative.endswith(("。", ".", "！", "）")) else narrative + "。"
    return DeclaredOutcome(verdict, text, figures, tuple(problems),
                           tuple(_disagreements(row, values, register)))


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
