"""What a row's 标准要求 asks for, as figures a claim can be held against: rates
(`家庭千兆光纤网络覆盖率达到80%`), shares of compounds (`社区内80%小区实现…`) and counts
(`每年开展2次…`, `整合或新建5个智慧社区应用场景`).

Read from the published requirement first. Where it states no figure (`全覆盖`, `每个小区`,
`全部`) the tier catalogue gives it: the threshold of a measured row's one indicator, a
declared row's rate threshold and the targets of its counts. A clause that sets a
condition (`60岁及以上常住老年人占比超过30%的社区提供2种社区养老服务`) asks for nothing
of a community the condition does not cover, so it gives no target.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from acceptance.catalogue import CatalogueError, Row, load_catalogue
from acceptance.claims.figures import (
    Percent,
    Quantity,
    Statement,
    number,
    rate_core,
    read_figures,
)
from indicators.thresholds import thresholds_for

TargetKind = Literal["rate", "share", "count", "any"]
#: Units a requirement counts in (households, buildings and areas are never asked for).
COUNT_UNITS: Final = ("个", "项", "处", "次", "种", "类", "台")
#: Two-letter words too common in these tables to tell two clauses apart.
_COMMON: Final = frozenset({"社区", "智慧", "实现", "以上", "及以", "达到", "具备", "拥有",
                            "依托", "平台", "综合", "信息"})
_FORMULA: Final = re.compile(
    r"([^\s=＝，。]{1,40}率)\s*[=＝]\s*([^/／\n]{1,60}?)\s*[/／]\s*([^\n，。\s]{1,60})")


@dataclass(frozen=True, slots=True)
class Target:
    """One figure the requirement asks for. `subject` is the rate's name, the share's
    predicate or the counted words; `context` the requirement's sentence."""

    kind: TargetKind
    value: Decimal
    unit: str
    subject: str
    context: str
    noun: str | None = None
    source: Literal["published", "catalogue"] = "published"

    @property
    def shown(self) -> str:
        return f"{number(self.value)}{self.unit}"


def bigrams(text: str) -> set[str]:
    letters = re.sub(r"[^\u4e00-\u9fffA-Za-z0-9]", "", text)
    return {letters[i:i + 2] for i in range(len(letters) - 1)} - _COMMON


def overlap(a: str, b: str) -> int:
    return len(bigrams(a) & bigrams(b))


def catalogue_row(tier: str | None, number_: int, name: str) -> Row | None:
    """The catalogue's row for a published row: same tier, 序号 and 二级指标."""
    if tier is None:
        return None
    try:
        catalogue = load_catalogue(tier)
    except CatalogueError:
        return None
    for row in catalogue.rows:
        if row.number == number_ and _same_name(row.name, name):
            return row
    return None


def _same_name(a: str, b: str) -> bool:
    def key(s: str) -> str:
        return re.sub(r"[\s（）()]", "", s)
    return key(a) == key(b)


def formula(definition: str) -> tuple[str, str, str] | None:
    """(rate, numerator, denominator) of `X率=A/B` in a 指标释义."""
    m = _FORMULA.search(definition)
    return (m.group(1), m.group(2).strip(), m.group(3).strip()) if m else None


def published_targets(requirement: Statement) -> list[Target]:
    conditional = {p.sentence for p in requirement.percents if p.condition}
    out: list[Target] = []
    for p in requirement.percents:
        if p.sentence in conditional or p.bound == "at_most":
            continue
        context = requirement.sentence_of(p.sentence)
        if p.noun is not None:
            out.append(Target("share", p.value, "%", p.predicate, context, p.noun))
        elif p.core is not None:
            out.append(Target("rate", p.value, "%", p.subject, context))
    for q in requirement.quantities:
        if q.sentence in conditional or q.unit not in COUNT_UNITS:
            continue
        out.append(Target("count", q.value, q.unit, f"{q.label}{q.after}",
                          requirement.sentence_of(q.sentence)))
    return out


def catalogue_targets(row: Row) -> list[Target]:
    """The requirement as the tier catalogue holds it, for a published text without
    figures."""
    if row.kind == "measured":
        if len(row.measures) != 1:
            return []
        m = row.measures[0]
        threshold = m.threshold if m.threshold is not None else getattr(
            thresholds_for(m.indicator), m.basis)
        if threshold is None:
            return []
        return [Target("any", Decimal(str(threshold)).normalize(), "%", row.name,
                       row.requirement, source="catalogue")]
    out: list[Target] = []
    if row.ratio is not None:
        from acceptance.declared_texts import rate_name

        out.append(Target("rate", Decimal(str(row.ratio.threshold_pct)).normalize(), "%",
                          rate_name(row), row.requirement, source="catalogue"))
    for f in row.fields:
        if f.type == "count" and isinstance(f.target, float | int) and not isinstance(
                f.target, bool):
            out.append(Target("count", Decimal(str(f.target)).normalize(), f.unit or "",
                              f.label, f.label, source="catalogue"))
    return out


def targets_of(requirement_text: str, row: Row | None) -> tuple[Target, ...]:
    found = published_targets(read_figures(requirement_text))
    if not found and row is not None:
        found = catalogue_targets(row)
    return tuple(found)


def matched(target: Target, targets: Iterable[Target], claim: Statement
            ) -> list[Percent | Quantity]:
    """The claim's figures that answer `target` (each figure answers the target of the
    row it resembles most)."""
    same_kind = [t for t in targets if t.kind == target.kind and t.unit == target.unit]
    out: list[Percent | Quantity] = []
    if target.kind in ("rate", "share", "any"):
        for p in claim.percents:
            if not p.condition and _answers(target, p, same_kind):
                out.append(p)
        return out
    for q in claim.quantities:
        if q.unit != target.unit:
            continue
        sentence = claim.sentence_of(q.sentence)
        best = _best(same_kind, sentence, lambda t: t.context)
        if best is target and overlap(sentence, target.context) > 0:
            out.append(q)
    return out


def _answers(target: Target, p: Percent, same_kind: list[Target]) -> bool:
    if target.kind == "any":
        return p.core is not None or p.noun is not None
    if target.kind == "rate":
        return p.core is not None and p.core == rate_core(target.subject)
    return (p.noun == target.noun
            and _best(same_kind, p.predicate, lambda t: t.subject) is target)


def _best(targets: list[Target], text: str, words: Callable[[Target], str]
          ) -> Target | None:
    """The target whose words share most with `text` (the first on a tie)."""
    return max(targets, key=lambda t: overlap(text, words(t))) if targets else None
