"""Device payload profiles: which topics a kind of MQTT device uses and how its JSON becomes
readings and events. Profiles are YAML data in `drivers/mqtt/profiles/<name>.yaml`, so a new
device kind is a new file; `load_profile` refuses a bad one naming the file, key and fix.

A profile listens on `status` and optionally on more named topics (an `event` topic of
momentary events, say); each rule names the topic it reads (`topic:`, default status), may
apply only to messages whose fields match (`when:`), and an event matches by `equals`, by
a numeric threshold (`above` / `below`) or, without either, by a boolean field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from drivers.base import DriverConfigError
from drivers.mqtt.yamlcheck import Checker, Scalar
from telemetry import Severity

PROFILES_DIR: Final = Path(__file__).parent / "profiles"
TIME_FORMATS: Final = ("rfc3339", "epoch_s", "epoch_ms")
READING_TYPES: Final = ("number", "bool")
EVENT_KINDS: Final = ("condition", "momentary")

_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
STATUS: Final = "status"                     # the topic every profile listens on
_TOPIC_KEYS: Final = frozenset({"prefix", "command"})  # keys of `topics` that are not heard
_PLACEHOLDER_RE: Final = re.compile(r"\{([^{}]*)\}")


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


# (field path, accepted values) pairs that must all hold for a rule to read a message
Guard = tuple[tuple[str, tuple[Scalar, ...]], ...]


@dataclass(frozen=True, slots=True)
class ReadingRule:
    """JSON field `field` of messages on `topic` -> reading `metric`; bools travel as 0.0 / 1.0.

    With `when`, the rule reads only messages whose guard fields hold one of their values.
    `min` / `max` bound a plausible value, as in the Modbus profiles, and a metric ending
    in `_kwh` is never below zero; `counter: true` also refuses a value below the last
    one (see `drivers.mqtt.counters`).
    """

    field: str
    metric: str
    type: str = "number"
    scale: float = 1.0
    optional: bool = False
    topic: str = STATUS
    when: Guard = ()
    #: plausible range of the scaled value (outside: no reading, the message is degraded)
    low: float | None = None
    high: float | None = None
    #: a count that only grows (energy): a lower value than the last one is rejected
    counter: bool = False


@dataclass(frozen=True, slots=True)
class EventRule:
    """JSON field `field` of messages on `topic` -> event `type`.

    `condition`: the event is raised when the field matches and cleared when it stops
    matching (edge-triggered by the driver). `momentary`: one event per message in which
    the field matches (an SOS press, a gate pass). It matches when it equals one of
    `equals`; when it is a number above `above` or below `below` (either, if both are
    given); or, without any of these, when it is boolean true. With `when`, the rule reads
    only messages whose guard fields hold one of their values (a sensor's `kind` picks
    which of several event types its `alarm` flag means).
    """

    field: str
    type: str
    severity: Severity
    kind: str = "condition"
    equals: tuple[Scalar, ...] | None = None
    optional: bool = False
    data: tuple[tuple[str, str], ...] = ()  # (data key, JSON field) copied into the event
    above: float | None = None
    below: float | None = None
    topic: str = STATUS
    when: Guard = ()

    @property
    def threshold(self) -> bool:
        return self.above is not None or self.below is not None


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
    #: every topic the driver listens on, by name; status first
    listen: tuple[tuple[str, TopicPattern], ...] = ()

    def topics(self) -> tuple[tuple[str, TopicPattern], ...]:
        """(name, pattern) of every topic heard, status first."""
        return self.listen or ((STATUS, self.status),)


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
    c = Checker(source, ProfileError)
    top = c.mapping(doc, "", required={"name", "topics"},
                    optional={"description", "time", "readings", "events"})
    name = c.string(top, "", "name", pattern=_NAME_RE,
                    hint="lower-case letters, digits and '_', e.g. street_light")
    if expected_name is not None and name != expected_name:
        c.fail("name", f"{name!r} differs from the file name {expected_name!r}; make them "
                       "equal (devices select a profile by its file name)")
    description = c.string(top, "", "description", default="")
    prefix, listen, command = _topics(c, top["topics"])
    time = None
    if top.get("time") is not None:
        t = c.mapping(top["time"], "time", required={"field"}, optional={"format"})
        time = TimeRule(c.path(t, "time", "field"),
                        c.choice(t, "time", "format", TIME_FORMATS, default="rfc3339"))
    readings = tuple(c.each(top, "readings", _reading))
    events = tuple(c.each(top, "events", _event))
    if not readings and not events:
        c.fail("", "the profile has neither readings nor events; add at least one")
    names = [k for k, _ in listen]
    for section, rules in (("readings", readings), ("events", events)):
        for i, rule in enumerate(rules):
            if rule.topic not in names:
                c.fail(f"{section}[{i}].topic", f"{rule.topic!r} is not a topic of this "
                                                f"profile; use one of {', '.join(names)} "
                                                "(or add it under topics)")
    used = {r.topic for r in readings} | {e.topic for e in events}
    for key in names[1:]:
        if key not in used:
            c.fail(f"topics.{key}", f"no reading or event reads this topic; give a rule "
                                    f"`topic: {key}`, or remove it (check the spelling: the "
                                    "other keys are prefix, command and status)")
    _no_duplicates(c, "readings", [r.metric for r in readings], "metric")
    _no_duplicates(c, "events", [e.type if e.kind == "condition" else None for e in events],
                   "type", "two condition events of one type would clear each other")
    return Profile(name, description, prefix, listen[0][1], command, time, readings, events,
                   source, tuple(listen))


def _topics(c: Checker, doc: Any) -> tuple[str, list[tuple[str, TopicPattern]],
                                            TopicPattern | None]:
    """The prefix, the heard topics by name (status first) and the command topic."""
    topics = c.mapping(doc, "topics", required={STATUS}, optional=None)
    prefix = c.string(topics, "topics", "prefix", default="")
    if any(ch in prefix for ch in "+#{}") or prefix.endswith("/"):
        c.fail("topics.prefix", f"{prefix!r} must be a plain topic without wildcards, "
                                "braces or a trailing '/'")
    listen: list[tuple[str, TopicPattern]] = []
    for key in [STATUS, *sorted(set(topics) - _TOPIC_KEYS - {STATUS})]:
        if not _NAME_RE.match(key):
            c.fail("topics", f"key {key!r} is not a topic name; use prefix, command, status "
                             "or a name of lower-case letters, digits and '_', e.g. event")
        listen.append((key, _pattern(c, topics, "topics", key)))
    command = _pattern(c, topics, "topics", "command") if "command" in topics else None
    named = listen + ([("command", command)] if command else [])
    if not prefix and any("{prefix}" in p.template for _, p in named):
        c.fail("topics.prefix", "the topics use {prefix} but no prefix is given; add "
                                "`prefix: some/prefix` under topics")
    first: dict[str, str] = {}
    for key, p in named:
        if p.template in first:
            c.fail(f"topics.{key}", f"{p.template!r} is also topics.{first[p.template]}; "
                                    "give each topic its own pattern (a command topic that is "
                                    "also heard would make the driver read its own commands)")
        first[p.template] = key
    return prefix, listen, command


def _reading(c: Checker, doc: Any, where: str) -> ReadingRule:
    r = c.mapping(doc, where, required={"field", "metric"},
                  optional={"type", "scale", "optional", "topic", "when", "min", "max",
                            "counter"})
    kind = c.choice(r, where, "type", READING_TYPES, default="number")
    scale = c.number(r, where, "scale", default=1.0)
    if kind == "bool":
        for key in ("scale", "min", "max", "counter"):
            if key in r:
                c.fail(f"{where}.{key}", f"a bool reading has no {key}; remove it")
    field = c.path(r, where, "field")
    metric = c.string(r, where, "metric", pattern=_NAME_RE,
                      hint="lower-case letters, digits and '_', e.g. power_w")
    low = c.number(r, where, "min", default=0.0) if "min" in r else None
    high = c.number(r, where, "max", default=0.0) if "max" in r else None
    counter = c.boolean(r, where, "counter", default=False)
    if low is None and (counter or metric.endswith("_kwh")):
        low = 0.0  # a count below zero is garbage, whatever the profile forgot
    if low is not None and high is not None and low > high:
        c.fail(f"{where}.min", f"min {low:g} is above max {high:g}")
    return ReadingRule(field, metric, kind, scale,
                       c.boolean(r, where, "optional", default=False),
                       c.string(r, where, "topic", default=STATUS), _guard(c, r, where),
                       low, high, counter)


def _event(c: Checker, doc: Any, where: str) -> EventRule:
    e = c.mapping(doc, where, required={"field", "type", "severity"},
                  optional={"kind", "equals", "optional", "data", "above", "below", "topic",
                            "when"})
    severity = Severity(c.choice(e, where, "severity", tuple(s.value for s in Severity)))
    equals = c.scalars(e["equals"], f"{where}.equals") if "equals" in e else None
    above = c.number(e, where, "above", default=0.0) if "above" in e else None
    below = c.number(e, where, "below", default=0.0) if "below" in e else None
    if equals is not None and (above is not None or below is not None):
        c.fail(where, "give either equals or a threshold (above / below), not both")
    if above is not None and below is not None and not below < above:
        c.fail(f"{where}.below", f"{below:g} must be less than above ({above:g}); the event "
                                 "matches a value above `above` or below `below`, so otherwise "
                                 "it would match every value")
    data: list[tuple[str, str]] = []
    if "data" in e:
        d = c.mapping(e["data"], f"{where}.data", required=set(), optional=None)
        data = [(str(k), c.path(d, f"{where}.data", k)) for k in d]
    return EventRule(c.path(e, where, "field"),
                     c.string(e, where, "type", pattern=_NAME_RE,
                              hint="lower-case letters, digits and '_', e.g. lamp_fault"),
                     severity, c.choice(e, where, "kind", EVENT_KINDS, default="condition"),
                     equals, c.boolean(e, where, "optional", default=False), tuple(data),
                     above, below, c.string(e, where, "topic", default=STATUS),
                     _guard(c, e, where))


def _guard(c: Checker, rule: dict[str, Any], where: str) -> Guard:
    """`when: {kind: hydrant}` -> ((kind, (hydrant,)),): the messages the rule applies to."""
    if "when" not in rule:
        return ()
    at = f"{where}.when"
    w = c.mapping(rule["when"], at, required=set(), optional=None)
    if not w:
        c.fail(at, "is empty; give field: value pairs such as {kind: hydrant}, or remove it")
    for k in w:
        if any(not part for part in k.split(".")):
            c.fail(at, f"{k!r} is not a field path; use a JSON key, or keys joined by '.'")
    return tuple((k, c.scalars(w[k], f"{at}.{k}")) for k in w)


def _no_duplicates(c: Checker, section: str, values: list[str | None], key: str,
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


def _pattern(c: Checker, doc: dict[str, Any], where: str, key: str) -> TopicPattern:
    value = c.string(doc, where, key)
    at = f"{where}.{key}"
    names = _PLACEHOLDER_RE.findall(value)
    if any(n not in ("prefix", "address") for n in names):
        c.fail(at, f"{value!r} uses unknown placeholders; only {{prefix}} and "
                   "{address} are known")
    levels = value.split("/")
    if names.count("address") != 1 or "{address}" not in levels:
        c.fail(at, f"{value!r} must contain {{address}} exactly once, as a whole topic "
                   "level, e.g. {prefix}/{address}/status")
    if any(ch in value for ch in "+#"):
        c.fail(at, f"{value!r} must not contain MQTT wildcards; the driver derives "
                   "the subscription from {address}")
    return TopicPattern(value)
