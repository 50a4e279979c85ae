"""Runs the ONVIF driver against a real simulated camera farm on loopback, for tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from typing import Any

from driver_support import RecordingSink

from drivers.base import DeviceSpec, Observation
from drivers.onvif import OnvifDriver, create
from simulators.onvif import CameraFarm, CameraSpec
from telemetry import Event, Probe, Reading


class CameraSink(RecordingSink):
    def probes(self, device: str) -> list[Probe]:
        return [i for i in self.items if isinstance(i, Probe) and i.device == device]

    def checks(self, device: str) -> list[str]:
        return [p.data["check"] for p in self.probes(device)]

    def seen(self, device: str) -> list[Observation]:
        return [o for o in self.observations if o.device == device]

    def metric(self, device: str, metric: str) -> list[float]:
        return [i.value for i in self.items
                if isinstance(i, Reading) and i.device == device and i.metric == metric]

    def events_of(self, device: str, type_: str) -> list[Event]:
        return [e for e in self.events() if e.device == device and e.type == type_]


async def eventually(cond: Callable[[], bool], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.01)


def devices_for(farm: CameraFarm, period: float, password: str = "admin123",
                ids: Sequence[str] | None = None) -> list[DeviceSpec]:
    return [DeviceSpec(cid, "onvif", "onvif_profile_s", farm.device_url(cid),
                       timedelta(seconds=period), {"username": "admin", "password": password})
            for cid in (ids if ids is not None else list(farm.cameras))]


@contextlib.asynccontextmanager
async def driving(specs: Sequence[CameraSpec], settings: dict[str, Any] | None = None,
                  period: float = 0.2) -> AsyncIterator[tuple[CameraFarm, OnvifDriver,
                                                              CameraSink]]:
    """A farm of `specs`, and the driver probing all of them every `period` seconds."""
    async with CameraFarm(list(specs)) as farm:
        driver = create({"timeout": "1s", "pull_timeout": "0.5s", "subscription_time": "30s",
                         **(settings or {})}, devices_for(farm, period))
        sink = CameraSink()
        task = asyncio.create_task(driver.run(sink))
        try:
            yield farm, driver, sink
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
