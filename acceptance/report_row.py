"""One row of the acceptance report as every format reads it: verdict, completion text,
figures, and what stands behind them — the indicators of a measured row, the entry of a
declared one, the checks of a system row (信息安全) with the facts they read.

Kept apart from `acceptance.report`, which assembles the rows and reads the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from acceptance.catalogue import Row
from acceptance.declared_texts import DeclarationLike
from acceptance.judge import MeasureOutcome
from acceptance.phrasing import VERDICT_WORDS, Figure
from acceptance.security_texts import CheckOutcome


@dataclass(frozen=True, slots=True)
class RowReport:
    row: Row
    verdict: str
    text: str
    figures: tuple[Figure, ...] = ()
    measures: tuple[MeasureOutcome, ...] = ()
    entry: Mapping[str, Any] | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    verdict_if_online: str | None = None
    ignored_declaration: Mapping[str, Any] | None = None
    #: Why this row's unknown devices are unknown (`状态未知（网关xy-gw1离线）`).
    unknown_words: str = ""
    #: A system row's checks, and the facts they were judged from (JSON).
    checks: tuple[CheckOutcome, ...] = ()
    facts: Mapping[str, Any] | None = None

    @property
    def verdict_word(self) -> str:
        return VERDICT_WORDS[self.verdict]

    @property
    def unknown(self) -> dict[str, tuple[str, ...]]:
        """Per indicator, the items held back only by devices in state unknown."""
        return {m.indicator: m.unknown for m in self.measures if m.unknown}

    @property
    def changes_if_online(self) -> bool:
        return self.verdict_if_online is not None and self.verdict_if_online != self.verdict

    def to_dict(self) -> dict[str, Any]:
        r = self.row
        out: dict[str, Any] = {
            "id": r.id, "number": r.number, "group": r.group, "name": r.name,
            "definition": r.definition, "requirement": r.requirement, "kind": r.kind,
            "verdict": self.verdict, "verdict_word": self.verdict_word, "text": self.text,
            "figures": [f.to_dict() for f in self.figures]}
        if r.code:
            out["code"] = r.code
        if r.weight is not None:
            out["weight"] = r.weight
        if r.kind == "measured":
            out["indicators"] = [m.to_dict() for m in self.measures]
            out["unknown"] = {k: list(v) for k, v in self.unknown.items()}
            if self.unknown:
                out["unknown_words"] = self.unknown_words
            out["verdict_if_online"] = self.verdict_if_online
        elif r.kind == "system":
            out["checks"] = [c.to_dict() for c in self.checks]
            out["facts"] = dict(self.facts) if self.facts is not None else None
        else:
            out["declaration"] = dict(self.entry) if self.entry else None
        if self.problems:
            out["problems"] = list(self.problems)
        if self.notes:
            out["notes"] = list(self.notes)
        if self.ignored_declaration:
            out["ignored_declaration"] = dict(self.ignored_declaration)
        return out


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def entry_dict(entry: DeclarationLike) -> dict[str, Any]:
    """A declared entry as the report's JSON writes it."""
    evidence = []
    for e in entry.evidence:
        as_dict = getattr(e, "to_dict", None)
        evidence.append(as_dict() if callable(as_dict) else {
            "name": getattr(e, "name", ""), "sha256": getattr(e, "sha256", "")})
    ident = getattr(entry, "id", None)
    return {"values": dict(entry.values), "text": entry.text, "entered_by": entry.entered_by,
            "entered_at": iso(entry.entered_at), "evidence": evidence,
            **({"id": ident} if isinstance(ident, int) else {})}
