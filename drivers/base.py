"""What every protocol driver gives the gateway, and what the gateway gives it back.

A driver owns the conversation with its devices (poll or subscribe) and reports two
things through a `Sink`: telemetry items, and one `Observation` per attempt to hear a
device. The gateway turns observations into debounced device states; a driver never
decides `online` / `offline` itself. That keeps the health rules in one place for
every protocol, and lets a push protocol (MQTT) and a polled one (Modbus) share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from telemetry import Item


class Outcome(StrEnum):
    """Result of one attempt to hear a device."""

    OK = "ok"
    DEGRADED = "degraded"  # the device answered, but wrongly (garbage, auth refused, bad picture)
    FAILED = "failed"      # no answer at all (timeout, refused, silent past its period)


@dataclass(frozen=True, slots=True)
class Observation:
    device: str
    outcome: Outcome
    reason: str = ""


class Sink(Protocol):
    """Where a driver sends what it learns. Both calls are cheap and never block."""

    def emit(self, item: Item) -> None: ...

    def observe(self, observation: Observation) -> None: ...


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One device as the gateway config lists it.

    `address` is protocol-specific (an MQTT topic id, a Modbus `host:port/unit`, a camera
    URL); `period` is how often the device is polled or is expected to report;
    `options` holds anything else the driver's profile needs.
    """

    id: str
    driver: str
    profile: str
    address: str
    period: timedelta
    options: dict[str, Any] = field(default_factory=dict)


class Driver(Protocol):
    """A running protocol driver. `run` returns only when cancelled."""

    name: str

    async def run(self, sink: Sink) -> None: ...

    def devices(self) -> list[DeviceSpec]: ...


@runtime_checkable
class ReportsOnItself(Protocol):
    """A driver with figures about itself (a polled link's cycle time and overruns), which
    the gateway sends as readings of its own device along with its spool counters."""

    def self_readings(self) -> dict[str, float]: ...


class DriverConfigError(ValueError):
    """A driver's configuration or device profile is unusable; the message says how to fix it."""
