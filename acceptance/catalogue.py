"""Tier catalogues as data: the rows of the provincial acceptance tables (and the DB37/T
3890.3-2020 weighted score), read from `catalogues/*.yaml` and validated at load.

A row is `measured` (its verdict comes from indicator ids of docs/indicators.md, computed from
the devices), `system` (its `checks` judged from scg's own state: information security) or
`declared` (an authorised user enters the values in `fields`, with evidence when
`evidence_required`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple, cast

import yaml

from indicators.load import INDICATOR_IDS

Kind = Literal["measured", "declared", "system"]
FieldType = Literal["count", "ratio_part", "number", "boolean", "text"]
Basis = Literal["basic", "growth"]
Scoring = Literal["all_rows", "weighted"]

CATALOGUE_DIR: Final = Path(__file__).with_name("catalogues")
#: Catalogue name -> file in CATALOGUE_DIR.
FILES: Final = {"basic": "basic.yaml", "growth": "growth.yaml",
                "benchmark": "benchmark.yaml", "db37": "db37_3890_3.yaml"}
#: Indicator ids a measured row may name: every one is computed by the live groups
#: (`indicators.load.GROUPS`), DB37's energy saving included.
KNOWN_INDICATORS: Final = frozenset(INDICATOR_IDS)
FIELD_TYPES: Final = ("count", "ratio_part", "number", "boolean", "text")
#: What a `system` row may check of scg itself (acceptance.security_texts judges each).
SYSTEM_CHECKS: Final = ("personal_data_encrypted", "tiered_roles", "tamper_proof_records")
#: Units of things counted one by one: a declared part in one of them is a whole number
#: (12.5 households is refused); areas and percentages may have decimals.
COUNT_UNITS: Final = frozenset({"户", "个", "人", "家", "项", "处", "台", "栋", "次", "种",
                                "辆", "间", "套"})
#: `target: unpublished` marks a value the requirement judges without a published number
#: (growth row 28, 居民满意度): the row is 未判定 unless the county sets one.
UNPUBLISHED: Final = "unpublished"


class CatalogueError(ValueError):
    """A catalogue file is unusable; the message names the file, the key and the fix."""


@dataclass(frozen=True, slots=True)
class DeclaredField:
    """One value a person enters for a declared row.

    `min`/`max` bound what may be entered (a refusal, not a verdict). `target` is what the
    requirement asks of this value: a number the value must reach (count/number), or
    True for a yes/no that must be yes; None when the field only informs, or when
    `target_unpublished` (the requirement judges it but no number is published).
    `whole`: only whole numbers may be entered (counts, and parts counted in 户, 个, …).
    """

    name: str
    label: str
    type: FieldType
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    required: bool = True
    target: float | bool | None = None
    target_unpublished: bool = False
    whole: bool = False


class Ratio(NamedTuple):
    """A declared rate: numerator field ÷ denominator field, passing at `threshold_pct`."""

    numerator: str
    denominator: str
    threshold_pct: float


@dataclass(frozen=True, slots=True)
class Measure:
    """One indicator behind a measured row.

    `basis` is the tier whose figure is read from the result (tiers may count differently:
    charging functions, throw-detection floors); `threshold` None means the basis tier's
    own threshold (`indicators/thresholds.yaml`), so basic and growth rows keep a
    single source; benchmark and DB37 rows give their own.
    """

    indicator: str
    basis: Basis
    threshold: float | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a published table, in its published wording."""

    id: str
    number: int
    group: str
    name: str
    definition: str
    requirement: str
    kind: Kind
    measures: tuple[Measure, ...] = ()
    fields: tuple[DeclaredField, ...] = ()
    ratio: Ratio | None = None
    evidence_required: bool = False
    weight: float | None = None
    code: str | None = None
    note: str | None = None
    #: What a declared rate is called in completion texts, when neither the definition's
    #: formula (`X率=…`) nor the requirement (`X率达到…`) names it.
    rate_name: str | None = None
    #: What a system row checks of scg itself (SYSTEM_CHECKS), in its clauses' order.
    checks: tuple[str, ...] = ()

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(m.indicator for m in self.measures)

    def field(self, name: str) -> DeclaredField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"row {self.id} has no field {name!r}; its fields are "
                       f"{', '.join(f.name for f in self.fields) or 'none'}")


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The rows of one tier in table order, with where they were transcribed from."""

    tier: str
    title: str
    source: str
    provisional: bool
    scoring: Scoring
    rows: tuple[Row, ...]
    note: str | None = None

    def row(self, row_id: str) -> Row:
        for r in self.rows:
            if r.id == row_id:
                return r
        raise KeyError(f"catalogue {self.tier!r} has no row {row_id!r}; its rows are "
                       f"{self.rows[0].id} … {self.rows[-1].id}")

    @property
    def groups(self) -> tuple[str, ...]:
        """The first-level groups (一级指标) in table order."""
        seen: dict[str, None] = {}
        for r in self.rows:
            seen.setdefault(r.group)
        return tuple(seen)


def load_catalogue(name: str, path: Path | None = None) -> Catalogue:
    """The catalogue `name` ("basic" | "growth" | "benchmark" | "db37"), from `path` or the
    shipped file. Shipped catalogues are read once."""
    if path is None:
        if name not in FILES:
            raise CatalogueError(f"unknown catalogue {name!r}; expected one of "
                                 f"{', '.join(FILES)}")
        return _shipped(name)
    return _parse(name, path)


@cache
def _shipped(name: str) -> Catalogue:
    return _parse(name, CATALOGUE_DIR / FILES[name])


def _parse(name: str, path: Path) -> Catalogue:
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot be read as YAML: {exc}") from None
    p = _Parser(path)
    if not isinstance(doc, dict):
        raise CatalogueError(f"{path}: must be a mapping with tier, title, source, rows")
    tier = p.text(doc, "tier", "")
    if tier != name:
        p.problem("tier", f"is {tier!r} but the file is loaded as catalogue {name!r}; "
                  "make them agree")
    scoring = p.choice(doc, "scoring", "", ("all_rows", "weighted"), "all_rows")
    raw_rows = doc.get("rows")
    if not isinstance(raw_rows, list) or not raw_rows:
        raise CatalogueError(f"{path}: rows: must be a non-empty list of rows")
    rows = tuple(p.row(raw, i, tier, scoring) for i, raw in enumerate(raw_rows))
    numbers = [r.number for r in rows]
    if numbers != list(range(1, len(rows) + 1)):
        p.problem("rows", f"numbers (序号) must run 1..{len(rows)} in order, got {numbers}")
    if scoring == "weighted":
        total = sum(r.weight or 0 for r in rows)
        if abs(total - 100) > 1e-6:
            p.problem("rows", f"weights must add up to 100, they add up to {total:g}")
    p.raise_if_any()
    note = doc.get("note")
    return Catalogue(tier=tier, title=p.text(doc, "title", ""),
                     source=p.text(doc, "source", ""),
                     provisional=bool(doc.get("provisional", False)),
                     scoring=cast(Scoring, scoring), rows=rows,
                     note=str(note).strip() if note is not None else None)


class _Parser:
    """Collects every problem of one file, so a fix does not reveal the next one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def problem(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def raise_if_any(self) -> None:
        if self.problems:
            raise CatalogueError(f"{self.path}:\n  " + "\n  ".join(self.problems))

    def text(self, doc: dict[str, Any], key: str, where: str, *,
             required: bool = True) -> str:
        v = doc.get(key)
        if v is None or (isinstance(v, str) and not v.strip()):
            if required:
                self.problem(f"{where}{key}", "is missing; give the published text")
            return ""
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            self.problem(f"{where}{key}", f"must be text, got {v!r}")
            return ""
        return str(v).strip()

    def choice(self, doc: dict[str, Any], key: str, where: str, allowed: tuple[str, ...],
               default: str | None = None) -> str:
        v = doc.get(key, default)
        if v not in allowed:
            self.problem(f"{where}{key}", f"must be one of {', '.join(allowed)}, got {v!r}")
            return allowed[0]
        return str(v)

    def number(self, doc: dict[str, Any], key: str, where: str, *, low: float = 0,
               high: float | None = None) -> float | None:
        v = doc.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float) or v < low or (
                high is not None and v > high):
            bound = f"{low:g}..{high:g}" if high is not None else f">= {low:g}"
            self.problem(f"{where}{key}", f"must be a number {bound}, got {v!r}")
            return None
        return float(v)

    def row(self, raw: Any, index: int, tier: str, scoring: str) -> Row:
        where = f"rows[{index}]."
        if not isinstance(raw, dict):
            self.problem(f"rows[{index}]", "must be a mapping")
            return Row(id="", number=0, group="", name="", definition="", requirement="",
                       kind="declared")
        number = raw.get("number")
        if isinstance(number, bool) or not isinstance(number, int):
            self.problem(f"{where}number", f"must be the row's 序号 (an integer), got "
                         f"{number!r}")
            number = 0
        where = f"rows[{index}] (序号 {number}) "
        known = {"number", "group", "name", "definition", "requirement", "kind", "measures",
                 "fields", "ratio", "evidence_required", "weight", "code", "note",
                 "rate_name", "checks"}
        for key in raw:
            if key not in known:
                self.problem(f"{where}{key}", f"is not a row key; use {', '.join(sorted(known))}")
        kind = self.choice(raw, "kind", where, ("measured", "declared", "system"))
        checks = self.checks(raw.get("checks"), where, kind)
        measures = self.measures(raw.get("measures"), where, tier) if kind == "measured" else ()
        if kind == "declared" and raw.get("measures"):
            self.problem(f"{where}measures", "a declared row has no measures; make it "
                         "kind: measured or drop the measures")
        fields = self.fields(raw.get("fields"), where)
        if kind == "measured" and fields:
            self.problem(f"{where}fields", "a measured row takes no declared fields (its "
                         "figures come from the devices and cannot be overridden)")
        if kind == "system" and (fields or raw.get("measures")):
            self.problem(f"{where}fields", "a system row takes no declared fields or "
                         "measures: it is judged from scg's own state (its checks)")
        if kind == "declared" and not fields:
            self.problem(f"{where}fields", "a declared row needs at least one field to enter")
        ratio = self.ratio(raw.get("ratio"), where, fields)
        weight = self.number(raw, "weight", where, high=100)
        if scoring == "weighted" and weight is None:
            self.problem(f"{where}weight", "is missing; a weighted catalogue gives every "
                         "row its published weight in percent")
        evidence = raw.get("evidence_required", kind == "declared")
        if not isinstance(evidence, bool):
            self.problem(f"{where}evidence_required", f"must be true or false, got {evidence!r}")
            evidence = True
        code = self.text(raw, "code", where, required=False) or None
        note = self.text(raw, "note", where, required=False) or None
        rate_name = self.text(raw, "rate_name", where, required=False) or None
        if rate_name and ratio is None:
            self.problem(f"{where}rate_name", "names a declared rate; the row has no ratio")
        return Row(id=f"{tier}-{number:02d}", number=number,
                   group=self.text(raw, "group", where), name=self.text(raw, "name", where),
                   definition=self.text(raw, "definition", where),
                   requirement=self.text(raw, "requirement", where),
                   kind=cast(Kind, kind), measures=measures, fields=fields, ratio=ratio,
                   evidence_required=evidence, weight=weight, code=code, note=note,
                   rate_name=rate_name, checks=checks)

    def checks(self, raw: Any, where: str, kind: str) -> tuple[str, ...]:
        if kind != "system":
            if raw is not None:
                self.problem(f"{where}checks", "only a system row has checks; make it "
                             "kind: system or drop the checks")
            return ()
        if (not isinstance(raw, list) or not raw or any(c not in SYSTEM_CHECKS for c in raw)
                or len(set(raw)) != len(raw)):
            self.problem(f"{where}checks", f"a system row lists what it checks, each once, "
                         f"from {', '.join(SYSTEM_CHECKS)}; got {raw!r}")
            return ()
        return tuple(str(c) for c in raw)

    def measures(self, raw: Any, where: str, tier: str) -> tuple[Measure, ...]:
        if not isinstance(raw, list) or not raw:
            self.problem(f"{where}measures", "a measured row needs a list of "
                         "{indicator: id} (ids of docs/indicators.md)")
            return ()
        out: list[Measure] = []
        for i, m in enumerate(raw):
            at = f"{where}measures[{i}]."
            if not isinstance(m, dict):
                self.problem(at[:-1], "must be a mapping {indicator, threshold?, basis?}")
                continue
            ident = m.get("indicator")
            if ident not in KNOWN_INDICATORS:
                self.problem(f"{at}indicator", f"{ident!r} is not an indicator id; known: "
                             f"{', '.join(sorted(KNOWN_INDICATORS))}")
                continue
            basis = m.get("basis", tier if tier in ("basic", "growth") else None)
            if basis not in ("basic", "growth"):
                self.problem(f"{at}basis", "must be basic or growth: the tier whose "
                             f"figure the row reads (got {basis!r})")
                basis = "growth"
            threshold = self.number(m, "threshold", at, high=100)
            if threshold is None and tier not in ("basic", "growth"):
                self.problem(f"{at}threshold", "is missing; a catalogue other than basic "
                             "or growth gives each measure its own percentage")
            out.append(Measure(indicator=str(ident), basis=cast(Basis, basis),
                               threshold=threshold))
        return tuple(out)

    def fields(self, raw: Any, where: str) -> tuple[DeclaredField, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problem(f"{where}fields", "must be a list of {name, label, type, …}")
            return ()
        out: list[DeclaredField] = []
        for i, f in enumerate(raw):
            at = f"{where}fields[{i}]."
            if not isinstance(f, dict) or not isinstance(f.get("name"), str):
                self.problem(at[:-1], "must be a mapping with a name")
                continue
            ftype = self.choice(f, "type", at, FIELD_TYPES)
            given: Any = f.get("target")
            unpublished = given == UNPUBLISHED
            target: float | bool | None = given
            if unpublished:
                target = None
                if ftype not in ("count", "number"):
                    self.problem(f"{at}target", "only a count or number can have an "
                                 "unpublished threshold")
            elif ftype == "boolean" and target not in (None, True, False):
                self.problem(f"{at}target", f"a yes/no field's target is true or false, "
                             f"got {target!r}")
                target = None
            elif ftype != "boolean":
                target = self.number(f, "target", at)
            unit = self.text(f, "unit", at, required=False) or None
            out.append(DeclaredField(
                name=f["name"], label=self.text(f, "label", at), type=cast(FieldType, ftype),
                unit=unit,
                min=self.number(f, "min", at, low=float("-inf")),
                max=self.number(f, "max", at, low=float("-inf")),
                required=bool(f.get("required", True)), target=target,
                target_unpublished=unpublished,
                whole=ftype == "count" or (ftype == "ratio_part" and unit in COUNT_UNITS)))
        names = [f.name for f in out]
        if len(set(names)) != len(names):
            self.problem(f"{where}fields", f"names must be unique, got {names}")
        return tuple(out)

    def ratio(self, raw: Any, where: str, fields: tuple[DeclaredField, ...]) -> Ratio | None:
        if raw is None:
            return None
        names = {f.name for f in fields}
        if (not isinstance(raw, list) or len(raw) != 3 or raw[0] not in names
                or raw[1] not in names or isinstance(raw[2], bool)
                or not isinstance(raw[2], int | float) or not 0 <= raw[2] <= 100):
            self.problem(f"{where}ratio", "must be [numerator_field, denominator_field, "
                         f"threshold_pct] naming fields of the row, got {raw!r}")
            return None
        return Ratio(str(raw[0]), str(raw[1]), float(raw[2]))
