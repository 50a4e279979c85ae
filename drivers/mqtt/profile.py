"""Device payload profiles: which topics a kind of MQTT device uses and how its JSON becomes
readings and events. Profiles are YAML data in `drivers/mqtt/profiles/<name>.yaml`, so a new
device kind is a new file; `load_profile` refuses a bad one naming the file, key and fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NoReturn

import yaml

from drivers.base import DriverConfigError
from telemetry import Severity

PROFILES_DIR: Final = Path(__file__).parent / "profiles"
TIME_FORMATS: Final = ("rfc3339", "epoch_s", "epoch_ms")
READING_TYPES: Final = ("number", "bool")
EVENT_KINDS: Final = ("condition", "momentary")

_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PLACEHOLDER_RE: Final = re.compile(r"\{([^{}]*)\}")
Scalar = str | int | float | bool


class ProfileError(DriverConfigError):
    """A profile file is unusable; the message names the file, the key and the fix."""


@dataclass(frozen=True, slots=True)
class TopicPattern:
    """A topic with `{address}` as one whole level and optionally `{prefix}` in front."""

    template: str

    def topic(self, prefix: str, address: str) -> str:
        return self.template.replace("{prefix}", prefix).replace("{address}", address)

    def subscription(self, prefix: str) -> str:
        """The MQTT filter that catches this topic for every address."""
        return self.topic(prefix, "+")

    def matcher(self, prefix: str) -> re.Pattern[str]:
        """A regex whose group 1 is the address of a topic that fits the pattern."""
        head, _, tail = self.template.replace("{prefix}", prefix).partition("{address}")
        return re.compile(re.escape(head) + "([^/]+)" + re.escape(tail) + r"\Z")


@dataclass(frozen=True, slots=True)
class TimeRule:
    field: str
    format: str = "rfc3339"


@dataclass(frozen=True, slots=True)
class ReadingRule:
    """JSON field `field` -> reading `metric`; `bool` travels as 0.0 / 1.0."""

    field: str
    metric: str
    type: str = "number"
    scale: float = 1.0
    optional: bool = False


@dataclass(frozen=True, slots=True)
class EventRule:
    """JSON field `field` -> event `type`.

    `condition`: the event is raised when the field matches and cleared when it stops
    matching (edge-triggered by the driver). `momentary`: one event per message in which
    the field matches (an SOS press, a gate pass). It matches when it equals one of
    `equals`, or, without `equals`, when it is boolean true.
    """

    field: str
    type: str
    severity: Severity
    kind: str = "condition"
    equals: tuple[Scalar, ...] | None = None
    optional: bool = False
    data: tuple[tuple[str, str], ...] = ()  # (data key, JSON field) copied into the event


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    prefix: str
    status: TopicPattern
    command: TopicPattern | None
    time: TimeRule | None
    readings: tuple[ReadingRule, ...]
    events: tuple[EventRule, ...]
    source: str = ""


# ---------------------------------------------------------------- loading

def shipped_profiles() -> list[str]:
    """Names of the profiles that come with the driver."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_shipped(name: str) -> Profile:
    """The shipped profile `name`; ProfileError lists the known names when there is none."""
    if not _NAME_RE.match(name or ""):
        raise ProfileError(f"profile name {name!r} is not valid; known profiles: "
                           f"{', '.join(shipped_profiles())}")
    path = PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(f"unknown MQTT device profile {name!r}; known profiles: "
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
    """Validate a profile already parsed from YAML. `source` names it in error messages."""
    c = _Checker(source)
    top = c.mapping(doc, "", required={"name", "topics"},
                    optional={"description", "time", "readings", "events"})
    name = c.string(top, "", "name", pattern=_NAME_RE,
                    hint="lower-case letters, digits and '_', e.g. street_light")
    if expected_name is not None and name != expected_name:
        c.fail("name", f"{name!r} differs from the file name {expected_name!r}; make them "
                       "equal (devices select a profile by its file name)")
    description = c.string(top, "", "description", default="")
    topics = c.mapping(top["topics"], "topics", required={"status"},
                       optional={"prefix", "command"})
    prefix = c.string(topics, "topics", "prefix", default="")
    if any(ch in prefix for ch in "+#{}") or prefix.endswith("/"):
        c.fail("topics.prefix", f"{prefix!r} must be a plain topic without wildcards, "
                                "braces or a trailing '/'")
    status = c.pattern(topics, "topics", "status")
    command = c.pattern(topics, "topics", "command") if "command" in topics else None
    if not prefix and any("{prefix}" in p.template for p in (status, command) if p):
        c.fail("topics.prefix", "the topics use {prefix} but no prefix is given; add "
                                "`prefix: some/prefix` under topics")
    time = None
    if top.get("time") is not None:
        t = c.mapping(top["time"], "time", required={"field"}, optional={"format"})
        time = TimeRule(c.path(t, "time", "field"),
                        c.choice(t, "time", "format", TIME_FORMATS, default="rfc3339"))
    readings = tuple(c.each(top, "readings", _reading))
    events = tuple(c.each(top, "events", _event))
    if not readings and not events:
        c.fail("", "the profile has neither readings nor events; add at least one")
    _no_duplicates(c, "readings", [r.metric for r in readings], "metric")
    _no_duplicates(c, "events", [e.type if e.kind == "condition" else None for e in events],
                   "type", "two condition events of one type would clear each other")
    return Profile(name, description, prefix, status, command, time, readings, events, source)


def _reading(c: _Checker, doc: Any, where: str) -> ReadingRule:
    r = c.mapping(doc, where, required={"field", "metric"},
                  optional={"type", "scale", "optional"})
    kind = c.choice(r, where, "type", READING_TYPES, default="number")
    scale = c.number(r, where, "scale", default=1.0)
    if kind == "bool" and "scale" in r:
        c.fail(f"{where}.scale", "a bool reading cannot be scaled; remove scale")
    return ReadingRule(c.path(r, where, "field"),
                       c.string(r, where, "metric", pattern=_NAME_RE,
                                hint="lower-case letters, digits and '_', e.g. power_w"),
                       kind, scale, c.boolean(r, where, "optional", default=False))


def _event(c: _Checker, doc: Any, where: str) -> EventRule:
    e = c.mapping(doc, where, required={"field", "type", "severity"},
                  optional={"kind", "equals", "optional", "data"})
    severity = Severity(c.choice(e, where, "severity", tuple(s.value for s in Severity)))
    equals: tuple[Scalar, ...] | None = None
    if "equals" in e:
        raw = e["equals"]
        values = raw if isinstance(raw, list) else [raw]
        if not values or not all(isinstance(v, Scalar) for v in values):
            c.fail(f"{where}.equals", f"must be a string, number or boolean, or a list of "
                                      f"them, got {raw!r}")
        equals = tuple(values)
    data: list[tuple[str, str]] = []
    if "data" in e:
        d = c.mapping(e["data"], f"{where}.data", required=set(), optional=None)
        data = [(str(k), c.path(d, f"{where}.data", k)) for k in d]
    return EventRule(c.path(e, where, "field"),
                     c.string(e, where, "type", pattern=_NAME_RE,
                              hint="lower-case letters, digits and '_', e.g. lamp_fault"),
                     severity, c.choice(e, where, "kind", EVENT_KINDS, default="condition"),
                     equals, c.boolean(e, where, "optional", default=False), tuple(data))


def _no_duplicates(c: _Checker, section: str, values: list[str | None], key: str,
                   why: str = "") -> None:
    seen: dict[str, int] = {}
    for i, v in enumerate(values):
        if v is None:
            continue
        if v in seen:
            c.fail(f"{section}[{i}].{key}", f"{v!r} is already used by {section}[{seen[v]}]; "
                                            f"each {key} may appear once"
                                            + (f" ({why})" if why else ""))
        seen[v] = i


class _Checker:
    """Typed access to a parsed YAML document that fails with file, key and fix."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ProfileError(f"{self.source}: {key + ': ' if key else ''}{problem}")

    def mapping(self, doc: Any, where: str, *, required: set[str],
                optional: set[str] | None) -> dict[str, Any]:
        """`doc` as a mapping with these keys (`optional=None`: any other key is allowed)."""
        if not isinstance(doc, dict):
            self.fail(where or "(top level)", f"must be a mapping, got {_describe(doc)}")
        for k in doc:
            if not isinstance(k, str):
                self.fail(where or "(top level)", f"key {k!r} must be a string"
                                                  + _yaml_bool_hint(k))
        if optional is not None:
            allowed = required | optional
            for k in doc:
                if k not in allowed:
                    self.fail(where or "(top level)",
                              f"unknown key {k!r}; allowed keys: {', '.join(sorted(allowed))} "
                              "(check the spelling)")
        for k in sorted(required):
            if k not in doc:
                self.fail(where or "(top level)", f"missing key {k!r}")
        return dict(doc)

    def string(self, doc: dict[str, Any], where: str, key: str, *, default: str | None = None,
               pattern: re.Pattern[str] | None = None, hint: str = "") -> str:
        value = doc.get(key, default)
        at = f"{where}.{key}" if where else key
        if not isinstance(value, str):
            self.fail(at, f"must be a string, got {_describe(value)}" + _yaml_bool_hint(value))
        if pattern is not None and not pattern.match(value):
            self.fail(at, f"{value!r} is not a valid name; use {hint}")
        return value

    def path(self, doc: dict[str, Any], where: str, key: str) -> str:
        value = self.string(doc, where, key)
        if not value or any(not part for part in value.split(".")):
            self.fail(f"{where}.{key}", f"{value!r} is not a field path; use a JSON key, or "
                                        "keys joined by '.', e.g. faults.lamp")
        return value

    def pattern(self, doc: dict[str, Any], where: str, key: str) -> TopicPattern:
        value = self.string(doc, where, key)
        at = f"{where}.{key}"
        names = _PLACEHOLDER_RE.findall(value)
        if any(n not in ("prefix", "address") for n in names):
            self.fail(at, f"{value!r} uses unknown placeholders; only {{prefix}} and "
                          "{address} are known")
        levels = value.split("/")
        if names.count("address") != 1 or "{address}" not in levels:
            self.fail(at, f"{value!r} must contain {{address}} exactly once, as a whole topic "
                          "level, e.g. {prefix}/{address}/status")
        if any(ch in value for ch in "+#"):
            self.fail(at, f"{value!r} must not contain MQTT wildcards; the driver derives "
                          "the subscription from {address}")
        return TopicPattern(value)

    def choice(self, doc: dict[str, Any], where: str, key: str, options: tuple[str, ...],
               *, default: str | None = None) -> str:
        value = doc.get(key, default)
        if value not in options:
            self.fail(f"{where}.{key}", f"must be one of {', '.join(options)}, got "
                                        f"{_describe(value)}")
        return str(value)

    def number(self, doc: dict[str, Any], where: str, key: str, *, default: float) -> float:
        value = doc.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{where}.{key}", f"must be a number, got {_describe(value)}")
        return float(value)

    def boolean(self, doc: dict[str, Any], where: str, key: str, *, default: bool) -> bool:
        value = doc.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}", f"must be true or false, got {_describe(value)}")
        return value

    def each(self, doc: dict[str, Any], key: str,
             build: Callable[[_Checker, Any, str], Any]) -> list[Any]:
        items = doc.get(key) or []
        if not isinstance(items, list):
            self.fail(key, f"must be a list, got {_describe(items)}")
        return [build(self, item, f"{key}[{i}]") for i, item in enumerate(items)]


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    kind = {dict: "a mapping", list: "a list", str: "the string", bool: "the boolean"}.get(
        type(value), "the number")
    return f"{kind} {value!r}" if not isinstance(value, dict | list) else kind


def _yaml_bool_hint(value: Any) -> str:
    if isinstance(value, bool):
        return ("; YAML reads unquoted on/off/yes/no/true/false as booleans, so quote it, "
                'e.g. "on"')
    return ""
