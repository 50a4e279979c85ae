"""Simulated safety devices: their documents in the wire format, the lift's travels and
door hold, and specs refused with the device and the fix named."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from simulators.safety import SafetySpec, make_device
from simulators.safety.model import (
    ElevatorController,
    HazardSensor,
    ManholeCover,
    parse_door_command,
)

T0 = datetime(2026, 11, 23, 8, 0, 0, 123456, tzinfo=UTC)


def lift(**options: Any) -> ElevatorController:
    return ElevatorController(SafetySpec("lift-1", "elevator_controller", options=options),
                              now=0.0, rng=random.Random(7))


def test_status_documents_in_the_wire_format() -> None:
    docs = {kind: make_device(SafetySpec("d", kind, options=opts), now=0.0).status(42.9, T0)
            for kind, opts in [("ebike_detector", {}), ("sos_button", {"battery_pct": 80}),
                               ("fire_hazard_sensor", {"hazard": "hydrant"}),
                               ("perimeter_detector", {}),
                               ("manhole_cover", {"water_level_cm": 9.5}),
                               ("elevator_controller", {"floor": 4})]}
    ts = "2026-11-23T08:00:00.123Z"
    assert docs == {
        "ebike_detector": {"ts": ts, "uptime_s": 42},
        "sos_button": {"ts": ts, "battery_pct": 80.0},
        "fire_hazard_sensor": {"ts": ts, "kind": "hydrant", "alarm": False, "value": 0.32},
        "perimeter_detector": {"ts": ts, "intrusion": False, "tamper": False},
        "manhole_cover": {"ts": ts, "tilt_deg": 0.0, "open": False, "water_level_cm": 9.5},
        "elevator_controller": {"ts": ts, "running": False, "door_open": True,
                                "door_hold": False, "floor": 4},
    }


def test_lift_alternates_between_standing_open_and_running_to_another_floor() -> None:
    car = lift(floors=6, floor=2)
    seen = []
    for _ in range(6):
        car.tick()
        seen.append((car.running, car.door_open, car.floor))
    assert [s[:2] for s in seen] == [(True, False), (False, True)] * 3
    stops = [floor for running, _, floor in seen if not running]
    assert all(1 <= f <= 6 for f in stops)
    assert all(a != b for a, b in zip([2, *stops], stops, strict=False))


def test_door_hold_stops_the_car_with_doors_open_until_released() -> None:
    car = lift()
    car.tick()
    assert car.running
    assert car.hold(True) is True
    assert (car.running, car.door_open, car.door_hold) == (False, True, True)
    for _ in range(5):
        car.tick()
        assert (car.running, car.door_open) == (False, True)
    assert car.hold(True) is False  # already held: nothing changes
    car.hold(False)
    car.tick()
    assert (car.running, car.door_open, car.door_hold) == (True, False, False)


@pytest.mark.parametrize(("payload", "message"), [
    (b'{"door_hold": true}', None),
    (b'{"door_hold": 1}', 'must be {"door_hold": true|false}'),
    (b'{"door_hold": true, "floor": 3}', 'must be {"door_hold": true|false}'),
    (b"hold!", "command is not JSON"),
])
def test_door_command_is_checked(payload: bytes, message: str | None) -> None:
    if message is None:
        assert parse_door_command(payload) is True
        return
    with pytest.raises(ValueError, match=message):
        parse_door_command(payload)


def test_hazard_values_follow_the_alarm_unless_given() -> None:
    sensor = make_device(SafetySpec("hz", "fire_hazard_sensor", options={"hazard": "electrical"}),
                         now=0.0)
    assert isinstance(sensor, HazardSensor)
    sensor.set(True)
    assert (sensor.alarm, sensor.value) == (True, 450.0)
    sensor.set(True, 612.5)
    assert sensor.value == 612.5
    sensor.set(False)
    assert (sensor.alarm, sensor.value) == (False, 28.0)


def test_manhole_status_rounds_to_a_tenth() -> None:
    cover = make_device(SafetySpec("mh", "manhole_cover"), now=0.0)
    assert isinstance(cover, ManholeCover)
    cover.tilt_deg = 17.26
    assert cover.status(0.0, T0)["tilt_deg"] == 17.3


@pytest.mark.parametrize(("spec", "message"), [
    (("a/b", "sos_button", {}), r"device 'a/b': the id cannot be an MQTT topic level"),
    (("x", "smoke_alarm", {}), r"device 'x': kind 'smoke_alarm' is not one of ebike_detector"),
    (("x", "fire_hazard_sensor", {}), r"device 'x': a fire_hazard_sensor needs `hazard:` one "
                                      r"of fire_lane, hydrant, fire_door, electrical, got None"),
    (("x", "sos_button", {"floors": 3}), r"unknown option\(s\) floors for a sos_button "
                                         r"\(known: battery_pct\)"),
    (("x", "elevator_controller", {"floor": 30}), r"floor must be a whole number 1..floors"),
    (("x", "manhole_cover", {"water_level_cm": "deep"}), r"water_level_cm must be a number"),
])
def test_bad_specs_are_refused_naming_the_device(spec: tuple[str, str, dict[str, Any]],
                                                  message: str) -> None:
    device_id, kind, options = spec
    with pytest.raises(ValueError, match=message):
        SafetySpec(device_id, kind, options=options)
