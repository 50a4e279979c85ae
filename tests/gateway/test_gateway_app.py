"""The whole gateway with a fake driver against a real broker: readings, device states
and self-readings go north; a crashing driver is restarted alone; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gateway_support import (
    Collector,
    FakeDriver,
    config_dict,
    running,
    wait_until,
    write_config,
)

from gateway.app import Gateway
from gateway.config import ConfigError, load_config
from scg.localsvc import Mosquitto
from telemetry import DeviceState, Reading, StateChange


def states(collector: Collector) -> dict[str, StateChange]:
    """The latest state change per device."""
    return {i.device: i for i in collector.items() if isinstance(i, StateChange)}


def readings(collector: Collector, device: str) -> list[Reading]:
    return [i for i in collector.items() if isinstance(i, Reading) and i.device == device]


async def test_readings_device_states_and_self_readings_reach_the_central_broker(
        broker: Mosquitto, tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(broker, devices=2,
                      drivers={"fake": {"interval": 0.05, "silent": ["dev-2"]}})
    gateway = Gateway(load_config(write_config(tmp_path, doc)), self_report_every=0.1)
    async with Collector(broker) as collector, running(gateway):
        await wait_until(lambda: set(states(collector)) == {"dev-1", "dev-2"},
                         what="a state for each device")
        await wait_until(lambda: len(readings(collector, "dev-1")) >= 3, what="readings")
        await wait_until(lambda: any(r.metric == "uplink_connected" and r.value == 1.0
                                     for r in readings(collector, "gw1")),
                         what="self-readings while connected")
    latest = states(collector)
    assert latest["dev-1"].state is DeviceState.ONLINE
    assert latest["dev-2"].state is DeviceState.OFFLINE
    assert re.fullmatch(r"no answer in the 0\.2\d* s since the gateway started "
                        r"\(expected every 0\.1 s\)", latest["dev-2"].reason), latest["dev-2"]
    assert [r.value for r in readings(collector, "dev-1")][:3] == [1.0, 2.0, 3.0]
    assert readings(collector, "dev-2") == []
    assert {r.metric for r in readings(collector, "gw1")} == {
        "spool_items", "spool_bytes", "spool_dropped_total", "spool_dropped_readings_total",
        "spool_dropped_events_total", "spool_dropped_states_total",
        "spool_dropped_probes_total", "spool_writable", "uplink_connected"}
    assert gateway.health.state("dev-2").state is DeviceState.OFFLINE
    assert collector.statuses()[-1] == "offline"  # said on the way out


async def test_a_crashing_driver_is_restarted_and_the_others_keep_going(
        broker: Mosquitto, tmp_path: Path, fake_driver: type[FakeDriver],
        caplog: pytest.LogCaptureFixture) -> None:
    doc = config_dict(broker, devices=2,
                      drivers={"fake": {"interval": 0.05},
                               "fake2": {"interval": 0.05, "crash_runs": 2, "key": "fake2"}})
    doc["devices"][1]["driver"] = "fake2"
    gateway = Gateway(load_config(write_config(tmp_path, doc)), driver_restart=(0.05, 0.1))
    async with Collector(broker) as collector, running(gateway):
        await wait_until(lambda: len(readings(collector, "dev-2")) >= 2,
                         what="readings from the restarted driver")
        assert len(readings(collector, "dev-1")) >= 2
    assert gateway.restarts == {"fake": 0, "fake2": 2}
    crashes = [r for r in caplog.records if r.name == "gateway.app" and r.levelno == logging.ERROR]
    assert len(crashes) == 2
    assert crashes[0].getMessage().startswith(
        "driver fake2 crashed: RuntimeError: fake driver fake2 crashed on purpose; "
        "restarting it in ")
    assert crashes[0].exc_info is not None  # the traceback is in the log
    assert FakeDriver.runs == {"fake": 1, "fake2": 3}


async def test_sigterm_stops_the_gateway_cleanly(
        broker: Mosquitto, tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    gateway = Gateway(load_config(write_config(tmp_path, config_dict(broker))))
    async with Collector(broker, "scg/v1/demo/gw1/status") as collector:
        task = asyncio.create_task(gateway.run(handle_signals=True))
        await wait_until(lambda: collector.statuses() == ["online"], what="the birth")
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(task, 5)
        assert task.done() and not task.cancelled()  # a normal return, not a cancel
        await wait_until(lambda: collector.statuses() == ["online", "offline"],
                         what="the offline status")
    with pytest.raises(sqlite3.ProgrammingError):
        gateway.spool.next_batch(1)  # closed


async def test_a_jump_of_the_system_clock_does_not_look_like_silent_devices(
        broker: Mosquitto, tmp_path: Path, fake_driver: type[FakeDriver],
        caplog: pytest.LogCaptureFixture) -> None:
    offset = timedelta(0)

    def clock() -> datetime:
        return datetime.now(UTC) + offset

    # The device reports every 10 s, so the next health tick (within 1 s) comes before it
    # is heard again: that tick must not see an hour of silence.
    doc = config_dict(broker, devices=1, drivers={"fake": {"interval": 10}})
    doc["devices"][0]["period"] = "10s"
    gateway = Gateway(load_config(write_config(tmp_path, doc)), clock=clock)

    def jumps() -> list[str]:
        return [r.getMessage() for r in caplog.records if "clock jumped" in r.getMessage()]

    async with running(gateway):
        await wait_until(lambda: gateway.health.state("dev-1").state is DeviceState.ONLINE)
        offset = timedelta(hours=1)  # NTP sets the clock an hour forward
        await wait_until(lambda: len(jumps()) == 1, what="the next health tick")
        assert gateway.health.state("dev-1").state is DeviceState.ONLINE
    assert jumps()[0].startswith("the system clock jumped by +3600.0 s")
    assert not [r for r in caplog.records if r.name == "gateway.health"
                and r.levelno >= logging.WARNING]


def test_a_driver_refusing_its_settings_stops_the_gateway_before_it_starts(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    config = load_config(write_config(tmp_path, config_dict(drivers={"fake": {"bad": 1}})))
    with pytest.raises(ConfigError, match=r"drivers\.fake: unknown setting\(s\) bad"):
        Gateway(config)
    assert not config.spool.path.exists()  # nothing was created


def test_a_spool_that_cannot_be_opened_is_a_config_error(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    (tmp_path / "blocker").write_text("a file where the spool folder should be")
    doc = config_dict(spool={"path": "blocker/spool.sqlite"})
    with pytest.raises(ConfigError, match=r"spool\.path: cannot open the spool .*blocker"):
        Gateway(load_config(write_config(tmp_path, doc)))
