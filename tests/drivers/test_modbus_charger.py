"""An e-bike charging station over Modbus TCP: sessions ending by auto power-off, timer,
over-power, unplugging, fault and remote stop become `charge_stopped` events with the
right reasons and energy; alarms, port faults and the self-test become events; writes
(stop a port, set a timer) reach the station."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from modbus_support import TimedSink, eventually, make_driver, running, spec, tcp_link

from drivers.modbus import CommandError, ModbusDriver
from simulators.modbus import ChargingStation, TcpEndpoint
from telemetry import Severity

Station = tuple[ChargingStation, ModbusDriver, TimedSink]


@pytest.fixture
async def station() -> AsyncIterator[Station]:
    # One simulated hour per real second: a 0.1 kWh top-up at 200 W (30 min) takes 0.5 s.
    charger = ChargingStation(speed=3600)
    async with TcpEndpoint({1: charger}) as endpoint:
        assert isinstance(endpoint, TcpEndpoint)
        driver = make_driver({"gw2": tcp_link(endpoint)},
                             [spec("charger", "ebike_charger_10p", "gw2/1", 0.1)])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.ok_times("charger"), "the first poll")
            yield charger, driver, sink


def stops(sink: TimedSink) -> dict[int, dict[str, object]]:
    return {e.data["port"]: e.data for e in sink.events_of("charger", "charge_stopped")}


async def test_every_way_a_session_ends_is_reported_with_its_reason(station: Station) -> None:
    charger, driver, sink = station
    charger.start_session(1, need_kwh=0.1, power_w=200.0)               # full after 30 min
    charger.start_session(2, need_kwh=1.0, power_w=200.0, timer_min=10)  # timer after 10 min
    for port in (3, 4, 5, 6):
        charger.start_session(port, need_kwh=5.0, power_w=150.0)
    charger.end_session(3, "over_power", energy_kwh=0.25)
    charger.unplug(4)
    charger.set_port_fault(5)
    await eventually(lambda: sink.latest("charger").get("port6_state") == 1.0,
                     "port 6 seen charging")
    await driver.write("charger", "port6_stop", 1)
    await eventually(lambda: len(stops(sink)) == 6, "six charge_stopped events", within=5)

    ended = stops(sink)
    assert {port: data["reason"] for port, data in ended.items()} == {
        1: "full", 2: "timer", 3: "over_power", 4: "unplugged", 5: "fault", 6: "remote"}
    assert ended[1]["energy_kwh"] == 0.1          # auto power-off exactly at the need
    assert ended[2]["energy_kwh"] == 0.033        # 200 W for 10 min, 0.001 kWh resolution
    assert ended[3]["energy_kwh"] == 0.25
    events = sink.events_of("charger", "charge_stopped")
    assert all(e.severity is Severity.INFO and e.active is None for e in events)
    assert len(events) == 6, "one event per session, not one per poll"
    fault = sink.events_of("charger", "port_fault")
    assert [(e.active, e.data) for e in fault] == [(True, {"port": 5})]
    assert sink.latest("charger")["port5_state"] == 3.0


async def test_a_timer_written_by_the_gateway_ends_the_next_session(station: Station) -> None:
    charger, driver, sink = station
    await driver.write("charger", "port7_timer_min", 5)
    assert charger.port(7).timer_min == 5
    charger.start_session(7, need_kwh=1.0, power_w=240.0)
    await eventually(lambda: 7 in stops(sink), "the timed session ended")
    assert stops(sink)[7] == {"port": 7, "energy_kwh": 0.02, "reason": "timer"}


async def test_alarms_and_self_test_become_events(station: Station) -> None:
    charger, _, sink = station
    charger.set_alarm("smoke")
    charger.set_alarm("door_open")
    await eventually(lambda: len(sink.events_of("charger")) == 2, "two alarms raised")
    charger.set_alarm("smoke", False)
    charger.run_self_test(timed_charging=False)
    await eventually(lambda: sink.events_of("charger", "self_test")
                     and len(sink.events_of("charger", "smoke")) == 2, "self test and smoke")
    assert [(e.type, e.active, e.severity) for e in sink.events_of("charger")] == [
        ("smoke", True, Severity.ALARM), ("door_open", True, Severity.ALARM),
        ("smoke", False, Severity.ALARM), ("self_test", None, Severity.INFO)]
    assert sink.events_of("charger", "self_test")[0].data == {
        "auto_power_off": True, "timed_charging": False, "fault_alarm": True}


async def test_bad_commands_are_refused_with_the_reason(station: Station) -> None:
    charger, driver, _ = station
    with pytest.raises(CommandError, match="has no writable point 'port3_power'; writable: "
                                           "port1_timer_min, port1_stop"):
        await driver.write("charger", "port3_power", 0)
    with pytest.raises(CommandError, match=r"port1_timer_min=2000 is outside its range "
                                           r"0 \.\. 1440"):
        await driver.write("charger", "port1_timer_min", 2000)
    with pytest.raises(CommandError, match="'meter-9' is not served by the modbus driver"):
        await driver.write("meter-9", "port1_stop", 1)
    charger.fail_with(6)
    with pytest.raises(CommandError, match="write of port1_stop=1 to holding register 0x0107 "
                                           r"\(u16, port1_stop\) was refused with exception 6 "
                                           "SERVER DEVICE BUSY"):
        await driver.write("charger", "port1_stop", 1)
    charger.kill()
    with pytest.raises(CommandError, match=r"failed: no answer within 0\.3 s"):
        await driver.write("charger", "port1_stop", 1)
