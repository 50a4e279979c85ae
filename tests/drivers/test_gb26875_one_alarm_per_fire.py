"""One fire, one alarm: the panel's and the transmission device's own fire flags sum up the
zone in fire and are warnings while it is open; alone (a fire with no detail) they are
critical, so no fire is ever reported without an alarm."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_gb26875_interpret import FAULT, FIRE, NORMAL, component, feed, interpreter, label

from drivers.gb26875.profile import ProfileError, parse_profile
from telemetry import Event, Item, Severity


def severities(items: list[Item]) -> list[tuple[str, str, bool | None, str]]:
    return [(i.device, i.type, i.active, i.severity.value) for i in items
            if isinstance(i, Event)]


def system(panel: int, flags: int) -> dict[str, Any]:
    return {"system_type": 1, "system_address": panel, "flags": flags | NORMAL,
            "time": label()}


def device(flags: int) -> dict[str, Any]:
    return {"flags": flags | NORMAL, "time": label()}


def test_a_detector_fire_is_critical_and_the_panel_and_device_flags_are_warnings() -> None:
    it = interpreter()
    assert severities(feed(it, 2, [component(2, 1, 1, FIRE)])) == [
        ("panel-b", "zone_fire", True, "critical")]
    assert severities(feed(it, 1, [system(2, FIRE)])) == [
        ("panel-b", "fire_alarm", True, "warning")]
    assert severities(feed(it, 21, [device(FIRE)])) == [
        ("uitd-b", "fire_alarm", True, "warning")]
    # Their clearing events keep the severity they were raised at.
    assert severities(feed(it, 1, [system(2, 0)])) == [
        ("panel-b", "fire_alarm", False, "warning")]


def test_a_panel_fire_with_no_detector_behind_it_is_the_alarm() -> None:
    it = interpreter()
    assert severities(feed(it, 1, [system(1, FIRE)])) == [
        ("panel-a", "fire_alarm", True, "critical")]
    # Another panel's zone fire does not make panel A's own fire a summary.
    it = interpreter()
    feed(it, 2, [component(2, 1, 1, FIRE)])
    assert severities(feed(it, 1, [system(1, FIRE)])) == [
        ("panel-a", "fire_alarm", True, "critical")]


def test_a_panel_flag_before_its_detector_leaves_both_critical_rather_than_hold_a_fire() -> None:
    # Reported the other way round, the panel's flag had no detector behind it yet: it was
    # the alarm, and the zone still is one; nothing is downgraded after the fact.
    it = interpreter()
    assert severities(feed(it, 1, [system(2, FIRE)])) == [
        ("panel-b", "fire_alarm", True, "critical")]
    assert severities(feed(it, 2, [component(2, 1, 1, FIRE)])) == [
        ("panel-b", "zone_fire", True, "critical")]
    # once both are cleared (a reset), the next fire in detector order is one alarm again
    feed(it, 4, [{"system_type": 1, "system_address": 2, "flags": 0b1, "operator": 0,
                  "time": label()}])
    assert severities(feed(it, 2, [component(2, 1, 1, FIRE)])) == [
        ("panel-b", "zone_fire", True, "critical")]
    assert severities(feed(it, 1, [system(2, FIRE)])) == [
        ("panel-b", "fire_alarm", True, "warning")]


def test_the_device_fire_flag_alone_is_the_alarm_and_sums_up_any_panel_behind_it() -> None:
    it = interpreter()
    assert severities(feed(it, 21, [device(FIRE)])) == [
        ("uitd-b", "fire_alarm", True, "critical")]
    it = interpreter()
    feed(it, 1, [system(1, FIRE)])  # panel A's own fire (the alarm)
    assert severities(feed(it, 21, [device(FIRE)])) == [
        ("uitd-b", "fire_alarm", True, "warning")]


def test_an_unconfigured_panel_fire_is_an_alarm_on_the_device_and_sums_up_its_flag() -> None:
    it = interpreter()
    got = feed(it, 2, [component(3, 1, 1, FIRE)])
    assert severities(got) == [("uitd-b", "zone_fire", True, "critical")]
    assert got[0].data["system_address"] == 3  # type: ignore[union-attr]
    assert severities(feed(it, 1, [system(3, FIRE)])) == [
        ("uitd-b", "fire_alarm", True, "warning")]


@pytest.mark.parametrize(("rule", "problem"), [
    ({"event": "fire_alarm", "severity": "critical", "summary_of": "zone_fire"},
     "summary_of: must be a list of event types"),
    ({"event": "reset", "severity": "info", "momentary": True, "summary_of": ["zone_fire"]},
     "only a condition (not momentary) can sum up others"),
])
def test_a_bad_summary_of_is_refused_naming_the_key(rule: dict[str, Any],
                                                    problem: str) -> None:
    doc = {"name": "panel_x", "role": "system", "system_type": 1,
           "system_states": {"fire_alarm": rule}}
    with pytest.raises(ProfileError, match=re.escape(problem)) as caught:
        parse_profile(doc, source="panel_x.yaml")
    assert "system_states.fire_alarm.summary_of" in str(caught.value)


def test_summary_of_is_refused_on_an_operation() -> None:
    doc = {"name": "panel_x", "role": "system", "system_type": 1,
           "system_operations": {"reset": {"event": "reset", "severity": "info",
                                           "summary_of": ["zone_fire"]}}}
    with pytest.raises(ProfileError, match="unknown key"):
        parse_profile(doc, source="panel_x.yaml")


def test_a_detector_fault_is_the_alarm_and_the_panel_fault_flag_sums_it_up() -> None:
    it = interpreter()
    assert severities(feed(it, 2, [component(2, 1, 1, FAULT)])) == [
        ("panel-b", "zone_fault", True, "alarm")]
    assert severities(feed(it, 1, [system(2, FAULT)])) == [
        ("panel-b", "fault", True, "warning")]
    # a panel fault with no component behind it is the alarm
    assert severities(feed(interpreter(), 1, [system(1, FAULT)])) == [
        ("panel-a", "fault", True, "alarm")]


def test_severity_of_the_zone_event_is_still_critical() -> None:
    it = interpreter()
    (event,) = feed(it, 2, [component(1, 1, 1, FIRE)])
    assert isinstance(event, Event) and event.severity is Severity.CRITICAL
