"""A polled link's cycle against its period: measured per round of polls, an overrun
counted and logged once as a WARNING naming the link, the cycle and the period, and the
figures offered as the gateway's own readings. With the DL/T 645 and Modbus drivers on
real sockets to simulated devices."""

from __future__ import annotations

import logging

import pytest
from modbus_support import TimedSink as ModbusSink
from modbus_support import eventually, make_driver, running, spec
from strict_modbus import METERS, strict_server
from test_dlt645_with_sim import TimedSink, driver_for, tcp, until
from test_dlt645_with_sim import running as running_dlt645

from drivers.link_budget import budgets
from simulators.dlt645 import MeterBus, TcpGateway, make_meters

log = logging.getLogger("test.link_budget")


def test_a_round_that_needs_more_link_time_than_its_period_is_an_overrun(
        caplog: pytest.LogCaptureFixture) -> None:
    budget = budgets("dlt645", {"bus1": "rtu /dev/ttyUSB0 2400 8E1"},
                     [(f"m{n}", "bus1", 60.0) for n in range(3)], log)["bus1"]
    assert budget.readings() == {"dlt645_link_bus1_cycle_overruns_total": 0.0}
    with caplog.at_level(logging.INFO, logger=log.name):
        for _round in range(3):
            for n, cost in enumerate((25.0, 30.0, 10.0)):
                budget.record(f"m{n}", cost, 60.0)
    assert budget.last_cycle_s == pytest.approx(65.0)
    assert budget.overruns == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "dlt645 link bus1 (rtu /dev/ttyUSB0 2400 8E1): a poll cycle of its 3 devices takes "
        "65.0 s of link time, longer than their period of 60 s, so polls fall behind and "
        "devices look silent; lengthen the period, put fewer devices on this link, or "
        "shorten its timeout (each silent device costs one timeout; the slowest, m1, took "
        "30.00 s)"]
    assert budget.readings() == {"dlt645_link_bus1_cycle_s": 65.0,
                                 "dlt645_link_bus1_cycle_overruns_total": 3.0}
    # A silent device polled only every 4 periods counts for a quarter of its cost.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=log.name):
        for n, (cost, interval) in enumerate(((25.0, 60.0), (30.0, 240.0), (10.0, 60.0))):
            budget.record(f"m{n}", cost, interval)
    assert budget.last_cycle_s == pytest.approx(42.5)
    assert budget.overruns == 3
    assert [r.getMessage() for r in caplog.records] == [
        "dlt645 link bus1: a poll cycle fits its period again (42.5 s of 60 s) (after 3 "
        "failures over 0 s)"]


async def test_dlt645_meters_too_many_for_their_link_are_named_with_the_cycle_time(
        caplog: pytest.LogCaptureFixture) -> None:
    meters = MeterBus(make_meters(6))
    gateway = TcpGateway(meters)
    await gateway.start()
    await meters.start()
    try:
        for address in meters.meters:
            meters.set_fault(address, "slow", 0.03)  # 4 reads x 0.03 s per poll, 6 meters
        driver = driver_for(tcp(gateway.port), sorted(meters.meters), period=0.3)
        sink = TimedSink()
        with caplog.at_level(logging.WARNING, logger="drivers.dlt645"):
            async with running_dlt645(driver, sink):
                await until(lambda: driver.budgets["tgw"].overruns >= 2, "two overruns")
    finally:
        await meters.stop()
        await gateway.stop()
    budget = driver.budgets["tgw"]
    assert budget.last_cycle_s is not None and budget.last_cycle_s > 0.6
    overruns = [r.getMessage() for r in caplog.records if "poll cycle" in r.getMessage()]
    assert len(overruns) == 1
    assert overruns[0].startswith(f"dlt645 link tgw (tcp://127.0.0.1:{gateway.port}): a poll "
                                  "cycle of its 6 devices takes ")
    assert "longer than their period of 0.3 s" in overruns[0]
    readings = driver.self_readings()
    assert readings["dlt645_link_tgw_cycle_overruns_total"] >= 2
    assert readings["dlt645_link_tgw_cycle_s"] > 0.6


async def test_a_modbus_link_within_its_period_reports_its_cycle_without_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    names = sorted(METERS)
    async with strict_server({u: METERS[n]() for u, n in enumerate(names, 1)}) as port:
        driver = make_driver({"gw": {"type": "tcp", "host": "127.0.0.1", "port": port,
                                     "timeout": 0.5}},
                             [spec(n, n, f"gw/{u}", period=1.0)
                              for u, n in enumerate(names, 1)])
        sink = ModbusSink()
        with caplog.at_level(logging.WARNING, logger="drivers.modbus"):
            async with running(driver, sink):
                await eventually(lambda: driver.budgets["gw"].last_cycle_s is not None,
                                 "a round of polls", within=10)
    readings = driver.self_readings()
    assert 0 < readings["modbus_link_gw_cycle_s"] < 1.0
    assert readings["modbus_link_gw_cycle_overruns_total"] == 0
    assert "poll cycle" not in caplog.text
