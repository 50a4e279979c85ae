"""What the claims check reports: flags (each with its row, the quoted claim, what is
wrong and the arithmetic), per published table, and for the whole file. Kind ids are
stable (JSON, tests); the words are Chinese, for assessors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

FlagKind = Literal["rate_mismatch", "pass_below_requirement", "impossible_rate",
                   "unfilled_blank", "count_mismatch", "pass_qualified_away",
                   "contradicts_measurement"]
FLAG_KINDS: Final[tuple[FlagKind, ...]] = (
    "rate_mismatch", "pass_below_requirement", "impossible_rate", "unfilled_blank",
    "count_mismatch", "pass_qualified_away", "contradicts_measurement")
KIND_WORDS: Final[dict[str, str]] = {
    "rate_mismatch": "比率与所列数字不符",
    "pass_below_requirement": "称达标但数字低于标准要求",
    "impossible_rate": "比率对其总数不可能成立",
    "unfilled_blank": "模板空白未填写",
    "count_mismatch": "数量与所列项目不符",
    "pass_qualified_away": "称达标但正文自述未做到",
    "contradicts_measurement": "与设备实测不符",
}
TIER_WORDS: Final[dict[str, str]] = {"basic": "基础型", "growth": "成长型",
                                     "benchmark": "标杆型"}


@dataclass(frozen=True, slots=True)
class Flag:
    """One claim that does not add up. `measured` is the figure from the devices, for
    contradicts_measurement."""

    kind: FlagKind
    row: int
    name: str
    claim: str
    problem: str
    arithmetic: str = ""
    measured: str | None = None

    @property
    def kind_word(self) -> str:
        return KIND_WORDS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "kind_word": self.kind_word,
                               "row": self.row, "name": self.name, "claim": self.claim,
                               "problem": self.problem, "arithmetic": self.arithmetic}
        if self.measured is not None:
            out["measured"] = self.measured
        return out


@dataclass(frozen=True, slots=True)
class TableClaims:
    """The flags of one published table. `community_id` is the inventory's community the
    table was compared with (None: not compared)."""

    community: str | None
    tier: str | None
    line: int
    rows: int
    flags: tuple[Flag, ...]
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    community_id: str | None = None

    @property
    def title(self) -> str:
        name = self.community or "（未写明社区）"
        tier = TIER_WORDS.get(self.tier or "", "星级未写明")
        return f"{name}（{tier}）"

    def to_dict(self) -> dict[str, Any]:
        return {"community": self.community, "tier": self.tier,
                "tier_word": TIER_WORDS.get(self.tier or ""), "line": self.line,
                "rows": self.rows, "community_id": self.community_id,
                "compared_with_measurements": self.community_id is not None,
                "flags": [f.to_dict() for f in self.flags],
                "problems": list(self.problems), "notes": list(self.notes)}


@dataclass(frozen=True, slots=True)
class ClaimsReport:
    """Every table of one file (or upload) with its flags."""

    source: str
    tables: tuple[TableClaims, ...]

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(f for t in self.tables for f in t.flags)

    @property
    def counts(self) -> dict[str, int]:
        return {k: sum(1 for f in self.flags if f.kind == k) for k in FLAG_KINDS}

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "flag_count": len(self.flags),
                "counts": self.counts, "tables": [t.to_dict() for t in self.tables]}
