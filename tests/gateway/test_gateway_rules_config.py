"""The `rules:` section of the gateway config: a valid rule loads with its defaults; each
mistake (unknown kind, unknown device, bad duration, hits < 1, ...) names the line, the key
and the fix; a controller whose driver cannot send commands stops the gateway at start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from gateway_support import FakeDriver, config_dict, write_config

from gateway.app import Gateway
from gateway.config import ConfigError, load_config
from gateway.rules.ebike_spec import EbikeLockoutSpec


def rule(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": "lockout-e1", "kind": "ebike_lift_lockout", "detector": "dev-1",
        "controller": "dev-2", "confirm": {"hits": 2, "within": "3s", "min_confidence": 0.6},
        "release_when": "ebike_left", "max_hold": "10m"}
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def config_with(*rules: dict[str, Any], devices: int = 3) -> dict[str, Any]:
    return config_dict(devices=devices, rules=list(rules))


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def only_problem(path: Path) -> str:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


def line_of(path: Path, text: str, after: str = "rules:") -> int:
    """1-based number of the first line below `after` that reads `text` (less '- ')."""
    lines = path.read_text().splitlines()
    start = lines.index(after)
    return next(n for n, line in enumerate(lines[start:], start + 1)
                if line.strip().removeprefix("- ") == text)


def test_a_valid_rule_loads_with_durations_and_defaults(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    entry = rule()
    del entry["release_when"]
    config = load_config(write_config(tmp_path, config_with(entry)))
    (spec,) = config.rules
    assert isinstance(spec, EbikeLockoutSpec)
    assert (spec.name, spec.kind, spec.detector, spec.controller) == (
        "lockout-e1", "ebike_lift_lockout", "dev-1", "dev-2")
    assert (spec.hits, spec.within, spec.min_confidence) == (2, timedelta(seconds=3), 0.6)
    assert spec.release_when == "ebike_left"
    assert spec.max_hold == timedelta(minutes=10)
    assert spec.command_timeout == timedelta(seconds=3)
    assert spec.commands() == (("controller", "dev-2"),)


def test_a_config_without_rules_has_none(tmp_path: Path,
                                         fake_driver: type[FakeDriver]) -> None:
    assert load_config(write_config(tmp_path, config_dict())).rules == ()


def test_an_unknown_kind_suggests_the_known_one(tmp_path: Path,
                                                fake_driver: type[FakeDriver]) -> None:
    path = write_config(tmp_path, config_with(rule(kind="ebike_lift_lockuot")))
    assert only_problem(path) == (
        f"line {line_of(path, 'kind: ebike_lift_lockuot')}, rules[0].kind: `kind` "
        "'ebike_lift_lockuot' is not a rule kind this gateway knows; did you mean "
        "`ebike_lift_lockout`?")


def test_a_kind_nothing_like_a_known_one_lists_them(tmp_path: Path,
                                                    fake_driver: type[FakeDriver]) -> None:
    path = write_config(tmp_path, config_with(rule(kind="sprinkler")))
    assert only_problem(path).endswith(
        "rules[0].kind: `kind` 'sprinkler' is not a rule kind this gateway knows; known "
        "kinds: ebike_lift_lockout")


def test_a_missing_kind_says_what_to_add(tmp_path: Path,
                                         fake_driver: type[FakeDriver]) -> None:
    entry = rule()
    del entry["kind"]
    path = write_config(tmp_path, config_with(entry))
    assert only_problem(path) == (
        f"line {line_of(path, 'name: lockout-e1')}, rules[0].kind: `kind` is missing; add it, "
        "e.g. `kind: ebike_lift_lockout` (known kinds: ebike_lift_lockout)")


def test_devices_that_are_not_devices_of_this_gateway_are_refused(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    path = write_config(tmp_path, config_with(rule(detector="dev-11", controller="lift-9")))
    assert problems_of(path) == [
        f"line {line_of(path, 'detector: dev-11')}, rules[0].detector: `detector` 'dev-11' "
        "is not a device of this gateway (the detector must be one of the devices listed "
        "under `devices`); did you mean 'dev-1'?",
        f"line {line_of(path, 'controller: lift-9')}, rules[0].controller: `controller` "
        "'lift-9' is not a device of this gateway (the controller must be one of the "
        "devices listed under `devices`); add it to `devices` or name one of them",
    ]


def test_bad_durations_hits_and_confidence_say_what_is_accepted(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    entry = rule(confirm={"hits": 0, "within": "soon", "min_confidence": 1.5},
                 max_hold="-5m", command_timeout="50ms")
    path = write_config(tmp_path, config_with(entry))
    assert problems_of(path) == [
        f"line {line_of(path, 'hits: 0')}, rules[0].confirm.hits: `hits` must be a whole "
        "number from 1 to 100, got 0",
        f"line {line_of(path, 'within: soon')}, rules[0].confirm.within: `within` must be a "
        "duration like 10s, 5m, 1h or a number of seconds, got 'soon'",
        f"line {line_of(path, 'min_confidence: 1.5')}, rules[0].confirm.min_confidence: "
        "`min_confidence` must be a number from 0 to 1 (a detector's confidence), got 1.5",
        f"line {line_of(path, 'max_hold: -5m')}, rules[0].max_hold: `max_hold` must be a "
        "duration like 10s, 5m, 1h or a number of seconds, got '-5m'",
        f"line {line_of(path, 'command_timeout: 50ms')}, rules[0].command_timeout: "
        "`command_timeout` must be at least 0.1 s, got '50ms'",
    ]


def test_missing_confirm_and_release_event_other_than_ebike_left(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    entry = rule(release_when="door_closed")
    del entry["confirm"]
    path = write_config(tmp_path, config_with(entry))
    assert problems_of(path) == [
        f"line {line_of(path, 'name: lockout-e1')}, rules[0].confirm: section `confirm` is "
        "missing; add it, e.g. `confirm: {hits: 2, within: 3s, min_confidence: 0.6}`",
        f"line {line_of(path, 'release_when: door_closed')}, rules[0].release_when: "
        "`release_when` must be ebike_left (the detector's event that the bike has left the "
        "lift), got 'door_closed'",
    ]


def test_max_hold_must_outlast_the_command_timeout(tmp_path: Path,
                                                   fake_driver: type[FakeDriver]) -> None:
    path = write_config(tmp_path, config_with(rule(max_hold="5s", command_timeout="5s")))
    assert only_problem(path) == (
        f"line {line_of(path, 'max_hold: 5s')}, rules[0].max_hold: `max_hold` (5 s) must be "
        "longer than `command_timeout` (5 s), or the door is released before the controller "
        "could confirm the hold; raise max_hold")


def test_the_detector_cannot_be_its_own_controller(tmp_path: Path,
                                                   fake_driver: type[FakeDriver]) -> None:
    path = write_config(tmp_path, config_with(rule(controller="dev-1")))
    assert only_problem(path) == (
        f"line {line_of(path, 'controller: dev-1')}, rules[0].controller: `controller` is the "
        "detector itself ('dev-1'); name the lift's controller, a device of its own")


def test_rule_names_are_unique_and_one_controller_has_one_rule(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    path = write_config(tmp_path, config_with(rule(), rule(detector="dev-3")))
    second = line_of(path, "detector: dev-3") - 2  # its `name` line
    assert problems_of(path) == [
        f"line {second}, rules[1].name: `name` 'lockout-e1' is already used by rules[0]; "
        "rule names must be unique",
        f"line {second + 3}, rules[1].controller: `controller` 'dev-2' is already commanded "
        "by rule 'lockout-e1' (rules[0]); two rules would fight over one device, so give "
        "each device one rule",
    ]


def test_unknown_keys_in_a_rule_suggest_the_right_one(tmp_path: Path,
                                                      fake_driver: type[FakeDriver]) -> None:
    entry = rule(max_hlod="10m")
    del entry["max_hold"]
    problems = problems_of(write_config(tmp_path, config_with(entry)))
    assert [p.split(", ", 1)[1] for p in problems] == [  # the entry's line comes first
        "rules[0].max_hold: `max_hold` is missing; add it to `rules[0]`, e.g. "
        "`max_hold: 10m`",
        "rules[0].max_hlod: unknown key `max_hlod`; did you mean `max_hold`?",
    ]


@pytest.mark.parametrize(("value", "problem"), [
    ({"name": "x"}, "rules: `rules` must be a list (each entry starting with '- name: ...'), "
                    "got a mapping"),
    (["lockout"], "rules[0]: each rule must be a mapping with keys name, kind, ..., got "
                  "'lockout'"),
])
def test_a_rules_section_of_the_wrong_shape_is_explained(
        tmp_path: Path, fake_driver: type[FakeDriver], value: Any, problem: str) -> None:
    doc = config_dict()
    doc["rules"] = value
    assert only_problem(write_config(tmp_path, doc)).split(", ", 1)[1] == problem


def test_rule_mistakes_come_with_the_other_mistakes_of_the_file(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    doc = config_with(rule(detector="nope"))
    doc["devices"][0]["period"] = "often"
    problems = problems_of(write_config(tmp_path, doc))
    assert [p.split(": ")[0].split(", ")[1] for p in problems] == [
        "devices[0].period", "rules[0].detector"]


def test_a_controller_whose_driver_cannot_send_commands_stops_the_gateway(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    path = write_config(tmp_path, config_with(rule()))
    config = load_config(path)  # the structure is fine; the driver decides at start
    with pytest.raises(ConfigError) as caught:
        Gateway(config)
    assert str(path) in str(caught.value)
    assert caught.value.problems == [
        f"line {line_of(path, 'controller: dev-2')}, rules[0].controller: rule 'lockout-e1' "
        "must send commands to device dev-2, but its driver 'fake' cannot send commands (it "
        "has no send_command); serve the device with a driver that can (e.g. mqtt) or "
        "remove the rule"]
    assert not config.spool.path.exists()  # refused before anything was created


def test_a_rule_over_mqtt_devices_builds_a_gateway(tmp_path: Path) -> None:
    doc = config_dict(devices=0, driver="mqtt", rules=[rule(detector="cam-1",
                                                            controller="lift-1")])
    doc["devices"] = [
        {"id": "cam-1", "driver": "mqtt", "profile": "ebike_detector", "address": "cam-1",
         "period": "30s"},
        {"id": "lift-1", "driver": "mqtt", "profile": "elevator_controller",
         "address": "lift-1", "period": "30s"}]
    gateway = Gateway(load_config(write_config(tmp_path, doc)))
    assert list(gateway.rules.rules) == ["lockout-e1"]
    assert gateway.sink.rules is gateway.rules
    gateway.spool.close()
