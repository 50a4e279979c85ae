"""A published row as the checks read it (its claim's figures, verdict word, the
requirement's targets, the rate formula of its 指标释义), and the parts a rate is written
with: numerator and whole, or only the whole."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction as Exact
from typing import Final

from acceptance.catalogue import Row
from acceptance.claims.arithmetic import percent_of
from acceptance.claims.figures import Percent, Quantity, Statement
from acceptance.claims.model import Flag, FlagKind
from acceptance.claims.requirement import Target
from acceptance.claims.table import PublishedRow

AREA_UNITS: Final = ("平方公里", "平方米")
#: Units a rate's parts are counted or measured in (not 次 / 项 / 种: those are tallies).
PART_UNITS: Final = ("户", "个", "栋", "幢", "台", "处", "人", "部", "座", "小区", *AREA_UNITS)


@dataclass(frozen=True, slots=True)
class RowClaim:
    """A published row with what the checks read from it."""

    row: PublishedRow
    claim: Statement
    verdict: str | None
    targets: tuple[Target, ...]
    formula: tuple[str, str, str] | None
    catalogue: Row | None

    def flag(self, kind: FlagKind, claim: str, problem: str, arithmetic: str = "",
             measured: str | None = None) -> Flag:
        return Flag(kind, self.row.number, self.row.name, claim, problem, arithmetic,
                    measured)

    def quote(self, figure: Percent | Quantity) -> str:
        return self.claim.quote(figure.start, figure.end)


@dataclass(frozen=True, slots=True)
class Parts:
    """What a rate is a rate of, as the text gives it: both parts, or only the whole."""

    numerator: Decimal | None
    denominator: Decimal
    numerator_label: str
    denominator_label: str
    whole_unit: str
    part_unit: str = ""

    @property
    def value(self) -> Exact | None:
        if self.numerator is None or self.denominator == 0:
            return None
        return percent_of(self.numerator, self.denominator)


def common_run(a: str, b: str) -> int:
    """Length of the longest run of letters two labels share."""
    best = 0
    for i in range(len(a)):
        j = i + best + 1
        while j <= len(a) and a[i:j] in b:
            best = j - i
            j += 1
    return best


def _wholeness(q: Quantity, formula: tuple[str, str, str] | None) -> int:
    """How strongly a quantity reads as the rate's whole (总数, 总面积; the formula's
    denominator) rather than its part."""
    score = 10 if "总" in q.label else 0
    if formula is not None:
        score += common_run(q.label, formula[2]) - common_run(q.label, formula[1])
    return score


def parts_of(rc: RowClaim, p: Percent) -> Parts | None:
    """The parts written beside a rate in its sentence: after it (`…达到100%，其中具备千兆
    接入能力的家庭数3790户，社区家庭总数3790户`), else before it; `a/b` when written so."""
    same = [o for o in rc.claim.percents if o.sentence == p.sentence]
    after_end = min((o.start for o in same if o.start > p.start),
                    default=rc.claim.sentences[p.sentence][1])
    before_start = max((o.end for o in same if o.end <= p.start),
                       default=rc.claim.sentences[p.sentence][0])
    for lo, hi in ((p.end, after_end), (before_start, p.start)):
        for f in rc.claim.fractions:
            if lo <= f.start < hi:
                return Parts(f.numerator, f.denominator, "", "", "")
        found = [q for q in rc.claim.quantities if lo <= q.start < hi
                 and q.unit in PART_UNITS]
        if found:
            return _pick(found, rc.formula)
    return None


def _pick(found: list[Quantity], formula: tuple[str, str, str] | None) -> Parts | None:
    ranked = sorted(found, key=lambda q: _wholeness(q, formula), reverse=True)
    whole = ranked[0]
    if len(ranked) == 1:
        return (Parts(None, whole.value, "", whole.label, whole.unit)
                if _wholeness(whole, formula) > 0 else None)
    if _wholeness(ranked[1], formula) == _wholeness(whole, formula):
        return None                  # cannot tell which is the whole
    rest = ranked[1:]
    if len(rest) > 1:
        if formula is None:
            return None
        rest.sort(key=lambda q: common_run(q.label, formula[1]), reverse=True)
        if common_run(rest[0].label, formula[1]) == common_run(rest[1].label, formula[1]):
            return None
    part = rest[0]
    if (part.unit in AREA_UNITS) != (whole.unit in AREA_UNITS):
        return None
    return Parts(part.value, whole.value, part.label, whole.label, whole.unit, part.unit)
