"""The eight safety profiles turn what the simulated devices send into exact items (no broker):
the simulator's own documents go through the driver's `handle` on the device's topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from driver_support import RecordingSink

from drivers.base import DeviceSpec, Observation, Outcome
from drivers.mqtt import MqttDriver, create, load_shipped
from drivers.mqtt.profile import shipped_profiles
from simulators.safety import KINDS, SafetySpec, make_device
from simulators.safety.model import (
    AccessGate,
    Device,
    EbikeDetector,
    ElevatorController,
    HazardSensor,
    ManholeCover,
    PerimeterDetector,
    SosButton,
    ThrowDetector,
    encode,
)
from telemetry import Event, Reading, Severity

T0 = datetime(2026, 11, 23, 8, 0, 0, 123000, tzinfo=UTC)
ALARM, INFO, CRITICAL = Severity.ALARM, Severity.INFO, Severity.CRITICAL


class Bench:
    """One simulated device wired to an MQTT driver through `handle`, with a fake sink."""

    def __init__(self, kind: str, **options: Any) -> None:
        self.spec = SafetySpec("dev-1", kind, options=options)
        self.device: Any = make_device(self.spec, now=0.0)
        self.driver: MqttDriver = create({}, [DeviceSpec("dev-1", "mqtt", kind, "dev-1",
                                                         timedelta(seconds=10))])
        self.sink = RecordingSink()
        self.prefix = KINDS[kind]
        self.step = 0

    def wall(self) -> datetime:
        self.step += 1
        return T0 + timedelta(seconds=self.step)

    def status(self) -> datetime:
        """Send the device's status; the time it carries."""
        wall = self.wall()
        self.feed("status", self.device.status(0.0, wall))
        return wall

    def feed(self, topic: str, doc: dict[str, Any]) -> None:
        self.driver.handle(f"{self.prefix}/dev-1/{topic}", encode(doc), self.sink)

    def take(self) -> list[Any]:
        items, self.sink.items = self.sink.items, []
        return items


def test_every_kind_has_a_profile_named_like_it() -> None:
    assert set(KINDS) <= set(shipped_profiles())
    for kind, prefix in KINDS.items():
        assert load_shipped(kind).prefix == prefix


def test_ebike_detector_events_carry_confidence_and_heartbeat_is_only_health() -> None:
    b = Bench("ebike_detector")
    cam: EbikeDetector = b.device
    t = b.status()
    assert b.take() == [] and b.sink.observations == [Observation("dev-1", Outcome.OK)]
    t = b.wall()
    b.feed("event", cam.detected(t, 0.934))
    t2 = b.wall()
    b.feed("event", cam.left(t2))
    assert b.take() == [Event("dev-1", "ebike_detected", ALARM, t, None, {"confidence": 0.934}),
                        Event("dev-1", "ebike_left", INFO, t2, None, {})]
    assert b.driver.subscriptions() == ["scg-sim/lift-cams/+/event",
                                        "scg-sim/lift-cams/+/status"]


def test_elevator_controller_status_is_four_readings() -> None:
    b = Bench("elevator_controller", floors=18, floor=3)
    lift: ElevatorController = b.device
    lift.hold(True)
    t = b.status()
    assert b.take() == [Reading("dev-1", "running", t, 0.0), Reading("dev-1", "door_open", t, 1.0),
                        Reading("dev-1", "door_hold", t, 1.0), Reading("dev-1", "floor", t, 3.0)]
    lift.hold(False)
    lift.tick()  # the doors close and the car sets off
    t = b.status()
    assert b.take() == [Reading("dev-1", "running", t, 1.0), Reading("dev-1", "door_open", t, 0.0),
                        Reading("dev-1", "door_hold", t, 0.0), Reading("dev-1", "floor", t, 3.0)]


def test_sos_press_is_critical_and_battery_a_reading() -> None:
    b = Bench("sos_button", battery_pct=87)
    button: SosButton = b.device
    t = b.status()
    assert b.take() == [Reading("dev-1", "battery_pct", t, 87.0)]
    t = b.wall()
    b.feed("event", button.press(t))
    assert b.take() == [Event("dev-1", "sos_pressed", CRITICAL, t, None, {})]


def test_an_sos_press_with_a_broken_time_still_raises_its_alarm() -> None:
    b = Bench("sos_button", battery_pct=87)
    before = datetime.now(UTC)
    b.feed("event", {"ts": "yesterday-ish", "event": "press"})
    b.feed("status", {"ts": "yesterday-ish", "battery_pct": 80})
    items = b.take()
    # The alarm goes out, stamped with the gateway's receive time; the reading does not.
    assert [(i.type, i.severity) for i in items] == [("sos_pressed", CRITICAL)]
    assert items[0].time >= before
    seen = b.sink.observations[-1]
    assert seen.outcome is Outcome.DEGRADED
    assert "'ts'" in seen.reason and "events were kept with the gateway's receive time" \
        in seen.reason


@pytest.mark.parametrize(("hazard", "event", "normal", "alarm"), [
    ("fire_lane", "fire_lane_blocked", 0.0, 600.0),
    ("hydrant", "hydrant_pressure_low", 0.32, 0.05),
    ("fire_door", "fire_door_open", 0.0, 90.0),
    ("electrical", "electrical_abnormal", 28.0, 450.0),
])
def test_hazard_kind_picks_the_condition_its_alarm_raises_and_clears(
        hazard: str, event: str, normal: float, alarm: float) -> None:
    b = Bench("fire_hazard_sensor", hazard=hazard)
    sensor: HazardSensor = b.device
    t0 = b.status()
    sensor.set(True)
    t1 = b.status()
    t2 = b.status()  # still in alarm: no new event
    sensor.set(False)
    t3 = b.status()
    assert b.take() == [Reading("dev-1", "value", t0, normal),
                        Reading("dev-1", "value", t1, alarm),
                        Event("dev-1", event, ALARM, t1, True, {"value": alarm}),
                        Reading("dev-1", "value", t2, alarm),
                        Reading("dev-1", "value", t3, normal),
                        Event("dev-1", event, ALARM, t3, False, {"value": normal})]
    assert all(o.outcome is Outcome.OK for o in b.sink.observations)


def test_hazard_sensor_of_an_unknown_kind_is_degraded_not_ignored() -> None:
    b = Bench("fire_hazard_sensor", hazard="hydrant")
    b.feed("status", {"ts": "2026-11-23T08:00:00.123Z", "kind": "smoke", "alarm": True,
                      "value": 1.0})
    [obs] = b.sink.observations
    assert obs.outcome is Outcome.DEGRADED
    assert "field 'kind': expected one of 'fire_lane', 'hydrant', 'fire_door', 'electrical', " \
           "got the string \"smoke\"" in obs.reason


def test_perimeter_intrusion_and_tamper_are_conditions() -> None:
    b = Bench("perimeter_detector")
    zone: PerimeterDetector = b.device
    b.status()
    zone.intrusion = True
    t1 = b.status()
    zone.tamper = True
    t2 = b.status()
    zone.intrusion = zone.tamper = False
    t3 = b.status()
    assert b.take() == [Event("dev-1", "perimeter_intrusion", ALARM, t1, True, {}),
                        Event("dev-1", "tamper", ALARM, t2, True, {}),
                        Event("dev-1", "perimeter_intrusion", ALARM, t3, False, {}),
                        Event("dev-1", "tamper", ALARM, t3, False, {})]


def test_gate_pass_carries_direction_subject_and_credential() -> None:
    b = Bench("access_gate")
    gate: AccessGate = b.device
    t = b.wall()
    b.feed("event", gate.passage(t, "out", "vehicle", "plate"))
    assert b.take() == [Event("dev-1", "gate_pass", INFO, t, None,
                              {"direction": "out", "subject": "vehicle", "credential": "plate"})]


def test_throw_carries_the_floor() -> None:
    b = Bench("throw_detector")
    cam: ThrowDetector = b.device
    t = b.wall()
    b.feed("event", cam.thrown(t, 12))
    assert b.take() == [Event("dev-1", "object_thrown", ALARM, t, None, {"floor": 12})]


def test_manhole_tilt_past_15_degrees_raises_and_below_clears() -> None:
    b = Bench("manhole_cover", water_level_cm=12)
    cover: ManholeCover = b.device
    cover.tilt_deg = 15.0  # at the threshold: not yet
    t0 = b.status()
    cover.tilt_deg = 20.0
    cover.open = True
    t1 = b.status()
    cover.tilt_deg, cover.open = 2.0, False
    t2 = b.status()
    assert b.take() == [
        Reading("dev-1", "tilt_deg", t0, 15.0), Reading("dev-1", "water_level_cm", t0, 12.0),
        Reading("dev-1", "tilt_deg", t1, 20.0), Reading("dev-1", "water_level_cm", t1, 12.0),
        Event("dev-1", "manhole_tilt", ALARM, t1, True, {"tilt_deg": 20.0}),
        Event("dev-1", "manhole_open", ALARM, t1, True, {}),
        Reading("dev-1", "tilt_deg", t2, 2.0), Reading("dev-1", "water_level_cm", t2, 12.0),
        Event("dev-1", "manhole_tilt", ALARM, t2, False, {"tilt_deg": 2.0}),
        Event("dev-1", "manhole_open", ALARM, t2, False, {})]


def test_event_and_status_of_one_device_share_the_duplicate_check_per_topic() -> None:
    b = Bench("sos_button")
    button: SosButton = b.device
    doc = button.press(b.wall())
    b.feed("event", doc)
    b.feed("event", doc)  # a QoS 1 redelivery
    assert len(b.sink.events()) == 1 and b.driver.duplicates["dev-1"] == 1


@pytest.mark.parametrize("device_cls", [EbikeDetector, SosButton, AccessGate, ThrowDetector])
def test_heartbeat_and_event_never_share_a_ts(device_cls: type[Device]) -> None:
    spec = SafetySpec("d", device_cls.kind)
    device = make_device(spec, now=0.0)
    same = T0
    stamps = [device.status(0.0, same)["ts"], device.event(same, "x")["ts"],
              device.status(0.0, same)["ts"]]
    assert stamps == ["2026-11-23T08:00:00.123Z", "2026-11-23T08:00:00.124Z",
                      "2026-11-23T08:00:00.125Z"]
