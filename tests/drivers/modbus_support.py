"""Helpers for the Modbus driver tests: a sink that timestamps observations, a driver
running in the background, and waiting on a condition with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

from driver_support import RecordingSink

from drivers.base import DeviceSpec, Observation, Outcome
from drivers.modbus import ModbusDriver, create
from simulators.modbus import TcpEndpoint
from telemetry import Event, Reading


class TimedSink(RecordingSink):
    """Records items and observations, each observation with the loop time it arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.timed: list[tuple[float, Observation]] = []

    def observe(self, observation: Observation) -> None:
        super().observe(observation)
        self.timed.append((asyncio.get_running_loop().time(), observation))

    def ok_times(self, device: str) -> list[float]:
        return [t for t, o in self.timed if o.device == device and o.outcome is Outcome.OK]

    def last(self, device: str) -> Observation | None:
        for o in reversed(self.observations):
            if o.device == device:
                return o
        return None

    def latest(self, device: str) -> dict[str, float]:
        """The newest value of each metric of `device`."""
        out: dict[str, float] = {}
        for item in self.items:
            if isinstance(item, Reading) and item.device == device:
                out[item.metric] = item.value
        return out

    def events_of(self, device: str, type_: str | None = None) -> list[Event]:
        return [e for e in self.events()
                if e.device == device and (type_ is None or e.type == type_)]


async def eventually(cond: Callable[[], Any], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.01)


def spec(device: str, profile: str, address: str, period: float = 0.2) -> DeviceSpec:
    return DeviceSpec(device, "modbus", profile, address, timedelta(seconds=period))


def tcp_link(endpoint: TcpEndpoint, timeout: float = 0.3) -> dict[str, Any]:
    return {"type": endpoint.kind, "host": endpoint.host, "port": endpoint.port,
            "timeout": timeout}


def make_driver(links: dict[str, dict[str, Any]], devices: list[DeviceSpec],
                **settings: Any) -> ModbusDriver:
    return create({"links": links, "reconnect_min": 0.05, "reconnect_max": 0.2,
                   "retry_max": 1.0, **settings}, devices)


@contextlib.asynccontextmanager
async def running(driver: ModbusDriver, sink: TimedSink) -> AsyncIterator[None]:
    task = asyncio.create_task(driver.run(sink))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
