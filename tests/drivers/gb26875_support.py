"""A GB 26875 site for the driver tests: one transmission device with three panels (A, B
configured with zones and a detector, C not), the simulator that plays it, and a sink that
also runs the gateway's health rules on what the driver observes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from driver_support import RecordingSink

from drivers.base import DeviceSpec, Observation
from drivers.gb26875 import Gb26875Driver, create
from gateway.health import Health
from simulators.gb26875 import SimConfig, TransmissionDeviceSim, parse_config
from telemetry import Event

ADDRESS = 100000000001
PANELS = {"panel-a": 1, "panel-b": 2}   # configured; panel 3 (C) is not


def site_config(*, heartbeat: float = 0.2, confirm_timeout: float = 0.3, retries: int = 2,
                heartbeat_kind: str = "state") -> SimConfig:
    return parse_config({
        "address": ADDRESS, "heartbeat": heartbeat, "confirm_timeout": confirm_timeout,
        "retries": retries, "heartbeat_kind": heartbeat_kind,
        "panels": [{"address": 1, "loops": 2, "points": 4, "name": "A栋"},
                   {"address": 2, "loops": 2, "points": 4, "name": "B栋",
                    "detectors": [{"loop": 1, "point": 1, "type": 42,
                                   "description": "B栋3层电梯前室"}]},
                   {"address": 3, "loops": 1, "points": 2, "name": "C栋"}]})


def site_devices(period: float = 0.2) -> list[DeviceSpec]:
    every = timedelta(seconds=period)
    zones = {"zones": [{"zone": 1, "loop": 1}, {"zone": 2, "loop": 2}]}
    return [
        DeviceSpec("uitd-b", "gb26875", "transmission_device", str(ADDRESS), every),
        DeviceSpec("panel-a", "gb26875", "fire_alarm_controller", "uitd-b/1", every, zones),
        DeviceSpec("panel-b", "gb26875", "fire_alarm_controller", "uitd-b/2", every,
                   {**zones, "detectors": [{"id": "det-b-0101", "loop": 1, "point": 1}]}),
    ]


def site_driver(port: int = 0, period: float = 0.2, **settings: Any) -> Gb26875Driver:
    return create({"listen": {"host": "127.0.0.1", "port": port}, **settings},
                  site_devices(period))


class HealthSink(RecordingSink):
    """Records, and runs the gateway's debounced health rules on every observation."""

    def __init__(self, failures_to_offline: int = 2) -> None:
        super().__init__()
        self.health = Health(site_devices(), failures_to_offline, datetime.now(UTC))

    def observe(self, observation: Observation) -> None:
        super().observe(observation)
        self.health.observe(observation, datetime.now(UTC))

    def state(self, device: str) -> str:
        return self.health.state(device).state.value

    def found(self, device: str, type_: str, active: bool | None = True) -> list[Event]:
        return [e for e in self.events() if e.device == device and e.type == type_
                and e.active is active]


async def until(condition: Callable[[], object], what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(driver: Gb26875Driver, sink: RecordingSink) -> AsyncIterator[int]:
    """The driver listening; yields its port."""
    task = asyncio.create_task(driver.run(sink))
    try:
        await until(lambda: driver.ready.is_set() or task.done(), "the centre to listen")
        if task.done():
            task.result()
        assert driver.port is not None
        yield driver.port
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def playing(config: SimConfig, port: int, **options: Any
                  ) -> AsyncIterator[TransmissionDeviceSim]:
    device = TransmissionDeviceSim(config, "127.0.0.1", port, reconnect_min=0.05,
                                   reconnect_max=0.2, **options)
    await device.start()
    try:
        yield device
    finally:
        await device.stop()
