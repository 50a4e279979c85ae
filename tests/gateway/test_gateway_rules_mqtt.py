"""The e-bike lift lockout end to end: a real gateway from a config file, the MQTT driver
with the shipped `ebike_detector` / `elevator_controller` profiles, the simulated safety
fleet (a lift camera and its elevator controller) on the device broker, and a separate
central broker: the door is held within a second of the first detection and released when
the bike leaves, also while the uplink is down, and the `ebike_lockout` events reach the
centre once it is back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gateway_support import Collector, config_dict, running, wait_until, write_config

from drivers.mqtt import MqttDriver
from gateway.app import Gateway
from gateway.config import load_config
from gateway.rules.ebike import EbikeLiftLockout, Phase
from scg.localsvc import Mosquitto
from simulators.safety import SafetyFleet, SafetySpec
from telemetry import Event

CAM, LIFT, RULE = "cam-e1", "lift-e1", "ebike-lockout-e1"


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Mosquitto]:
    """The central broker, apart from the device broker (the `broker` fixture)."""
    with Mosquitto(tmp_path / "central") as mq:
        yield mq


def lockout_gateway(tmp_path: Path, devices: Mosquitto, central: Mosquitto) -> Gateway:
    doc = config_dict(central, devices=0, driver="mqtt")
    device_side = devices.login("devices")
    doc["drivers"] = {"mqtt": {"host": devices.host, "port": devices.port,
                               "username": device_side.username,
                               "password": device_side.password,
                               "reconnect_min": 0.05, "reconnect_max": 0.5}}
    doc["devices"] = [
        {"id": CAM, "driver": "mqtt", "profile": "ebike_detector", "address": CAM,
         "period": "30s"},
        {"id": LIFT, "driver": "mqtt", "profile": "elevator_controller", "address": LIFT,
         "period": "30s"}]
    doc["rules"] = [{
        "name": RULE, "kind": "ebike_lift_lockout", "detector": CAM, "controller": LIFT,
        "confirm": {"hits": 2, "within": "3s", "min_confidence": 0.6},
        "release_when": "ebike_left", "max_hold": "10m", "command_timeout": "2s"}]
    return Gateway(load_config(write_config(tmp_path, doc)))


def lockout_rule(gateway: Gateway) -> EbikeLiftLockout:
    rule = gateway.rules.rules[RULE]
    assert isinstance(rule, EbikeLiftLockout)
    return rule


def events(collector: Collector, kind: str = "ebike_lockout") -> list[Event]:
    return [i for i in collector.items() if isinstance(i, Event) and i.type == kind]


@contextlib.asynccontextmanager
async def scene(tmp_path: Path, devices: Mosquitto, central: Mosquitto
                ) -> AsyncIterator[tuple[Gateway, SafetyFleet, Collector]]:
    """The gateway subscribed on the device broker and connected to the centre, the fleet
    playing the lift's camera and controller, and a collector on the central broker."""
    gateway = lockout_gateway(tmp_path, devices, central)
    fleet = SafetyFleet([SafetySpec(CAM, "ebike_detector"),
                         SafetySpec(LIFT, "elevator_controller")],
                        host=devices.host, port=devices.port, period=5.0,
                        username="devices", password=devices.login("devices").password,
                        reconnect_min=0.05, reconnect_max=0.2, ack_timeout=2.0)
    async with Collector(central) as collector, running(gateway):
        driver = gateway.drivers["mqtt"]
        assert isinstance(driver, MqttDriver)
        await wait_until(driver.ready.is_set, what="the mqtt driver to subscribe")
        await wait_until(lambda: gateway.uplink.connected, what="the uplink")
        async with fleet:
            await wait_until(lambda: fleet.connected, what="the fleet to connect")
            yield gateway, fleet, collector


async def bike_in_and_out(gateway: Gateway, fleet: SafetyFleet) -> tuple[float, int]:
    """A false hit, then a bike wheeled in (re-detected every 0.2 s) and out again.
    Returns the seconds from its first detection to the door held at the controller, and
    the detection-to-block latency the rule measured."""
    rule = lockout_rule(gateway)
    fleet.false_hit(CAM)  # confidence 0.35: ignored
    started = datetime.now(UTC)
    fleet.ebike_enters(CAM, confidence=0.9, hits=3, interval=0.2)
    await wait_until(lambda: any(h.door_hold for h in fleet.holds(LIFT)), within=2,
                     what="the door held at the controller")
    held_after = (fleet.holds(LIFT)[0].at - started).total_seconds()
    await wait_until(lambda: len(rule.latencies_ms) == 1, what="the rule to see the hold")
    fleet.ebike_leaves(CAM)
    await wait_until(lambda: rule.phase is Phase.IDLE, what="the release seen by the rule")
    assert [(h.door_hold, h.changed) for h in fleet.holds(LIFT)] == [(True, True),
                                                                     (False, True)]
    assert rule.weak_hits == 1
    return held_after, rule.latencies_ms[0]


async def test_an_ebike_holds_the_lift_door_within_a_second_and_releases_it_when_it_leaves(
        tmp_path: Path, broker: Mosquitto, central: Mosquitto) -> None:
    async with scene(tmp_path, broker, central) as (gateway, fleet, collector):
        held_after, latency_ms = await bike_in_and_out(gateway, fleet)
        await wait_until(lambda: len(events(collector)) == 2, what="both lockout events")
    assert held_after < 1.0
    assert 200 <= latency_ms < 1000  # the second hit came 0.2 s after the first
    hold, release = events(collector)
    assert (hold.device, hold.active, hold.severity.value) == (LIFT, True, "alarm")
    assert hold.data == {"rule": RULE, "detector": CAM, "controller": LIFT,
                         "latency_ms": latency_ms}
    assert (release.device, release.active) == (LIFT, False)
    assert release.data["reason"] == "ebike_left"
    assert 0 <= release.data["held_s"] < 5  # 0.0 when the release came within 0.5 ms
    assert events(collector, "ebike_lockout_failed") == []
    print(f"\nuplink up: door held {held_after * 1000:.0f} ms after the first detection; "
          f"the rule measured {latency_ms} ms to the controller's status")


async def test_the_lockout_works_with_the_uplink_down_and_its_events_arrive_when_it_is_back(
        tmp_path: Path, broker: Mosquitto, central: Mosquitto) -> None:
    async with scene(tmp_path, broker, central) as (gateway, fleet, collector):
        central.stop()
        await wait_until(lambda: not gateway.uplink.connected, what="the uplink to drop")
        held_after, latency_ms = await bike_in_and_out(gateway, fleet)
        assert held_after < 1.0
        assert 200 <= latency_ms < 1000
        assert events(collector) == []  # nothing went north
        assert not gateway.uplink.connected
        central.start()
        await wait_until(lambda: len(events(collector)) == 2, within=10,
                         what="the lockout events after the uplink is back")
    hold, release = events(collector)
    assert (hold.active, hold.data["latency_ms"]) == (True, latency_ms)
    assert (release.active, release.data["reason"]) == (False, "ebike_left")
    # Times go to the wire in milliseconds: a release seen within a millisecond of the
    # hold (loopback MQTT is that fast) carries the same time; the order is the spool's.
    assert release.time >= hold.time
    print(f"\nuplink down: door held {held_after * 1000:.0f} ms after the first detection; "
          f"the rule measured {latency_ms} ms")
