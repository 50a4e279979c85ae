"""Modbus device profiles are DATA: `drivers/modbus/profiles/<name>.yaml` (or a site folder)
lists each register's address, function code, type, word order, scale, unit and metric,
which bits raise condition events and which enum registers raise momentary events, which
points a command may write, and per-port templates. `load_profile` refuses a bad file with
the file, the key path and the reason.

    name: ebike_charger_10p
    function: 3                   # default function code of the points
    word_order: big               # default for 32-bit types
    max_registers: 125            # per request (some meters accept fewer)
    max_gap: 4                    # unused registers one request may read across
    points:
      - {name: station_alarms, address: 0x0000, type: u16,
         bits: [{bit: 1, event: smoke, severity: alarm}]}
      - repeat: {count: 10, stride: 0x10}          # n = 1..10
        points:
          - {name: "port{n}_power", address: 0x0101, type: u16, scale: 0.1, unit: W,
             metric: "port{n}_power_w"}
    derived:
      - {metric: voltage_v, mean: [voltage_l1_v, voltage_l2_v, voltage_l3_v]}

A point's value is register x scale; `min` / `max` bound a plausible value (outside: no
reading, a degraded observation) and a writable point's commands. A metric ending in `_kwh`
is an energy counter: below zero is garbage even when the profile gives no `min`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

from drivers.modbus.checks import Checker, ProfileError, describe, read_yaml
from drivers.modbus.codec import BIT_TYPE, REGISTER_TYPES, TYPES, WORD_ORDERS, limits
from drivers.modbus.model import (
    BIT_FUNCTIONS,
    DERIVED_OPS,
    FUNCTIONS,
    WRITABLE_FUNCTIONS,
    BitRef,
    ChangeRule,
    Condition,
    DataValue,
    Derived,
    EventSpec,
    Point,
    PointRef,
    Profile,
)
from telemetry import Severity

__all__ = ["PROFILES_DIR", "ProfileError", "find_profile", "load_profile", "parse_profile",
           "shipped_profiles"]

PROFILES_DIR: Final = Path(__file__).parent / "profiles"
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_NAME_HINT: Final = "lower-case letters, digits and '_', e.g. port3_power_w"
_PLACEHOLDER: Final = "{n}"
_TOP_KEYS: Final = ("description", "source", "function", "word_order", "max_registers",
                    "max_bits", "max_gap", "points", "derived")
_POINT_KEYS: Final = ("name", "description", "address", "function", "type", "word_order",
                      "scale", "unit", "metric", "min", "max", "bits", "condition",
                      "on_change", "write")
_MAX_REPEAT: Final = 1000


def shipped_profiles() -> list[str]:
    """Names of the profiles that come with the driver."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def find_profile(name: str, extra_dirs: Sequence[Path] = ()) -> Profile:
    """Profile `name` from the site folders `extra_dirs` (first match wins) or the shipped
    ones; ProfileError lists what exists when there is no such profile."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ProfileError(f"profile name {name!r} is not valid; use {_NAME_HINT}")
    for folder in (*extra_dirs, PROFILES_DIR):
        path = folder / f"{name}.yaml"
        if path.is_file():
            return load_profile(path)
    known = sorted({p.stem for d in (*extra_dirs, PROFILES_DIR) for p in d.glob("*.yaml")})
    raise ProfileError(f"unknown Modbus device profile {name!r}; known profiles: "
                       f"{', '.join(known)} (files in "
                       f"{', '.join(str(d) for d in (*extra_dirs, PROFILES_DIR))})")


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    return parse_profile(read_yaml(path), source=str(path), expected_name=path.stem)


def parse_profile(doc: Any, *, source: str, expected_name: str | None = None) -> Profile:
    """Validate a profile already parsed from YAML; `source` names it in messages."""
    c = Checker(source)
    top = c.mapping(doc, "", required=("name", "points"), optional=_TOP_KEYS)
    name = c.string(top, "", "name", pattern=_NAME_RE, hint=_NAME_HINT)
    if expected_name is not None and name != expected_name:
        c.fail("name", f"{name!r} differs from the file name {expected_name!r}; make them "
                       "equal (devices select a profile by its file name)")
    defaults = {
        "function": c.choice(top, "", "function", FUNCTIONS, default=3),
        "word_order": c.choice(top, "", "word_order", WORD_ORDERS, default="big"),
    }
    points: list[Point] = []
    raw_points = c.items(top, "points", "")
    if not raw_points:
        c.fail("points", "the profile lists no points; add at least one register")
    for i, raw in enumerate(raw_points):
        where = f"points[{i}]"
        if isinstance(raw, dict) and "repeat" in raw:
            points.extend(_repeat(c, raw, where, defaults))
        else:
            points.append(_point(c, raw, where, defaults, None))
    derived = [_derived(c, raw, f"derived[{i}]")
               for i, raw in enumerate(c.items(top, "derived", ""))]
    _check_whole(c, points, derived)
    return Profile(
        name=name,
        description=c.string(top, "", "description", default=""),
        source=c.string(top, "", "source", default=""),
        points=tuple(points),
        derived=tuple(derived),
        max_registers=c.integer(top, "", "max_registers", low=1, high=125, default=125),
        max_bits=c.integer(top, "", "max_bits", low=1, high=2000, default=2000),
        max_gap=c.integer(top, "", "max_gap", low=0, high=124, default=4),
        path=source,
    )


# ---------------------------------------------------------------- templating


def _repeat(c: Checker, raw: dict[str, Any], where: str,
            defaults: dict[str, Any]) -> list[Point]:
    group = c.mapping(raw, where, required=("repeat", "points"))
    rep = c.mapping(group["repeat"], f"{where}.repeat", required=("count", "stride"),
                    optional=("first",))
    count = c.integer(rep, f"{where}.repeat", "count", low=1, high=_MAX_REPEAT)
    stride = c.integer(rep, f"{where}.repeat", "stride", low=1, high=65535)
    first = c.integer(rep, f"{where}.repeat", "first", low=0, high=65535, default=1)
    members = c.items(group, "points", where)
    if not members:
        c.fail(f"{where}.points", "the repeat group lists no points")
    out: list[Point] = []
    for k in range(count):
        n = first + k
        for j, member in enumerate(members):
            at = f"{where}.points[{j}]"
            if isinstance(member, dict) and "repeat" in member:
                c.fail(at, "repeat groups cannot be nested; flatten the inner group")
            c.mapping(member, at, required=("address",), optional=_POINT_KEYS)
            instance = _substitute(member, n)
            address = instance["address"]
            if isinstance(address, int) and not isinstance(address, bool):
                instance["address"] = address + k * stride
            out.append(_point(c, instance, at, defaults, n))
    return out


def _substitute(value: Any, n: int) -> Any:
    """`value` with {n} replaced by the instance number (a lone "{n}" becomes the int)."""
    if isinstance(value, str):
        return n if value == _PLACEHOLDER else value.replace(_PLACEHOLDER, str(n))
    if isinstance(value, dict):
        return {k: _substitute(v, n) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, n) for v in value]
    return value


# ---------------------------------------------------------------- one point


def _point(c: Checker, raw: Any, where: str, defaults: dict[str, Any],
           n: int | None) -> Point:
    at = where if n is None else f"{where} (n={n})"
    p = c.mapping(raw, at, required=("address",), optional=_POINT_KEYS)
    name = _name(c, p, at, "name") if "name" in p else None
    function = c.choice(p, at, "function", FUNCTIONS, default=defaults["function"])
    type_ = c.choice(p, at, "type", TYPES, default=BIT_TYPE if function in BIT_FUNCTIONS
                     else None)
    if function in BIT_FUNCTIONS and type_ != BIT_TYPE:
        c.fail(f"{at}.type", f"{FUNCTIONS[function]} (function {function}) hold single bits; "
                             f"use type bool, not {type_}")
    if function not in BIT_FUNCTIONS and type_ == BIT_TYPE:
        c.fail(f"{at}.type", f"{FUNCTIONS[function]} hold 16-bit registers; use one of "
                             f"{', '.join(REGISTER_TYPES)} (bits of a register: use `bits`)")
    words = 1 if type_ == BIT_TYPE else REGISTER_TYPES[type_][0]
    address = c.integer(p, at, "address", low=0, high=65536 - words)
    if "word_order" in p and words == 1:
        c.fail(f"{at}.word_order", f"a {type_} is one register: word order does not apply; "
                                   "remove it")
    word_order = c.choice(p, at, "word_order", WORD_ORDERS, default=defaults["word_order"])
    scale = c.number(p, at, "scale", default=1.0)
    assert scale is not None
    if scale == 0 or (type_ == BIT_TYPE and scale != 1.0):
        c.fail(f"{at}.scale", "must be a non-zero number (and is not allowed on bool "
                              f"points), got {describe(p.get('scale'))}")
    metric = _name(c, p, at, "metric") if "metric" in p else None
    low, high = c.number(p, at, "min"), c.number(p, at, "max")
    if low is None and metric is not None and metric.endswith("_kwh"):
        low = 0.0  # an energy counter below zero is garbage, whatever the profile forgot
    if low is not None and high is not None and low > high:
        c.fail(f"{at}.min", f"min {low:g} is above max {high:g}")
    conditions = [_condition(c, b, f"{at}.bits[{i}]", type_, bit=True)
                  for i, b in enumerate(c.items(p, "bits", at))]
    if "condition" in p:
        conditions.append(_condition(c, p["condition"], f"{at}.condition", type_, bit=False))
    on_change = _on_change(c, p["on_change"], f"{at}.on_change", type_) \
        if "on_change" in p else None
    writable = c.boolean(p, at, "write", default=False)
    if writable and function not in WRITABLE_FUNCTIONS:
        c.fail(f"{at}.write", f"{FUNCTIONS[function]} are read-only in Modbus; only coils "
                              "(function 1) and holding registers (function 3) can be written")
    if writable and name is None:
        c.fail(f"{at}.write", "a writable point needs a `name`: commands address it by name")
    if metric is None and not conditions and on_change is None and not writable:
        c.fail(at, "the point produces nothing; give it a metric, bits, a condition, "
                   "on_change or write: true")
    return Point(name=name, where=at, function=function, address=address, type=type_,
                 word_order=word_order, scale=scale,
                 unit=c.string(p, at, "unit", default=""), metric=metric, low=low, high=high,
                 conditions=tuple(conditions), on_change=on_change, writable=writable)


def _name(c: Checker, doc: dict[str, Any], where: str, key: str) -> str:
    value = doc.get(key)
    if isinstance(value, str) and "{" in value:
        c.fail(f"{where}.{key}", f"{value!r} has a placeholder outside a repeat group or an "
                                 "unknown one; only {n} inside `repeat` is known")
    return c.string(doc, where, key, pattern=_NAME_RE, hint=_NAME_HINT)


def _event(c: Checker, doc: dict[str, Any], where: str, *, severity_default: str | None,
           bits: int) -> EventSpec:
    event = _name(c, doc, where, "event")
    severity = c.choice(doc, where, "severity", [s.value for s in Severity],
                        default=severity_default)
    return EventSpec(event, Severity(severity), _data(c, doc.get("data"), where, bits))


def _data(c: Checker, raw: Any, where: str, bits: int) -> tuple[tuple[str, DataValue], ...]:
    if raw is None:
        return ()
    doc = c.mapping(raw, f"{where}.data", optional=None)
    out: list[tuple[str, DataValue]] = []
    for key, value in doc.items():
        at = f"{where}.data.{key}"
        if not isinstance(key, str) or not _NAME_RE.match(key):
            c.fail(f"{where}.data", f"key {key!r} is not valid; use {_NAME_HINT}")
        if isinstance(value, dict):
            ref = c.mapping(value, at, optional=("point", "bit"))
            if len(ref) != 1:
                c.fail(at, "give exactly one of {point: NAME} (another point's value) or "
                           "{bit: K} (a bit of this value)")
            if "point" in ref:
                out.append((key, PointRef(_name(c, ref, at, "point"))))
            else:
                out.append((key, BitRef(c.integer(ref, at, "bit", low=0, high=bits - 1))))
        elif isinstance(value, str | int | float | bool):
            if isinstance(value, str) and "{" in value:
                c.fail(at, f"{value!r} has a placeholder outside a repeat group or an "
                           "unknown one; only {n} inside `repeat` is known")
            out.append((key, value))
        else:
            c.fail(at, f"must be a string, number or boolean, or {{point: NAME}} / "
                       f"{{bit: K}}, got {describe(value)}")
    return tuple(out)


def _condition(c: Checker, raw: Any, where: str, type_: str, *, bit: bool) -> Condition:
    bits = 1 if type_ == BIT_TYPE else 16 * REGISTER_TYPES[type_][0]
    if bit:
        doc = c.mapping(raw, where, required=("bit", "event", "severity"), optional=("data",))
        if type_ in ("f32", BIT_TYPE):
            c.fail(where, f"bits of a {type_} mean nothing; use `condition` on a bool point "
                          "or bits of an integer register")
        number: int | None = c.integer(doc, where, "bit", low=0, high=bits - 1)
    else:
        doc = c.mapping(raw, where, required=("event", "severity"), optional=("data",))
        if type_ == "f32":
            c.fail(where, "a condition needs a bool or integer point (active while non-zero)")
        number = None
    return Condition(number, _event(c, doc, where, severity_default=None, bits=bits))


def _on_change(c: Checker, raw: Any, where: str, type_: str) -> ChangeRule:
    if type_ in ("f32", BIT_TYPE):
        c.fail(where, f"on_change needs an integer (enum) register, not {type_}")
    bits = 16 * REGISTER_TYPES[type_][0]
    doc = c.mapping(raw, where, optional=("event", "severity", "data", "values", "ignore"))
    base = dict(doc)
    base.pop("values", None)
    base.pop("ignore", None)
    low, high = limits(type_)
    ignore_raw = doc.get("ignore", [0])
    if not isinstance(ignore_raw, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in ignore_raw):
        c.fail(f"{where}.ignore", f"must be a list of whole numbers, got {describe(ignore_raw)}")
    default = _event(c, base, where, severity_default="info", bits=bits) \
        if "event" in base else None
    cases: list[tuple[int, EventSpec]] | None = None
    if "values" in doc:
        values = c.mapping(doc["values"], f"{where}.values", optional=None)
        if not values:
            c.fail(f"{where}.values", "is empty; list value: {data: ...} entries or drop it")
        cases = []
        for value, case in values.items():
            at = f"{where}.values.{value}"
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                c.fail(f"{where}.values", f"key {value!r} must be a whole number the {type_} "
                                          f"can hold ({low:g} .. {high:g})")
            spec = c.mapping(case if case is not None else {}, at,
                             optional=("event", "severity", "data"))
            merged = {**base, **{k: v for k, v in spec.items() if k != "data"}}
            if "event" not in merged:
                c.fail(at, "no event type: give `event` here or on the on_change rule")
            merged["data"] = {**(base.get("data") or {}), **(spec.get("data") or {})}
            cases.append((value, _event(c, merged, at, severity_default="info", bits=bits)))
    elif default is None:
        c.fail(where, "give `event` (an event on every change) or `values` (value -> event)")
    return ChangeRule(default, tuple(cases) if cases is not None else None,
                      frozenset(ignore_raw))


def _derived(c: Checker, raw: Any, where: str) -> Derived:
    doc = c.mapping(raw, where, required=("metric",), optional=DERIVED_OPS)
    ops = [op for op in DERIVED_OPS if op in doc]
    if len(ops) != 1:
        c.fail(where, f"give exactly one of {', '.join(DERIVED_OPS)} with a list of metrics")
    inputs = doc[ops[0]]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(m, str) for m in inputs):
        c.fail(f"{where}.{ops[0]}", f"must be a list of metric names, got {describe(inputs)}")
    return Derived(_name(c, doc, where, "metric"), ops[0], tuple(inputs))


# ---------------------------------------------------------------- whole profile


def _check_whole(c: Checker, points: list[Point], derived: Iterable[Derived]) -> None:
    by_function: dict[int, list[Point]] = {}
    for p in points:
        by_function.setdefault(p.function, []).append(p)
    for function, members in by_function.items():
        members.sort(key=lambda p: p.address)
        for before, after in itertools.pairwise(members):
            if after.address < before.end:
                c.fail(after.where, f"{FUNCTIONS[function]} 0x{after.address:04X}.."
                                    f"0x{after.end - 1:04X} overlap {before.where} at "
                                    f"0x{before.address:04X}..0x{before.end - 1:04X}; "
                                    "each register belongs to one point")
    _unique(c, [(p.where, p.name) for p in points], "name")
    metrics = [(p.where, p.metric) for p in points]
    derived = list(derived)
    _unique(c, metrics + [(f"derived[{i}]", d.metric) for i, d in enumerate(derived)],
            "metric")
    known_metrics = {m for _, m in metrics if m}
    for i, d in enumerate(derived):
        missing = [m for m in d.inputs if m not in known_metrics]
        if missing:
            c.fail(f"derived[{i}].{d.op}", f"unknown metric(s) {', '.join(missing)}; derive "
                                           "only from metrics of this profile's points")
    names = {p.name for p in points if p.name}
    seen: dict[tuple[str, tuple[tuple[str, Any], ...]], str] = {}
    for p in points:
        specs = [(p.where, cond.event) for cond in p.conditions]
        if p.on_change is not None:
            specs += [(f"{p.where}.on_change", s) for s in _change_specs(p.on_change)]
        for at, spec in specs:
            for key, value in spec.data:
                if isinstance(value, PointRef) and value.point not in names:
                    c.fail(f"{at}.data.{key}", f"refers to point {value.point!r}, which this "
                                               "profile does not have")
        for cond in p.conditions:
            identity = (cond.event.type, tuple(
                (k, v) for k, v in cond.event.data if not isinstance(v, PointRef | BitRef)))
            if identity in seen:
                c.fail(p.where, f"condition {cond.event.type!r} with data "
                                f"{dict(identity[1])} is also raised by {seen[identity]}; two "
                                "sources of one condition would clear each other: give each "
                                "its own data (e.g. zone or port)")
            seen[identity] = p.where


def _change_specs(rule: ChangeRule) -> list[EventSpec]:
    specs = [spec for _, spec in rule.cases] if rule.cases is not None else []
    return specs + ([rule.default] if rule.default is not None else [])


def _unique(c: Checker, entries: list[tuple[str, str | None]], key: str) -> None:
    seen: dict[str, str] = {}
    for where, value in entries:
        if value is None:
            continue
        if value in seen:
            c.fail(f"{where}.{key}", f"{value!r} is already used by {seen[value]}; each "
                                     f"{key} may appear once")
        seen[value] = where
