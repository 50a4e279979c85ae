"""The MQTT driver with the safety profiles against the simulated safety fleet over a real
mosquitto: one test per device kind, plus heartbeats and the lift's door-hold command."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from driver_support import RecordingSink

from drivers.base import DeviceSpec, Outcome
from drivers.mqtt import MqttDriver, create
from scg.localsvc import Mosquitto
from simulators.safety import SafetyFleet, SafetySpec
from telemetry import Event, Reading, Severity, parse_time

pytestmark = pytest.mark.integration
PERIOD = 0.3

DEVICES = [
    SafetySpec("cam-e1", "ebike_detector"),
    SafetySpec("lift-e1", "elevator_controller", options={"floors": 18, "floor": 1}),
    SafetySpec("sos-001", "sos_button", options={"battery_pct": 76}),
    SafetySpec("hz-hydrant-1", "fire_hazard_sensor", options={"hazard": "hydrant"}),
    SafetySpec("fence-n", "perimeter_detector"),
    SafetySpec("gate-n", "access_gate"),
    SafetySpec("throw-b01", "throw_detector"),
    SafetySpec("mh-07", "manhole_cover", options={"water_level_cm": 14}),
]


class Sink(RecordingSink):
    def events_of(self, device: str, type_: str) -> list[Event]:
        return [e for e in self.events() if e.device == device and e.type == type_]

    def values(self, device: str, metric: str) -> list[Reading]:
        return [r for r in self.readings() if r.device == device and r.metric == metric]


async def eventually(cond: Callable[[], Any], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def site(broker: Mosquitto, period: float = PERIOD
               ) -> AsyncIterator[tuple[SafetyFleet, MqttDriver, Sink]]:
    """A driver subscribed for every safety device, then the fleet playing them."""
    specs = [DeviceSpec(s.id, "mqtt", s.kind, s.id, timedelta(seconds=period)) for s in DEVICES]
    login = broker.login("devices")
    driver = create({"host": broker.host, "port": broker.port, "reconnect_min": 0.05,
                     "username": login.username, "password": login.password,
                     "reconnect_max": 0.2}, specs)
    sink = Sink()
    task = asyncio.create_task(driver.run(sink))
    fleet = SafetyFleet(DEVICES, host=broker.host, port=broker.port, period=period,
                        username=login.username, password=login.password,
                        reconnect_min=0.05, reconnect_max=0.2, ack_timeout=2.0)
    try:
        await asyncio.wait_for(driver.ready.wait(), 5)
        async with fleet:
            await asyncio.wait_for(fleet.wait_connected(), 5)
            yield fleet, driver, sink
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_every_device_heartbeats_and_a_silenced_one_stops(broker: Mosquitto) -> None:
    async with site(broker) as (fleet, driver, sink):
        def heard(device: str) -> int:
            return sum(o.device == device and o.outcome is Outcome.OK for o in sink.observations)

        await eventually(lambda: all(heard(s.id) >= 2 for s in DEVICES), "2 heartbeats each")
        fleet.silence(["sos-001"])
        quiet = heard("sos-001")
        other = heard("gate-n")
        await eventually(lambda: heard("gate-n") >= other + 3, "the gate to go on")
        assert heard("sos-001") <= quiet + 1  # one may have been in flight
        assert sum(driver.malformed.values()) == 0 and driver.unknown == {}
        assert all(o.outcome is Outcome.OK for o in sink.observations)


async def test_ebike_detector_detections_carry_their_confidence(broker: Mosquitto) -> None:
    async with site(broker, period=30.0) as (fleet, _, sink):
        fleet.ebike_enters("cam-e1", confidence=0.92, hits=2, interval=0.05)
        await eventually(lambda: len(sink.events_of("cam-e1", "ebike_detected")) == 2,
                         "two detections")
        fleet.ebike_leaves("cam-e1")
        await eventually(lambda: sink.events_of("cam-e1", "ebike_left"), "the bike leaving")
        fleet.false_hit("cam-e1")
        await eventually(lambda: len(sink.events_of("cam-e1", "ebike_detected")) == 3,
                         "the false hit")
    hits = sink.events_of("cam-e1", "ebike_detected")
    assert [(e.severity, e.active, e.data) for e in hits] == [
        (Severity.ALARM, None, {"confidence": 0.92})] * 2 + [
        (Severity.ALARM, None, {"confidence": 0.35})]
    [left] = sink.events_of("cam-e1", "ebike_left")
    assert (left.severity, left.data) == (Severity.INFO, {})
    assert hits[0].time < hits[1].time < left.time < hits[2].time
    assert fleet.events_sent["cam-e1"] == 4


async def test_door_hold_command_shows_in_the_controller_status(broker: Mosquitto) -> None:
    async with site(broker, period=30.0) as (fleet, driver, sink):
        await driver.send_command("lift-e1", {"door_hold": True})
        await eventually(lambda: [r.value for r in sink.values("lift-e1", "door_hold")] == [1.0],
                         "a status with door_hold true")
        [record] = fleet.holds("lift-e1")
        [hold] = sink.values("lift-e1", "door_hold")
        # The status that shows the hold is the one the controller sent when it applied it.
        assert record.door_hold and record.changed and hold.time == parse_time(record.ts, "ts")
        at = hold.time
        assert [(r.metric, r.value) for r in sink.readings()
                if r.device == "lift-e1" and r.time == at] == [
            ("running", 0.0), ("door_open", 1.0), ("door_hold", 1.0), ("floor", 1.0)]
        await driver.send_command("lift-e1", {"door_hold": False})
        await eventually(lambda: len(sink.values("lift-e1", "door_hold")) == 2, "the release")
        assert sink.values("lift-e1", "door_hold")[-1].value == 0.0
        assert [r.door_hold for r in fleet.holds("lift-e1")] == [True, False]


async def test_held_lift_does_not_run_until_released(broker: Mosquitto) -> None:
    async with site(broker, period=0.1) as (fleet, driver, sink):
        await eventually(lambda: 1.0 in [r.value for r in sink.values("lift-e1", "running")],
                         "the lift to run")
        await driver.send_command("lift-e1", {"door_hold": True})
        await eventually(lambda: fleet.holds("lift-e1"), "the hold applied")
        held_from = parse_time(fleet.holds("lift-e1")[0].ts, "ts")
        await eventually(lambda: sum(r.time >= held_from
                                     for r in sink.values("lift-e1", "running")) >= 5,
                         "5 statuses while held")
        assert {r.value for r in sink.values("lift-e1", "running") if r.time >= held_from} == {0.0}
        fleet.door_hold("lift-e1", False)
        await eventually(lambda: sink.values("lift-e1", "running")[-1].value == 1.0,
                         "the lift to run again")


async def test_sos_press_is_a_critical_event(broker: Mosquitto) -> None:
    async with site(broker) as (fleet, _, sink):
        await eventually(lambda: sink.values("sos-001", "battery_pct"), "a heartbeat")
        fleet.press_sos("sos-001")
        await eventually(lambda: sink.events_of("sos-001", "sos_pressed"), "the press")
    [press] = sink.events_of("sos-001", "sos_pressed")
    assert (press.severity, press.active, press.data) == (Severity.CRITICAL, None, {})
    assert {r.value for r in sink.values("sos-001", "battery_pct")} == {76.0}


async def test_hazard_alarm_raises_then_clears_its_condition(broker: Mosquitto) -> None:
    async with site(broker) as (fleet, _, sink):
        await eventually(lambda: sink.values("hz-hydrant-1", "value"), "a heartbeat")
        fleet.set_hazard("hz-hydrant-1", alarm=True)
        await eventually(lambda: sink.events_of("hz-hydrant-1", "hydrant_pressure_low"),
                         "the raise")
        fleet.set_hazard("hz-hydrant-1", alarm=False)
        await eventually(lambda: len(sink.events_of("hz-hydrant-1", "hydrant_pressure_low")) == 2,
                         "the clear")
    raised, cleared = sink.events_of("hz-hydrant-1", "hydrant_pressure_low")
    assert (raised.active, raised.severity, raised.data) == (True, Severity.ALARM,
                                                             {"value": 0.05})
    assert (cleared.active, cleared.data) == (False, {"value": 0.32})
    assert {e.type for e in sink.events()} == {"hydrant_pressure_low"}


async def test_perimeter_intrusion_and_tamper(broker: Mosquitto) -> None:
    async with site(broker) as (fleet, _, sink):
        fleet.intrusion("fence-n")
        await eventually(lambda: sink.events_of("fence-n", "perimeter_intrusion"), "intrusion")
        fleet.tamper("fence-n")
        fleet.intrusion("fence-n", active=False)
        await eventually(lambda: len(sink.events_of("fence-n", "perimeter_intrusion")) == 2
                         and sink.events_of("fence-n", "tamper"), "the clear and the tamper")
    assert [e.active for e in sink.events_of("fence-n", "perimeter_intrusion")] == [True, False]
    assert [(e.active, e.severity) for e in sink.events_of("fence-n", "tamper")] == [
        (True, Severity.ALARM)]


async def test_gate_pass_is_an_info_event_with_its_data(broker: Mosquitto) -> None:
    async with site(broker) as (fleet, _, sink):
        fleet.gate_pass("gate-n", "in", "person", "card")
        fleet.gate_pass("gate-n", "out", "vehicle")
        await eventually(lambda: len(sink.events_of("gate-n", "gate_pass")) == 2, "2 passages")
    assert [(e.severity, e.data) for e in sink.events_of("gate-n", "gate_pass")] == [
        (Severity.INFO, {"direction": "in", "subject": "person", "credential": "card"}),
        (Severity.INFO, {"direction": "out", "subject": "vehicle", "credential": "plate"})]


async def test_throw_is_an_alarm_with_the_floor(broker: Mosquitto) -> None:
    async with site(broker) as (fleet, _, sink):
        fleet.throw("throw-b01", 12)
        await eventually(lambda: sink.events_of("throw-b01", "object_thrown"), "the throw")
    [thrown] = sink.events_of("throw-b01", "object_thrown")
    assert (thrown.severity, thrown.active, thrown.data) == (Severity.ALARM, None, {"floor": 12})


async def test_manhole_tilted_20_degrees_is_an_active_tilt(broker: Mosquitto) -> None:
    async with site(broker) as (fleet, _, sink):
        await eventually(lambda: sink.values("mh-07", "tilt_deg"), "a heartbeat")
        fleet.tilt("mh-07", 20)
        await eventually(lambda: sink.events_of("mh-07", "manhole_tilt"), "the tilt")
        fleet.tilt("mh-07", 1.5)
        await eventually(lambda: len(sink.events_of("mh-07", "manhole_tilt")) == 2, "level again")
    raised, cleared = sink.events_of("mh-07", "manhole_tilt")
    assert (raised.active, raised.severity, raised.data) == (True, Severity.ALARM,
                                                             {"tilt_deg": 20.0})
    assert (cleared.active, cleared.data) == (False, {"tilt_deg": 1.5})
    assert 20.0 in [r.value for r in sink.values("mh-07", "tilt_deg")]
    assert {r.value for r in sink.values("mh-07", "water_level_cm")} == {14.0}
    assert not sink.events_of("mh-07", "manhole_open")
