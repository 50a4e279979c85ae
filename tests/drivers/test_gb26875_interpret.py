"""What reports mean: component states grouped by the inventory's zones, resets that clear,
operation records, the transmission device's own state, analog values and clocks — edges
only, with the device's time label when it is believable."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gb26875_support import site_devices

from drivers.base import DeviceSpec
from drivers.gb26875 import encode_unit, time_label
from drivers.gb26875 import interpret as interpret_module
from drivers.gb26875.devices import parse_devices
from drivers.gb26875.interpret import Interpreter
from drivers.gb26875.settings import parse_settings
from drivers.gb26875.units import decode_unit
from telemetry import Event, Item, Reading, Severity

SETTINGS = parse_settings({})
NOW = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
FIRE, FAULT, NORMAL = 0b10, 0b100, 0b1


def interpreter(devices: list[DeviceSpec] | None = None) -> Interpreter:
    (box,) = parse_devices(devices or site_devices(), SETTINGS)
    return Interpreter(box, SETTINGS)


def label(at: datetime = NOW) -> bytes:
    return time_label(at, SETTINGS.tz)


def feed(it: Interpreter, kind: int, objects: list[dict[str, Any]],
         received: datetime = NOW) -> list[Item]:
    return it.unit(decode_unit(encode_unit(kind, objects, 2), 2), received)


def component(panel: int, loop: int, point: int, flags: int, **more: Any) -> dict[str, Any]:
    return {"system_type": 1, "system_address": panel, "component_type": 42,
            "component_address": loop << 16 | point, "flags": flags | NORMAL,
            "description": "", "time": label(), **more}


def brief(items: list[Item]) -> list[tuple[str, str, bool | None, Any]]:
    return [(i.device, i.type, i.active, i.data.get("zone")) for i in items
            if isinstance(i, Event)]


def test_a_zone_is_in_fire_while_any_of_its_points_is() -> None:
    it = interpreter()
    assert brief(feed(it, 2, [component(2, 1, 1, FIRE)])) == [("panel-b", "zone_fire", True, 1)]
    assert brief(feed(it, 2, [component(2, 1, 2, FIRE)])) == [("panel-b", "zone_fire", True, 1)]
    assert feed(it, 2, [component(2, 1, 2, FIRE)]) == []  # still so: no news
    assert feed(it, 2, [component(2, 1, 1, 0)]) == []     # point 2 still burns
    assert brief(feed(it, 2, [component(2, 1, 2, 0)])) == [("panel-b", "zone_fire", False, 1)]


def test_a_point_goes_by_the_site_map_to_its_zone_and_detector() -> None:
    it = interpreter()
    (event,) = feed(it, 2, [component(2, 1, 1, FAULT, description="B栋3层")])
    assert isinstance(event, Event)
    assert (event.type, event.severity, event.time) == ("zone_fault", Severity.ALARM, NOW)
    assert event.data == {"loop": 1, "point": 1, "zone": 1, "detector": "det-b-0101",
                          "component_type": 42,
                          "component": "point_photoelectric_smoke_detector",
                          "description": "B栋3层",
                          "device_time": NOW.astimezone(SETTINGS.tz).isoformat()}


def test_a_point_in_no_zone_still_reports_without_a_zone() -> None:
    it = interpreter()
    (event,) = feed(it, 2, [component(2, 7, 9, FIRE)])
    assert isinstance(event, Event) and event.device == "panel-b"
    assert "zone" not in event.data and (event.data["loop"], event.data["point"]) == (7, 9)


def test_a_component_in_test_mode_is_the_clear_normal_bit() -> None:
    it = interpreter()
    test = component(2, 1, 3, 0)
    test["flags"] = 0
    assert brief(feed(it, 2, [test])) == [("panel-b", "component_test_mode", True, 1)]
    assert brief(feed(it, 2, [component(2, 1, 3, 0)])) == [
        ("panel-b", "component_test_mode", False, 1)]


def test_a_reset_ends_every_condition_and_what_is_still_wrong_comes_back() -> None:
    it = interpreter()
    feed(it, 2, [component(2, 1, 1, FIRE), component(2, 2, 3, FAULT)])
    feed(it, 1, [{"system_type": 1, "system_address": 2, "flags": NORMAL | FIRE | FAULT,
                  "time": label()}])
    later = NOW + timedelta(seconds=5)
    items = feed(it, 4, [{"system_type": 1, "system_address": 2, "flags": 1, "operator": 7,
                          "time": label(later)}], later)
    assert brief(items)[0] == ("panel-b", "reset", None, None)
    assert items[0].data["operator"] == 7  # type: ignore[union-attr]
    assert sorted(brief(items)[1:]) == [("panel-b", "fault", False, None),
                                        ("panel-b", "fire_alarm", False, None),
                                        ("panel-b", "zone_fault", False, 2),
                                        ("panel-b", "zone_fire", False, 1)]
    assert all(i.time == later for i in items)
    # The panel reports its fault again after the reset: raised again.
    assert brief(feed(it, 2, [component(2, 2, 3, FAULT)], later)) == [
        ("panel-b", "zone_fault", True, 2)]


def test_a_reset_flag_in_a_system_state_fires_once_and_keeps_what_it_shows() -> None:
    it = interpreter()
    feed(it, 1, [{"system_type": 1, "system_address": 2, "flags": NORMAL | FIRE,
                  "time": label()}])
    resetting = {"system_type": 1, "system_address": 2, "flags": NORMAL | FIRE | 1 << 13,
                 "time": label()}
    assert brief(feed(it, 1, [resetting])) == [("panel-b", "reset", None, None),
                                               ("panel-b", "fire_alarm", False, None),
                                               ("panel-b", "fire_alarm", True, None)]
    assert feed(it, 1, [resetting]) == []


def test_the_transmission_device_reports_its_own_state_and_a_broken_panel_line() -> None:
    it = interpreter()
    items = feed(it, 21, [{"flags": NORMAL | 1 << 3 | 1 << 6, "time": label()}])
    assert brief(items) == [("uitd-b", "main_power_fault", True, None),
                            ("uitd-b", "panel_link_fault", True, None)]
    assert it.panel_link_down()
    feed(it, 24, [{"flags": 1, "operator": 0, "time": label()}])  # its own reset
    assert not it.panel_link_down() and it.active("uitd-b") == []


def test_a_panel_nobody_configured_reports_on_the_device_with_its_address() -> None:
    it = interpreter()
    (event,) = feed(it, 2, [component(9, 1, 1, FIRE)])
    assert isinstance(event, Event) and event.device == "uitd-b"
    assert (event.data["system_type"], event.data["system_address"], event.data["system"]) == \
        (1, 9, "fire_alarm_system")


def test_without_fallback_rules_an_unknown_panel_is_ignored_and_said_once(
        caplog: pytest.LogCaptureFixture, tmp_path: Any) -> None:
    (tmp_path / "bare_device.yaml").write_text(
        "name: bare_device\nrole: transmission_device\ndevice_states: {}\n")
    settings = parse_settings({"profile_dirs": [str(tmp_path)]})
    (box,) = parse_devices([DeviceSpec("u", "gb26875", "bare_device", "5",
                                       timedelta(seconds=30))], settings)
    it = Interpreter(box, settings)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert it.unit(decode_unit(encode_unit(2, [component(4, 1, 1, FIRE)], 2), 2),
                           NOW) == []
    assert it.ignored == {(1, 4): 3}
    assert caplog.text.count("reports system 4 (type 1 fire_alarm_system)") == 1


def test_time_labels_are_used_when_believable() -> None:
    it = interpreter()
    early = NOW - timedelta(seconds=30)
    (event,) = feed(it, 2, [component(2, 1, 1, FIRE, time=label(early))])
    assert event.time == early
    (event,) = feed(it, 2, [component(2, 1, 2, FIRE, time=label(NOW - timedelta(hours=8)))])
    assert event.time == NOW  # a clock eight hours off: arrival time, label kept in data
    assert event.data["device_time"].startswith("2026-03-01T04:00:00")  # type: ignore[union-attr]
    (event,) = feed(it, 2, [component(2, 1, 3, FIRE, time=label(NOW + timedelta(minutes=1)))])
    assert event.time == NOW  # nothing is reported before it happens
    (event,) = feed(it, 2, [component(2, 1, 4, FIRE, time=bytes(6))])
    assert event.time == NOW and "device_time" not in event.data


def test_analog_values_and_clocks_become_readings() -> None:
    it = interpreter()
    items = feed(it, 3, [{"system_type": 1, "system_address": 1, "component_type": 31,
                          "component_address": 2 << 16 | 5, "analog_type": 3, "value": -125,
                          "time": label()}])
    assert items == [Reading("panel-a", "l2p5_temperature_c", NOW, -12.5)]
    (offset,) = feed(it, 28, [{"time": label(NOW - timedelta(seconds=90))}])
    assert offset == Reading("uitd-b", "clock_offset_s", NOW, -90.0)


def test_a_device_inventing_addresses_cannot_grow_memory_without_end(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(interpret_module, "MAX_TRACKED", 5)
    it = interpreter()
    with caplog.at_level(logging.ERROR):
        items = feed(it, 2, [component(2, 1, p, FIRE) for p in range(1, 9)])
    assert len(items) == 5 and caplog.text.count("more than 5 components") == 1
    assert len(it._last_flags) <= 5
