"""One device message -> readings, condition values and momentary events, by its profile.

Pure and stateless: problems are collected, never raised, so one bad field costs only
that field, and the caller decides what a bad message means for the device's health.
Whatever the bytes, the only answer is a `Decoded` with problems: the JSON's depth is
bounded before parsing (`telemetry.jsonbound`), and numbers past a float's range, digit
strings past Python's limit and lone surrogates are refused where they appear.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from drivers.mqtt.profile import STATUS, EventRule, Guard, Profile, ReadingRule
from drivers.mqtt.yamlcheck import Scalar
from telemetry import Event, Reading, parse_time
from telemetry.jsonbound import (
    FLOAT_MAX,
    check_portable,
    check_text,
    decode_text,
    nests_deeper_than,
    show,
)

#: Device status documents are flat or nearly so; deeper nesting is an attack or a bug.
MAX_DEPTH: Final = 32


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


MISSING: Final = _Missing()


@dataclass(frozen=True, slots=True)
class Condition:
    """The present value of a condition event of one device, for the edge detector."""

    rule: EventRule
    active: bool
    data: dict[str, Any]


@dataclass(slots=True)
class Decoded:
    """What one message said. `problems` are complete sentences naming field, expected, got."""

    time: datetime | None
    readings: list[Reading] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    momentary: list[Event] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def decode_message(profile: Profile, device: str, payload: bytes, received: datetime, *,
                   topic: str = STATUS) -> Decoded:
    """Decode `payload` that `device` sent on the profile's topic named `topic`; `received` is
    the time used when the profile has none."""
    try:
        text = decode_text(payload)
    except UnicodeDecodeError:
        return Decoded(None, problems=[f"payload: expected a JSON object, got "
                                       f"{_snippet(payload)} (not JSON: not UTF-8 text)"])
    if nests_deeper_than(text, MAX_DEPTH):
        return Decoded(None, problems=[f"payload: expected a JSON object at most {MAX_DEPTH} "
                                       f"levels deep, got {_snippet(payload)} (nested "
                                       "deeper)"])
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        why = ("not JSON" if isinstance(exc, json.JSONDecodeError)
               else f"not JSON that can be read: {_limit_hit(exc)}")
        return Decoded(None, problems=[f"payload: expected a JSON object, got "
                                       f"{_snippet(payload)} ({why})"])
    if not isinstance(doc, dict):
        return Decoded(None, problems=[f"payload: expected a JSON object, got {_got(doc)}"])
    time = _time(profile, doc, received)
    clock_problem = None
    if isinstance(time, str):
        # An alarm must not be lost to a broken time field (an SOS press with a bad `ts`):
        # its events go out stamped with the gateway's receive time. Readings are dropped,
        # because their time is part of what they mean.
        clock_problem = (f"{time}; the message's events were kept with the gateway's receive "
                         "time, its readings dropped")
        time = received
    out = Decoded(time)
    if clock_problem:
        out.problems.append(clock_problem)
    readings = [r for r in profile.readings if r.topic == topic]
    events = [e for e in profile.events if e.topic == topic]
    holds = _guards([(r.when, r.optional) for r in readings]
                    + [(e.when, e.optional) for e in events], doc, out)
    for rule in readings:
        if clock_problem is None and holds(rule.when):
            _reading(rule, device, doc, time, out)
    for event in events:
        if holds(event.when):
            _event(event, device, doc, time, out)
    # Two rules on one field (ebike_detected / ebike_left on `event`) see the same fault.
    out.problems = list(dict.fromkeys(out.problems))
    return out


def lookup(doc: dict[str, Any], path: str) -> Any:
    """The value at a dotted path such as `faults.lamp`, or MISSING."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _guards(rules: list[tuple[Guard, bool]], doc: dict[str, Any],
            out: Decoded) -> Callable[[Guard], bool]:
    """Check the guard fields of the rules once; a test of whether a rule's guard holds.

    A guard field that is absent or holds a value no rule expects is a problem (unless every
    rule guarded by it is optional): the message cannot be told apart, so an alarm it may
    carry would otherwise vanish without a word.
    """
    expected: dict[str, list[Scalar]] = {}
    needed: dict[str, bool] = {}
    for when, optional in rules:
        for path, accepted in when:
            known = expected.setdefault(path, [])
            known.extend(v for v in accepted if not _matches(v, known))
            needed[path] = needed.get(path, False) or not optional
    found = {path: lookup(doc, path) for path in expected}
    for path, known in expected.items():
        if needed[path] and not _matches(found[path], known):
            out.problems.append(f"field {path!r}: expected one of "
                                f"{', '.join(map(repr, known))}, got {_got(found[path])}")
    return lambda when: all(_matches(found[path], values) for path, values in when)


def _matches(raw: Any, values: Sequence[Scalar]) -> bool:
    """`raw` equals one of `values`, where true is not 1 (JSON and YAML tell them apart)."""
    return any((isinstance(raw, bool) == isinstance(v, bool)) and raw == v
               and (isinstance(raw, str) == isinstance(v, str)) for v in values)


def _time(profile: Profile, doc: dict[str, Any], received: datetime) -> datetime | str:
    """The message time, or a problem sentence."""
    if profile.time is None:
        return received
    rule = profile.time
    raw = lookup(doc, rule.field)
    if rule.format == "rfc3339":
        try:
            return parse_time(raw, rule.field)
        except ValueError:
            return (f"field {rule.field!r}: expected an RFC 3339 time with a zone such as "
                    f"2026-11-23T08:00:00.123Z, got {_got(raw)}")
    if not _is_number(raw):
        return f"field {rule.field!r}: expected {rule.format} (a number), got {_got(raw)}"
    seconds = raw / 1000 if rule.format == "epoch_ms" else raw
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return f"field {rule.field!r}: expected a plausible {rule.format} time, got {raw!r}"


def _reading(rule: ReadingRule, device: str, doc: dict[str, Any], time: datetime,
             out: Decoded) -> None:
    raw = lookup(doc, rule.field)
    if raw is MISSING and rule.optional:
        return
    if rule.type == "bool":
        if not isinstance(raw, bool):
            out.problems.append(f"field {rule.field!r}: expected true or false, got {_got(raw)}")
            return
        out.readings.append(Reading(device, rule.metric, time, 1.0 if raw else 0.0))
        return
    if not _is_number(raw):
        out.problems.append(f"field {rule.field!r}: expected a number, got {_got(raw)}")
        return
    value = float(raw) * rule.scale
    if (rule.low is not None and value < rule.low) or (
            rule.high is not None and value > rule.high):
        out.problems.append(f"field {rule.field!r}: expected {_range(rule)} for "
                            f"{rule.metric}, got {value:g}; the reading was rejected")
        return
    out.readings.append(Reading(device, rule.metric, time, value))


def _range(rule: ReadingRule) -> str:
    if rule.low is not None and rule.high is not None:
        return f"a value in {rule.low:g} .. {rule.high:g}"
    if rule.low is not None:
        return f"a value of at least {rule.low:g}"
    return f"a value of at most {rule.high:g}"


def _event(rule: EventRule, device: str, doc: dict[str, Any], time: datetime,
           out: Decoded) -> None:
    raw = lookup(doc, rule.field)
    if raw is MISSING and rule.optional:
        return
    if rule.threshold:
        if not _is_number(raw):
            out.problems.append(f"field {rule.field!r}: expected a number, got {_got(raw)}")
            return
        active = ((rule.above is not None and raw > rule.above)
                  or (rule.below is not None and raw < rule.below))
    elif rule.equals is None:
        if not isinstance(raw, bool):
            out.problems.append(f"field {rule.field!r}: expected true or false, got {_got(raw)}")
            return
        active = raw
    else:
        if raw is MISSING:
            out.problems.append(f"field {rule.field!r}: expected one of "
                                f"{', '.join(map(repr, rule.equals))}, got nothing (absent)")
            return
        active = _matches(raw, rule.equals)
    data = {}
    for key, path in rule.data:
        value = lookup(doc, path)
        if value is not MISSING:
            try:  # it travels on in the event: it must be writable as JSON and storable
                check_portable(value, f"field {path!r}")
            except ValueError as exc:
                out.problems.append(f"{exc}; left out of the {rule.type} event")
                continue
            data[key] = value
        elif active:
            # The event still goes out: an alarm without its details beats no alarm.
            out.problems.append(f"field {path!r}: expected a value for {key!r} of the "
                                f"{rule.type} event, got nothing (field absent)")
    if rule.kind == "momentary":
        if active:
            out.momentary.append(Event(device, rule.type, rule.severity, time, None, data))
    else:
        out.conditions.append(Condition(rule, active, data))


def _is_number(value: Any) -> bool:
    """A finite JSON number a float can hold (a bigger integer would overflow)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -FLOAT_MAX <= value <= FLOAT_MAX
    return isinstance(value, float) and math.isfinite(value)


def _got(value: Any) -> str:
    if value is MISSING:
        return "nothing (field absent)"
    kind = {dict: "an object", list: "an array", str: "the string", bool: "the boolean",
            type(None): "null"}.get(type(value), "the number")
    if isinstance(value, dict | list) or value is None:
        return kind
    try:
        if isinstance(value, str):
            check_text(value, "")
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except ValueError:  # a lone surrogate, or an integer too long to print
        return f"{kind} {show(value)}"
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


def _limit_hit(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    # json.loads refuses integers longer than Python converts (4300 digits by default)
    return f"a number of more than {sys.get_int_max_str_digits()} digits"


def _snippet(payload: bytes) -> str:
    text = payload[:40].decode("utf-8", "replace")
    return repr(text + ("..." if len(payload) > 40 else ""))
