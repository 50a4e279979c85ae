"""The MQTT driver against the simulated light fleet over a real mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from driver_support import RecordingSink

from drivers.base import DeviceSpec, Outcome
from drivers.mqtt import MqttDriver, create
from scg.localsvc import Mosquitto
from simulators.lights import Fleet, make_lights
from telemetry import Event, Reading, parse_time

pytestmark = pytest.mark.integration
PREFIX = "scg-sim/it-lights"  # under the device account's prefix


class FakeSink(RecordingSink):
    def reports(self, device: str) -> list[Reading]:
        """One reading per status message: its power_w."""
        return [i for i in self.items
                if isinstance(i, Reading) and i.device == device and i.metric == "power_w"]

    def events_of(self, device: str, type_: str) -> list[Event]:
        return [i for i in self.items
                if isinstance(i, Event) and i.device == device and i.type == type_]


async def eventually(cond: Callable[[], bool], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def community(broker: Mosquitto, count: int = 5,
                    period: float = 0.2) -> AsyncIterator[tuple[Fleet, MqttDriver, FakeSink]]:
    """A driver subscribed to the device broker, then a fleet of `count` lights publishing."""
    specs = make_lights(count)
    devices = [DeviceSpec(s.id, "mqtt", "street_light", s.id, timedelta(seconds=period))
               for s in specs]
    login = broker.login("devices")
    driver = create({"host": broker.host, "port": broker.port, "prefix": PREFIX,
                     "username": login.username, "password": login.password,
                     "reconnect_min": 0.05, "reconnect_max": 0.2}, devices)
    sink = FakeSink()
    task = asyncio.create_task(driver.run(sink))
    fleet = Fleet(specs, host=broker.host, port=broker.port, prefix=PREFIX, period=period,
                  username=login.username, password=login.password,
                  reconnect_min=0.05, reconnect_max=0.2, ack_timeout=2.0)
    try:
        await asyncio.wait_for(driver.ready.wait(), 5)
        async with fleet:
            yield fleet, driver, sink
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def assert_each_report_arrived_once(fleet: Fleet, sink: FakeSink) -> None:
    for light in fleet.ids:
        times = [r.time for r in sink.reports(light)]
        assert sorted(times) == [parse_time(ts, "ts") for ts in fleet.sent_ts[light]], light


async def test_readings_of_every_light_arrive_exactly_once(broker: Mosquitto) -> None:
    async with community(broker) as (fleet, driver, sink):
        await eventually(lambda: all(len(sink.reports(i)) >= 3 for i in fleet.ids),
                         "3 reports from every light")
    await eventually(lambda: sum(len(sink.reports(i)) for i in fleet.ids) >= fleet.total_sent,
                     "every acknowledged report", within=2)
    assert_each_report_arrived_once(fleet, sink)
    assert all(o.outcome is Outcome.OK for o in sink.observations)
    assert sum(driver.malformed.values()) == 0 and driver.unknown == {}


async def test_a_silenced_light_stops_producing(broker: Mosquitto) -> None:
    async with community(broker) as (fleet, _, sink):
        await eventually(lambda: len(sink.reports("light-002")) >= 2, "light-002 reports")
        fleet.silence(["light-002"])
        quiet_from = len(sink.reports("light-002"))
        others = len(sink.reports("light-001"))
        await eventually(lambda: len(sink.reports("light-001")) >= others + 4,
                         "light-001 to go on reporting")
        assert len(sink.reports("light-002")) <= quiet_from + 1  # one may have been in flight
        fleet.resume(["light-002"])
        await eventually(lambda: len(sink.reports("light-002")) >= quiet_from + 3,
                         "light-002 back after resume")


async def test_run_time_fault_raises_one_event_and_one_clear(broker: Mosquitto) -> None:
    async with community(broker) as (fleet, _, sink):
        await eventually(lambda: len(sink.reports("light-003")) >= 1, "light-003 reports")
        fleet.set_fault("light-003", "lamp", True)
        await eventually(lambda: bool(sink.events_of("light-003", "lamp_fault")), "the raise")
        reports = len(sink.reports("light-003"))
        await eventually(lambda: len(sink.reports("light-003")) >= reports + 3,
                         "3 more reports with the fault still on")
        assert [e.active for e in sink.events_of("light-003", "lamp_fault")] == [True]
        fleet.set_fault("light-003", "lamp", False)
        await eventually(lambda: len(sink.events_of("light-003", "lamp_fault")) == 2, "the clear")
        raised, cleared = sink.events_of("light-003", "lamp_fault")
        assert (raised.active, cleared.active) == (True, False) and cleared.time > raised.time
        assert all(not sink.events_of(i, "lamp_fault") for i in fleet.ids if i != "light-003")


async def test_driver_recovers_after_a_broker_restart(broker: Mosquitto) -> None:
    async with community(broker) as (fleet, driver, sink):
        await eventually(lambda: all(len(sink.reports(i)) >= 1 for i in fleet.ids),
                         "first reports")
        await asyncio.to_thread(broker.restart)
        back = datetime.now(UTC)
        await eventually(
            lambda: all(sum(r.time > back for r in sink.reports(i)) >= 2 for i in fleet.ids),
            "reports of every light from after the restart")
        assert driver.ready.is_set()
    await eventually(lambda: sum(len(sink.reports(i)) for i in fleet.ids) >= fleet.total_sent,
                     "every acknowledged report", within=2)
    # The driver's persistent session and duplicate check keep it exactly once across restarts.
    assert_each_report_arrived_once(fleet, sink)


async def test_send_command_switches_a_light_off(broker: Mosquitto) -> None:
    async with community(broker, period=30.0) as (fleet, driver, sink):
        await asyncio.wait_for(fleet.wait_connected(), 5)
        await driver.send_command("light-004", {"on": False})
        await eventually(lambda: any(i.device == "light-004" and i.metric == "on"
                                     and i.value == 0.0
                                     for i in sink.items if isinstance(i, Reading)),
                         "an 'off' reading from light-004")
        assert sink.reports("light-004")[-1].value == 0.0
        assert fleet.light("light-004").on is False
