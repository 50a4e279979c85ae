"""County settings: what a county publishes beyond the provincial tables — a threshold for
a value the standard asks about without a number (growth row 28, 居民满意度), and its own
wording for rows with nothing to judge (`社区内无封闭式小区`).

A YAML file, validated at load with messages naming the file, the key and the fix:

    county: 青州市                      # optional, shown on the report
    thresholds:                         # only for values whose threshold is unpublished
      growth-28: {satisfaction_pct: 90}
    wording:
      not_applicable:                   # per indicator; {floors} where floors apply
        highrise_throw_coverage: 社区内{floors}层及以上住宅0栋
        access_control_compounds: 社区内无封闭式小区

`scg report --county-settings FILE`, or the environment variable SCG_COUNTY_SETTINGS
(which the API reads too).
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from acceptance.catalogue import FILES, CatalogueError, load_catalogue

ENV_VAR: Final = "SCG_COUNTY_SETTINGS"
#: Indicators whose denominator can be empty with the inventory deciding it, and the
#: placeholders their not-applicable wording may use.
NOT_APPLICABLE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "highrise_throw_coverage": ("floors",), "access_control_compounds": (),
    "perimeter_compounds": (), "smart_charging_compounds": (),
    "ebike_elevator_compounds": (), "elderly_sos_coverage": (),
    "elderly_sos_response_rate": ()}
_KEYS: Final = ("county", "thresholds", "wording")


class CountySettingsError(ValueError):
    """The settings file is unusable; the message names the file, the key and the fix."""


@dataclass(frozen=True, slots=True)
class CountySettings:
    county: str | None = None
    #: row id -> field name -> threshold the county publishes.
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    #: indicator id -> the county's not-applicable sentence (with placeholders).
    not_applicable: Mapping[str, str] = field(default_factory=dict)
    source: str = ""

    def threshold(self, row_id: str, field_name: str) -> float | None:
        return self.thresholds.get(row_id, {}).get(field_name)


def load_county_settings(path: Path) -> CountySettings:
    """Read and check a county settings file; CountySettingsError listing every problem."""
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CountySettingsError(f"{path}: cannot be read as YAML: {exc}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise CountySettingsError(f"{path}: must be a mapping with keys {', '.join(_KEYS)}")
    problems: list[str] = [f"{key}: is not a setting; use {', '.join(_KEYS)}"
                           for key in doc if key not in _KEYS]
    county = doc.get("county")
    if county is not None and (not isinstance(county, str) or not county.strip()):
        problems.append(f"county: must be the county's name as text, got {county!r}")
        county = None
    thresholds = _thresholds(doc.get("thresholds"), problems)
    wording = _wording(doc.get("wording"), problems)
    if problems:
        raise CountySettingsError(f"{path}:\n  " + "\n  ".join(problems))
    return CountySettings(county.strip() if isinstance(county, str) else None, thresholds,
                          wording, str(path))


def county_settings_from_env() -> CountySettings | None:
    """The settings named by SCG_COUNTY_SETTINGS, None when it is unset or empty."""
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise CountySettingsError(f"{ENV_VAR}={value}: no such file; point it at the county "
                                  "settings YAML or unset it")
    return load_county_settings(path)


def _thresholds(raw: Any, problems: list[str]) -> dict[str, dict[str, float]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append("thresholds: must map row ids to {field: number}, e.g. "
                        "growth-28: {satisfaction_pct: 90}")
        return {}
    out: dict[str, dict[str, float]] = {}
    for row_id, fields in raw.items():
        where = f"thresholds.{row_id}"
        tier = str(row_id).rpartition("-")[0]
        try:
            row = load_catalogue(tier).row(str(row_id)) if tier in FILES else None
        except (KeyError, CatalogueError):
            row = None
        if row is None:
            problems.append(f"{where}: is not a catalogue row; row ids are <tier>-<number>, "
                            f"e.g. growth-28, with tier one of {', '.join(FILES)}")
            continue
        if not isinstance(fields, dict) or not fields:
            problems.append(f"{where}: must map field names to numbers, e.g. "
                            "{satisfaction_pct: 90}")
            continue
        for name, value in fields.items():
            at = f"{where}.{name}"
            known = {f.name: f for f in row.fields}
            f = known.get(str(name))
            if f is None:
                problems.append(f"{at}: {row_id} has no field {name!r}; its fields are "
                                f"{', '.join(known) or 'none'}")
            elif not f.target_unpublished:
                problems.append(f"{at}: the published table fixes this value's requirement "
                                "(or asks nothing of it); a county sets only thresholds the "
                                "standard leaves unpublished — remove the key")
            elif isinstance(value, bool) or not isinstance(value, int | float) or (
                    f.min is not None and value < f.min) or (
                    f.max is not None and value > f.max):
                span = f"{f.min:g}..{f.max:g}" if f.min is not None and f.max is not None \
                    else "a number"
                problems.append(f"{at}: must be {span} ({f.label}), got {value!r}")
            else:
                out.setdefault(str(row_id), {})[str(name)] = float(value)
    return out


def _wording(raw: Any, problems: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"not_applicable"}:
        problems.append("wording: must be {not_applicable: {indicator_id: sentence}}")
        return {}
    given = raw.get("not_applicable") or {}
    if not isinstance(given, dict):
        problems.append("wording.not_applicable: must map indicator ids to sentences")
        return {}
    out: dict[str, str] = {}
    for ident, text in given.items():
        at = f"wording.not_applicable.{ident}"
        if ident not in NOT_APPLICABLE_FIELDS:
            problems.append(f"{at}: is not an indicator that can have nothing eligible; use "
                            f"one of {', '.join(NOT_APPLICABLE_FIELDS)}")
            continue
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{at}: must be the sentence as the county publishes it")
            continue
        allowed = NOT_APPLICABLE_FIELDS[ident]
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        except ValueError as exc:
            problems.append(f"{at}: {exc}; write braces only around a placeholder")
            continue
        wrong = sorted(used - set(allowed))
        if wrong:
            problems.append(f"{at}: unknown placeholder {{{wrong[0]}}}; this sentence may "
                            f"use {', '.join('{' + a + '}' for a in allowed) or 'none'}")
            continue
        out[str(ident)] = text.strip().rstrip("。")
    return out
