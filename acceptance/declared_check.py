"""What may be entered for a declared row: the row must exist and be declared, every value
must be one of the row's fields with the right type and range, a rate's part must not
exceed its whole, and evidence must be attached where the row asks for it.

Pure functions; every problem of an entry is reported at once, in words a person can act on.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from acceptance.catalogue import FILES, DeclaredField, Row, load_catalogue

_TRUE: Final = frozenset({"true", "yes", "y", "1", "on", "是", "有", "已完成"})
_FALSE: Final = frozenset({"false", "no", "n", "0", "off", "否", "无", "未完成"})
_INT_RE: Final = re.compile(r"^[+-]?\d+$")
_NUMBER_RE: Final = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

Value = int | float | bool | str

#: Longest name accepted for who entered a value, and for the free text, in characters.
MAX_NAME: Final = 100
MAX_TEXT: Final = 20_000


class DeclarationRefused(ValueError):
    """An entry that cannot be stored; `problems` lists every reason, `status` is the HTTP
    status that fits (404 for a row that does not exist, 422 otherwise)."""

    def __init__(self, problems: list[str], status: int = 422) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.status = status


def declarable_row(row_id: str) -> Row:
    """The catalogue row `row_id` (e.g. `growth-01`) if values may be entered for it."""
    tier, _, _ = row_id.rpartition("-")
    if tier not in FILES:
        raise DeclarationRefused([
            f"row {row_id!r} is not a catalogue row: row ids are <tier>-<number>, e.g. "
            f"growth-01, with tier one of {', '.join(FILES)}"], 404)
    catalogue = load_catalogue(tier)
    ids = [r.id for r in catalogue.rows]
    declared = [r.id for r in catalogue.rows if r.kind == "declared"]
    if row_id not in ids:
        guess = _closest(row_id, tier, ids)
        hint = f"did you mean {guess}? " if guess else ""
        raise DeclarationRefused([
            f"row {row_id!r} is not in the {tier} catalogue ({ids[0]} … {ids[-1]}); {hint}"
            f"its declared rows are {', '.join(declared) or 'none'}"], 404)
    row = catalogue.row(row_id)
    if row.kind == "system":
        raise DeclarationRefused([
            f"row {row_id} ({row.name}) is measured from scg itself and cannot be declared: "
            "its verdict comes from the platform's own state (residents' data and device "
            "credentials sealed with SM4-GCM, users in more than one role, the records' SM3 "
            "hash chains verified and append-only for the services), shown with its "
            f"evidence in the acceptance report. Declared rows of {tier}: "
            f"{', '.join(declared) or 'none'}"])
    if row.kind != "declared":
        raise DeclarationRefused([
            f"row {row_id} ({row.name}) is measured from the devices "
            f"({', '.join(row.indicators)}) and cannot be declared; its figure comes from "
            f"the inventory and telemetry. Declared rows of {tier}: "
            f"{', '.join(declared) or 'none'}"])
    return row


def _closest(row_id: str, tier: str, ids: list[str]) -> str | None:
    tail = row_id.rpartition("-")[2]
    if tail.isdigit():  # a number out of range resembles other numbers only by accident
        padded = f"{tier}-{int(tail):02d}"
        return padded if padded in ids else None
    close = difflib.get_close_matches(row_id, ids, n=1, cutoff=0.8)
    return close[0] if close else None


def check_values(row: Row, raw: Mapping[str, Any]) -> dict[str, Value]:
    """The entry's values converted to their fields' types (form text such as "3790" or
    "是" becomes 3790 or True); DeclarationRefused listing every problem otherwise.

    Empty strings and None count as not given.
    """
    problems: list[str] = []
    known = {f.name: f for f in row.fields}
    for name in raw:
        if name not in known:
            guess = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
            hint = f" (did you mean {guess[0]}?)" if guess else ""
            problems.append(f"{row.id} has no field {name!r}{hint}; its fields are "
                            f"{_describe_fields(row)}")
    values: dict[str, Value] = {}
    for f in row.fields:
        given = raw.get(f.name)
        if given is None or (isinstance(given, str) and not given.strip()):
            if f.required:
                problems.append(f"{row.id}: {f.name} ({f.label}) is required")
            continue
        try:
            values[f.name] = _convert(f, given)
        except ValueError as exc:
            problems.append(f"{row.id}: {f.name} ({f.label}) {exc}")
    if row.ratio is not None:
        part, whole = values.get(row.ratio.numerator), values.get(row.ratio.denominator)
        if isinstance(whole, int | float) and not isinstance(whole, bool) and whole <= 0:
            problems.append(f"{row.id}: {row.ratio.denominator} "
                            f"({row.field(row.ratio.denominator).label}) must be more than 0 "
                            "to give a rate")
        elif (isinstance(part, int | float) and isinstance(whole, int | float)
              and part > whole):
            problems.append(
                f"{row.id}: {row.ratio.numerator} ({row.field(row.ratio.numerator).label}) "
                f"= {part:g} exceeds {row.ratio.denominator} "
                f"({row.field(row.ratio.denominator).label}) = {whole:g}; a part cannot be "
                "more than the whole")
    if problems:
        raise DeclarationRefused(problems)
    return values


def check_entry(row: Row, raw: Mapping[str, Any], *, files: int, by: str,
                text: str) -> tuple[dict[str, Value], str, str]:
    """The whole entry: values (see `check_values`), evidence where the row needs it, who
    entered it and the free text. Returns (values, by, text) cleaned; DeclarationRefused
    listing every problem otherwise."""
    problems: list[str] = []
    values: dict[str, Value] = {}
    try:
        values = check_values(row, raw)
    except DeclarationRefused as exc:
        problems += exc.problems
    if row.evidence_required and files == 0:
        problems.append(f"{row.id} ({row.name}) needs evidence: attach at least one file "
                        "(field `evidence`), e.g. the operator's coverage certificate or a "
                        "signed statement")
    who = by.strip()
    if not who:
        problems.append("who entered it is missing: give your name (field `by`)")
    elif len(who) > MAX_NAME:
        problems.append(f"`by` is {len(who)} characters long; at most {MAX_NAME}")
    note = text.strip()
    if len(note) > MAX_TEXT:
        problems.append(f"the text is {len(note)} characters long; at most {MAX_TEXT} "
                        "(attach longer documents as evidence)")
    if problems:
        raise DeclarationRefused(problems)
    return values, who, note


def _describe_fields(row: Row) -> str:
    return ", ".join(f"{f.name} ({f.type}{', required' if f.required else ''})"
                     for f in row.fields)


def _convert(f: DeclaredField, given: Any) -> Value:
    if f.type == "text":
        if not isinstance(given, str):
            raise ValueError(f"must be text, got {given!r}")
        return given.strip()
    if f.type == "boolean":
        return _boolean(given)
    # A count, or a part counted in households, compounds, people…: 12.5 households is a
    # typing mistake, not a figure.
    number = _integer(given) if f.whole else _number(given)
    if f.min is not None and number < f.min:
        raise ValueError(f"= {number:g} is below the least allowed, {f.min:g}"
                         f"{_unit(f)}")
    if f.max is not None and number > f.max:
        raise ValueError(f"= {number:g} is above the most allowed, {f.max:g}{_unit(f)}")
    if f.type in ("count", "ratio_part") and number < 0:
        raise ValueError(f"= {number:g} cannot be negative")
    return number


def _unit(f: DeclaredField) -> str:
    return f" {f.unit}" if f.unit else ""


def _boolean(given: Any) -> bool:
    if isinstance(given, bool):
        return given
    if isinstance(given, str):
        word = given.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(f"must be yes or no (true/false, 是/否), got {given!r}")


def _integer(given: Any) -> int:
    if isinstance(given, bool):
        raise ValueError(f"must be a whole number, got {given!r}")
    if isinstance(given, int):
        return given
    if isinstance(given, float) and given.is_integer():
        return int(given)
    if isinstance(given, str) and _INT_RE.match(given.strip()):
        return int(given.strip())
    raise ValueError(f"must be a whole number such as 3790, got {given!r}")


def _number(given: Any) -> int | float:
    if isinstance(given, bool):
        raise ValueError(f"must be a number, got {given!r}")
    if isinstance(given, int):
        return given
    if isinstance(given, str) and _INT_RE.match(given.strip()):
        return int(given.strip())
    if isinstance(given, str) and _NUMBER_RE.match(given.strip()):
        given = float(given.strip())
    if isinstance(given, float) and math.isfinite(given):
        return int(given) if given.is_integer() else given
    raise ValueError(f"must be a number such as 0.4, got {given!r}")
