"""Profile format additions for the safety devices: several heard topics, `when` guards,
numeric thresholds, and data that must be there; each refused clearly when misused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drivers.mqtt import ProfileError, load_profile
from drivers.mqtt.payload import decode_message
from drivers.mqtt.profile import Profile
from telemetry import Event, Reading, Severity

T = datetime(2026, 11, 23, 8, 0, 0, 123000, tzinfo=UTC)
TS = "2026-11-23T08:00:00.123Z"

BASE = """\
name: probe
topics:
  prefix: site/probe
  status: "{prefix}/{address}/status"
  event: "{prefix}/{address}/event"
  command: "{prefix}/{address}/set"
time: {field: ts}
readings:
  - {field: level, metric: level, when: {mode: [wet, dry]}}
events:
  - {topic: event, field: event, equals: knock, kind: momentary, type: knocked,
     severity: warning, data: {force: force}}
  - {field: level, above: 80, type: level_high, severity: alarm}
  - {field: level, below: 5, above: 95, type: level_extreme, severity: critical}
  - {field: flag, equals: 1, type: flag_one, severity: info, optional: true}
"""


def profile(tmp_path: Path, text: str = BASE) -> Profile:
    path = tmp_path / "probe.yaml"
    path.write_text(text)
    return load_profile(path)


def decode(p: Profile, topic: str, **doc: Any) -> Any:
    return decode_message(p, "p-1", json.dumps({"ts": TS, **doc}).encode(), T, topic=topic)


def test_rules_read_only_the_topic_they_name(tmp_path: Path) -> None:
    p = profile(tmp_path)
    assert [name for name, _ in p.topics()] == ["status", "event"]
    out = decode(p, "event", event="knock", force=3, level=99)
    assert out.problems == [] and out.readings == [] and out.conditions == []
    assert out.momentary == [Event("p-1", "knocked", Severity.WARNING, T, None, {"force": 3})]
    out = decode(p, "status", event="knock", mode="wet", level=50)
    assert out.momentary == [] and out.readings == [Reading("p-1", "level", T, 50.0)]


@pytest.mark.parametrize(("level", "high", "extreme"), [
    (80, False, False), (80.5, True, False), (96, True, True), (4.9, False, True),
    (5, False, False),
])
def test_thresholds_match_above_or_below(tmp_path: Path, level: float, high: bool,
                                         extreme: bool) -> None:
    out = decode(profile(tmp_path), "status", mode="dry", level=level)
    assert {c.rule.type: c.active for c in out.conditions} == {"level_high": high,
                                                               "level_extreme": extreme}


def test_a_threshold_on_a_non_number_is_a_problem(tmp_path: Path) -> None:
    out = decode(profile(tmp_path), "status", mode="dry", level="high")
    assert "field 'level': expected a number, got the string \"high\"" in out.problems
    assert out.conditions == []


def test_a_guard_with_an_unexpected_value_is_a_problem_and_the_rule_does_not_read(
        tmp_path: Path) -> None:
    out = decode(profile(tmp_path), "status", mode="frozen", level=50)
    assert out.readings == []
    assert out.problems[0] == ("field 'mode': expected one of 'wet', 'dry', got the string "
                               "\"frozen\"")


def test_a_missing_data_field_is_a_problem_but_the_event_still_goes_out(tmp_path: Path) -> None:
    out = decode(profile(tmp_path), "event", event="knock")
    assert out.momentary == [Event("p-1", "knocked", Severity.WARNING, T, None, {})]
    assert out.problems == ["field 'force': expected a value for 'force' of the knocked event, "
                            "got nothing (field absent)"]


def test_numbers_match_across_int_and_float_but_never_booleans(tmp_path: Path) -> None:
    p = profile(tmp_path)
    flag = [(v, [c.active for c in decode(p, "status", mode="dry", level=50, flag=v).conditions
                 if c.rule.type == "flag_one"]) for v in (1, 1.0, True, "1")]
    assert flag == [(1, [True]), (1.0, [True]), (True, [False]), ("1", [False])]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("{topic: event, field: event,", "{topic: evnt, field: event,",
     r"events\[0\]\.topic: 'evnt' is not a topic of this profile; use one of status, event"),
    ('  event: "{prefix}/{address}/event"\n',
     '  event: "{prefix}/{address}/event"\n  comand: "{prefix}/{address}/cmd"\n',
     r"topics\.comand: no reading or event reads this topic; .*\(check the spelling"),
    ('command: "{prefix}/{address}/set"', 'command: "{prefix}/{address}/status"',
     r"topics\.command: .* is also topics\.status; give each topic its own pattern"),
    ("above: 80,", "above: 80, equals: 3,",
     r"events\[1\]: give either equals or a threshold \(above / below\), not both"),
    ("below: 5, above: 95", "below: 95, above: 5",
     r"events\[2\]\.below: 95 must be less than above \(5\)"),
    ("above: 80,", "above: high,", r"events\[1\]\.above: must be a number, got the string"),
    ("when: {mode: [wet, dry]}", "when: {}", r"readings\[0\]\.when: is empty"),
    ("when: {mode: [wet, dry]}", "when: {mode: [[wet]]}",
     r"readings\[0\]\.when\.mode: must be a string, number or boolean"),
    ("when: {mode: [wet, dry]}", "when: wet", r"readings\[0\]\.when: must be a mapping"),
])
def test_misused_additions_are_refused_naming_file_key_and_fix(
        tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in BASE
    with pytest.raises(ProfileError, match=message) as info:
        profile(tmp_path, BASE.replace(old, new))
    assert str(info.value).startswith(str(tmp_path / "probe.yaml") + ": ")
