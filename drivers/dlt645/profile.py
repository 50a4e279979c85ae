"""Meter profiles: which data identifiers to read from a kind of DL/T 645 meter and which
readings they become. Profiles are YAML data in `drivers/dlt645/profiles/<name>.yaml`;
`load_profile` refuses a bad one naming the file, the key and the fix.

    name: dlt645_2007
    readings:
      - {di: "00010000", metric: energy_import_kwh, min: 0}
      - {di: "02030000", metric: power_w, scale: 1000}          # the meter says kW
      - {di: "0201FF00", metrics: [voltage_l1_v, voltage_l2_v, voltage_l3_v]}   # a block
      - {di: "04000B01", metric: x, format: {size: 2, decimals: 0}}  # not in codec.STANDARD
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NoReturn

import yaml

from drivers.base import DriverConfigError
from drivers.dlt645.codec import STANDARD, ValueFormat, format_di, parse_di

PROFILES_DIR: Final = Path(__file__).parent / "profiles"
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_READING_KEYS: Final = {"di", "metric", "metrics", "scale", "format", "min", "max"}
_FORMAT_KEYS: Final = {"size", "decimals", "signed", "count"}


_Fail = Callable[[str, str], NoReturn]


class ProfileError(DriverConfigError):
    """A profile file is unusable; the message names the file, the key and the fix."""


@dataclass(frozen=True, slots=True)
class ReadingRule:
    """Read `di`, decode it with `format`, multiply value k by `scale` into `metrics[k]`."""

    di: int
    name: str
    metrics: tuple[str, ...]
    format: ValueFormat
    scale: Decimal = Decimal(1)
    min: float | None = None
    max: float | None = None

    @property
    def label(self) -> str:
        """`00010000 (total forward active energy)` for messages."""
        return f"{format_di(self.di)} ({self.name})" if self.name else format_di(self.di)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    readings: tuple[ReadingRule, ...]
    source: str = ""


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_shipped(name: str) -> Profile:
    """The shipped profile `name`; ProfileError lists the known names when there is none."""
    path = PROFILES_DIR / f"{name}.yaml"
    if not isinstance(name, str) or not _NAME_RE.match(name) or not path.is_file():
        raise ProfileError(f"unknown DL/T 645 meter profile {name!r}; known profiles: "
                           f"{', '.join(shipped_profiles())} (files in {PROFILES_DIR})")
    return load_profile(path)


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from None
    return parse_profile(doc, source=str(path), expected_name=path.stem)


def parse_profile(doc: Any, *, source: str, expected_name: str | None = None) -> Profile:
    """Validate a profile already parsed from YAML; `source` names it in error messages."""

    def fail(key: str, problem: str) -> NoReturn:
        raise ProfileError(f"{source}: {key + ': ' if key else ''}{problem}")

    if not isinstance(doc, dict):
        fail("", f"must be a mapping with name and readings, got {type(doc).__name__}")
    unknown = sorted(map(str, set(doc) - {"name", "description", "readings"}))
    if unknown:
        fail("", f"unknown key(s) {', '.join(unknown)}; allowed: name, description, readings")
    name = doc.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        fail("name", f"{name!r} is not a valid name; use lower-case letters, digits and '_'")
    if expected_name is not None and name != expected_name:
        fail("name", f"{name!r} differs from the file name {expected_name!r}; make them equal "
                     "(devices select a profile by its file name)")
    description = doc.get("description", "")
    if not isinstance(description, str):
        fail("description", "must be text")
    raw_readings = doc.get("readings")
    if not isinstance(raw_readings, list) or not raw_readings:
        fail("readings", "must be a non-empty list of {di, metric} entries")
    readings = [_reading(fail, r, f"readings[{i}]") for i, r in enumerate(raw_readings)]
    seen_di: dict[int, int] = {}
    seen_metric: dict[str, int] = {}
    for i, r in enumerate(readings):
        if r.di in seen_di:
            fail(f"readings[{i}].di", f"{format_di(r.di)} is already read by "
                                      f"readings[{seen_di[r.di]}]")
        seen_di[r.di] = i
        for m in r.metrics:
            if m in seen_metric:
                fail(f"readings[{i}]", f"metric {m!r} is already given by "
                                       f"readings[{seen_metric[m]}]; each metric once")
            seen_metric[m] = i
    return Profile(name, description, tuple(readings), source)


def _reading(fail: _Fail, doc: Any, where: str) -> ReadingRule:
    if not isinstance(doc, dict):
        fail(where, "must be a mapping such as {di: \"00010000\", metric: energy_import_kwh}")
    unknown = sorted(map(str, set(doc) - _READING_KEYS))
    if unknown:
        fail(where, f"unknown key(s) {', '.join(unknown)}; allowed: "
                    f"{', '.join(sorted(_READING_KEYS))}")
    raw_di = doc.get("di")
    if not isinstance(raw_di, str):
        fail(f"{where}.di", f"must be 8 hex digits in quotes, e.g. \"00010000\"; got "
                            f"{raw_di!r} (unquoted, YAML reads 00010000 as the octal "
                            "number 4096)")
    try:
        di = parse_di(raw_di)
    except ValueError as exc:
        fail(f"{where}.di", str(exc))
    known = STANDARD.get(di)
    if "format" in doc:
        fmt = _format(fail, doc["format"], f"{where}.format")
    elif known is not None:
        fmt = known.format
    else:
        fail(where, f"data identifier {format_di(di)} is not one the codec knows; add "
                    "format: {size: BYTES, decimals: N, signed: false, count: 1}")
    if ("metric" in doc) == ("metrics" in doc):
        fail(where, "give either metric (one value) or metrics (a list, one per value of a "
                    "block)")
    names = [doc["metric"]] if "metric" in doc else doc["metrics"]
    if not isinstance(names, list) or not all(isinstance(n, str) and _NAME_RE.match(n)
                                              for n in names):
        fail(where, f"metric names are lower-case letters, digits and '_', e.g. voltage_v; "
                    f"got {names!r}")
    if len(names) != fmt.count:
        fail(where, f"{format_di(di)} carries {fmt.count} value(s) but {len(names)} metric(s) "
                    "are named; name one per value")
    scale = doc.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, int | float) \
            or not math.isfinite(scale) or scale == 0:
        fail(f"{where}.scale", f"must be a non-zero number, e.g. 1000 for kW -> W; got "
                               f"{scale!r}")
    bounds = []
    for key in ("min", "max"):
        value = doc.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value)):
            fail(f"{where}.{key}", f"must be a number (the plausible {key}imum after scaling), "
                                   f"got {value!r}")
        bounds.append(None if value is None else float(value))
    low, high = bounds
    if low is not None and high is not None and low > high:
        fail(where, f"min ({low:g}) is above max ({high:g})")
    return ReadingRule(di, known.name if known else "", tuple(names), fmt,
                       Decimal(str(scale)), low, high)


def _format(fail: _Fail, doc: Any, where: str) -> ValueFormat:
    if not isinstance(doc, dict) or not {"size", "decimals"} <= set(doc) \
            or set(doc) - _FORMAT_KEYS:
        fail(where, "must be a mapping {size: BYTES, decimals: N, signed: false, count: 1}")
    signed = doc.get("signed", False)
    if not isinstance(signed, bool):
        fail(f"{where}.signed", f"must be true or false, got {signed!r}")
    values = [doc["size"], doc["decimals"], doc.get("count", 1)]
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        fail(where, f"size, decimals and count must be whole numbers, got {values}")
    try:
        return ValueFormat(values[0], values[1], signed, values[2])
    except ValueError:
        fail(where, "size must be 1..8 bytes, decimals 0..2 x size, count 1..16")
