"""The devices file, the story and control messages are checked before anything runs, and
refused naming the file, the entry and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulators.safety import (
    DEMO_DEVICES,
    DEMO_STORY,
    KINDS,
    Action,
    StoryStep,
    load_devices,
    load_story,
    parse_action,
    parse_control,
    parse_devices,
    parse_story,
)

DEVICES = """\
period: 5s
prefixes: {sos_button: site/sos}
devices:
  - {id: lift-cam-n1, kind: ebike_detector}
  - {id: lift-n1, kind: elevator_controller, floors: 18, period: 500ms}
  - {id: "sos-{n:03d}", kind: sos_button, repeat: 3, start: 7, battery_pct: 90}
  - {id: hz-1, kind: fire_hazard_sensor, hazard: fire_door}
"""

IDS = {"cam": "ebike_detector", "lift": "elevator_controller", "sos": "sos_button",
         "throw": "throw_detector", "gate": "access_gate"}


def test_devices_file_expands_templates_and_reads_periods(tmp_path: Path) -> None:
    path = tmp_path / "devices.yaml"
    path.write_text(DEVICES)
    listed = load_devices(path)
    assert [(s.id, s.kind, s.period) for s in listed.devices] == [
        ("lift-cam-n1", "ebike_detector", None), ("lift-n1", "elevator_controller", 0.5),
        ("sos-007", "sos_button", None), ("sos-008", "sos_button", None),
        ("sos-009", "sos_button", None), ("hz-1", "fire_hazard_sensor", None)]
    assert listed.period == 5.0 and listed.prefixes == {"sos_button": "site/sos"}
    assert listed.devices[2].option("battery_pct") == 90
    assert listed.devices[1].option("floor") == 1  # the default


@pytest.mark.parametrize(("doc", "message"), [
    ({"devices": []}, r"`devices` must be a non-empty list"),
    ([{"id": "a", "kind": "lamp"}], r"devices\[0\]: kind must be one of ebike_detector"),
    ([{"id": "a", "kind": "sos_button", "hazard": "x"}],
     r"devices\[0\]: unknown key\(s\) hazard for a sos_button; known: battery_pct, id, kind"),
    ([{"id": "a", "kind": "fire_hazard_sensor"}], r"devices\[0\]: device 'a': a "
                                                  r"fire_hazard_sensor needs `hazard:`"),
    ([{"id": "a", "kind": "sos_button"}, {"id": "a", "kind": "access_gate"}],
     r"device id 'a' appears twice"),
    ([{"id": "s", "kind": "sos_button", "repeat": 2}], r"gives one id to several devices; "
                                                       r"it must contain \{n\}"),
    ([{"id": "s", "kind": "sos_button", "period": "soon"}],
     r"devices\[0\]: period: expected a duration > 0 such as 10"),
    ({"devices": [{"id": "s", "kind": "sos_button"}], "prefixes": {"sos_button": "a/#"}},
     r"prefixes\.sos_button: 'a/#' must be a topic without wildcards"),
    ({"devices": [{"id": "s", "kind": "sos_button"}], "perod": 3}, r"unknown key\(s\) perod"),
])
def test_bad_devices_files_are_refused(doc: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_devices(doc, source="devices file x.yaml")
    assert str(info.value).startswith("devices file x.yaml: ")


def test_story_is_sorted_by_time_and_may_repeat(tmp_path: Path) -> None:
    path = tmp_path / "story.yaml"
    path.write_text("""\
every: 2m
story:
  - {at: 90s, action: throw, device: throw, args: {floor: 12}}
  - {at: 0, action: ebike_enters, device: cam, args: {confidence: 0.8, hits: 2}}
  - {at: 30, action: silence, device: [sos, gate]}
""")
    story = load_story(path, IDS)
    assert story.every == 120.0
    assert story.steps == (
        StoryStep(0.0, Action("ebike_enters", ("cam",), {"confidence": 0.8, "hits": 2})),
        StoryStep(30.0, Action("silence", ("sos", "gate"))),
        StoryStep(90.0, Action("throw", ("throw",), {"floor": 12})))


@pytest.mark.parametrize(("entry", "message"), [
    ({"at": 1, "action": "explode", "device": "cam"}, r"action must be one of ebike_enters"),
    ({"at": 1, "action": "press_sos", "device": "cam"},
     r"action press_sos needs a sos_button, but cam is of kind ebike_detector"),
    ({"at": 1, "action": "press_sos", "device": "sos-404"},
     r"device 'sos-404' is not in the fleet"),
    ({"at": 1, "action": "throw", "device": "throw"}, r"action throw needs argument\(s\) floor"),
    ({"at": 1, "action": "throw", "device": "throw", "args": {"floor": "12th"}},
     r"argument floor of throw: expected a floor number >= 1, got '12th'"),
    ({"at": 1, "action": "ebike_enters", "device": "cam", "args": {"confidence": 1.5}},
     r"argument confidence of ebike_enters: expected a confidence 0.0..1.0"),
    ({"at": 1, "action": "gate_pass", "device": "gate", "args": {"via": "card"}},
     r"action gate_pass has no argument 'via' \(its arguments: direction, subject, "
     r"credential\)"),
    ({"at": 1, "action": "press_sos", "device": ["sos"]}, r"device must be a device id, got"),
    ({"at": -1, "action": "press_sos", "device": "sos"}, r"at: expected seconds >= 0"),
    ({"action": "press_sos", "device": "sos"}, r"must be a mapping with at, action, device"),
    ({"at": 1, "action": "press_sos", "device": "sos", "when": 3}, r"unknown key\(s\) when"),
])
def test_bad_story_entries_are_refused_naming_the_entry(entry: dict[str, Any],
                                                        message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_story([{"at": 0, "action": "press_sos", "device": "sos"}, entry], IDS,
                    source="story s.yaml")
    assert str(info.value).startswith("story s.yaml: entry 1: ")


def test_repeating_story_must_be_longer_than_its_last_step() -> None:
    with pytest.raises(ValueError, match=r"every \(60 s\) must be longer than the last entry"):
        parse_story({"every": 60, "story": [{"at": 60, "action": "press_sos",
                                             "device": "sos"}]}, IDS)


def test_control_message_is_one_action_or_a_list() -> None:
    assert parse_control(b'{"action": "press_sos", "device": "sos"}', IDS) == [
        Action("press_sos", ("sos",))]
    assert parse_control(b'[{"action": "door_hold", "device": "lift", "args": {"hold": false}},'
                         b' {"action": "resume", "device": "cam"}]', IDS) == [
        Action("door_hold", ("lift",), {"hold": False}), Action("resume", ("cam",))]
    with pytest.raises(ValueError, match=r"control message, action 0: action tilt needs a "
                                         r"manhole_cover, but sos is of kind sos_button"):
        parse_control(b'{"action": "tilt", "device": "sos", "args": {"degrees": 20}}', IDS)
    with pytest.raises(ValueError, match="control message is not JSON"):
        parse_control(b"press!", IDS)


def test_action_round_trips_through_json() -> None:
    action = parse_action({"action": "silence", "device": ["sos", "cam"]}, IDS, where="x")
    assert parse_action(action.to_json(), IDS, where="x") == action


def test_demo_devices_and_story_load_and_use_every_kind() -> None:
    listed = load_devices(DEMO_DEVICES)
    kinds = {s.id: s.kind for s in listed.devices}
    assert set(kinds.values()) == set(KINDS)
    story = load_story(DEMO_STORY, kinds)
    assert story.every == 600 and len(story.steps) >= 10
    assert {"ebike_enters", "false_hit", "press_sos", "throw"} <= {
        s.action.name for s in story.steps}
