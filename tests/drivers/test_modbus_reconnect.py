"""A Modbus TCP device that is power-cycled, or that falls silent without closing the
connection, and an RS-485 adapter unplugged and plugged back, are reconnected by the driver
on its own and readings resume."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from modbus_support import TimedSink, eventually, make_driver, running, spec, tcp_link

from drivers.base import Outcome
from simulators.modbus import EastronSdm120, SerialBus, TcpEndpoint

PERIOD = 0.2
TIMEOUT = 0.2
RECONNECT_MAX = 0.2


async def test_power_cycled_tcp_device_is_reconnected_and_readings_resume() -> None:
    meter = EastronSdm120(speed=0)
    meter.set_values(import_kwh=100.0)
    endpoint = TcpEndpoint({1: meter})
    await endpoint.start()
    try:
        driver = make_driver({"gw": tcp_link(endpoint, TIMEOUT)},
                             [spec("m1", "eastron_sdm120", "gw/1", PERIOD)])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.latest("m1").get("energy_import_kwh") == 100.0,
                             "the first reading")
            await endpoint.stop()  # power off: the listener and its connections go
            await eventually(lambda: sink.last("m1") is not None
                             and sink.last("m1").outcome is Outcome.FAILED,  # type: ignore[union-attr]
                             "the device reported failed while off")
            await asyncio.sleep(0.5)  # stays off across several periods and reconnect tries
            meter.set_values(import_kwh=101.5)
            await endpoint.start()
            on = asyncio.get_running_loop().time()
            await eventually(lambda: sink.latest("m1").get("energy_import_kwh") == 101.5,
                             "readings after the power cycle", within=3)
            back_after = sink.ok_times("m1")[-1] - on
        failed = [o for o in sink.observations if o.outcome is Outcome.FAILED]
        assert any(f"link gw (tcp 127.0.0.1:{endpoint.port}) is down" in o.reason
                   for o in failed), [o.reason for o in failed]
        assert driver.links["gw"].connects >= 2
        assert back_after <= RECONNECT_MAX + PERIOD + TIMEOUT + 0.1
    finally:
        await endpoint.stop()


async def test_a_silent_far_end_is_presumed_dead_and_the_connection_reopened(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="drivers.modbus")
    meter = EastronSdm120(speed=0)
    async with TcpEndpoint({1: meter}) as endpoint:
        assert isinstance(endpoint, TcpEndpoint)
        driver = make_driver({"gw": tcp_link(endpoint, 0.1)},
                             [spec("m1", "eastron_sdm120", "gw/1", 0.1)], retry_max=0.2)
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.ok_times("m1"), "a first poll")
            meter.kill()  # the TCP connection stays open, nothing answers
            await eventually(lambda: driver.links["gw"].connects >= 2,
                             "the link reopened after three unanswered requests", within=3)
            meter.revive()
            count = len(sink.ok_times("m1"))
            await eventually(lambda: len(sink.ok_times("m1")) > count, "polls resume",
                             within=2)
        assert meter.ignored >= 3
    device_logs = [r.getMessage() for r in caplog.records if "device m1" in r.getMessage()]
    assert len(device_logs) == 2, "once when it goes silent, once when it is back"
    assert "no answer within 0.1 s" in device_logs[0]
    assert device_logs[1] == "device m1 (unit 1 on link gw) answers correctly again"


async def test_an_rs485_adapter_unplugged_and_plugged_back_comes_back_by_itself(
        tmp_path: Path) -> None:
    port = str(tmp_path / "ttyRS485")
    meter = EastronSdm120(speed=0)
    bus = SerialBus({1: meter}, client_port=port)
    await bus.start()
    try:
        driver = make_driver({"bus": {"type": "rtu", "port": port, "timeout": 0.2}},
                             [spec("m1", "eastron_sdm120", "bus/1", PERIOD)])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.ok_times("m1"), "a first poll")
            await bus.stop()  # the pseudo-terminal disappears, as an unplugged USB adapter
            await eventually(lambda: "does not exist (adapter unplugged?)" in (
                getattr(sink.last("m1"), "reason", "")), "the device failed, naming the port")
            polls = len(sink.ok_times("m1"))
            await bus.start()
            await eventually(lambda: len(sink.ok_times("m1")) > polls, "polls resume",
                             within=3)
        assert driver.links["bus"].connects == 2
    finally:
        await bus.stop()
