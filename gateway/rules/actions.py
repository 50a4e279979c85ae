"""The action layer: rule commands reach a device through the driver that owns it.

A driver can be commanded when it has `send_command(device_id, payload)` (the MQTT driver
publishes the payload as JSON). A driver that commands devices its own way (a Modbus coil
write) gets an adapter in `ADAPTERS`, keyed by driver name, that turns the named settings
of a payload into its protocol; no rule changes for that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast

from drivers.base import DeviceSpec, Driver
from gateway.rules.base import RuleSpec

log = logging.getLogger(__name__)


class Commander(Protocol):
    """Something that can give a device named settings, e.g. `{"door_hold": True}`.
    Returns once the command is on its way (MQTT: the broker's PUBACK); raises if not."""

    async def send_command(self, device_id: str, payload: dict[str, Any]) -> None: ...


#: Driver name -> a function giving a Commander for a driver of that name that has no
#: `send_command` of its own.
ADAPTERS: dict[str, Callable[[Driver], Commander]] = {}


def commander_for(driver: Driver | None) -> Commander | None:
    """How to command the devices of `driver`, or None when it cannot command them."""
    if driver is None:
        return None
    if callable(getattr(driver, "send_command", None)):
        return cast(Commander, driver)
    adapter = ADAPTERS.get(driver.name)
    return adapter(driver) if adapter is not None else None


def command_problems(specs: Sequence[RuleSpec], devices: Sequence[DeviceSpec],
                     drivers: Mapping[str, Driver]) -> list[str]:
    """A sentence per device a rule commands whose driver cannot send commands."""
    driver_of = {d.id: d.driver for d in devices}
    problems = []
    for spec in specs:
        for key, device in spec.commands():
            name = driver_of.get(device, "")
            if commander_for(drivers.get(name)) is None:
                problems.append(
                    f"{spec.where(key)}: rule {spec.name!r} must send commands to device "
                    f"{device}, but its driver {name!r} cannot send commands (it has no "
                    "send_command); serve the device with a driver that can (e.g. mqtt) "
                    "or remove the rule")
    return problems


class DriverCommands:
    """Sends commands without blocking the caller, in order per device, each through the
    driver that owns the device at that moment (a crashed driver is recreated, so the
    owner is looked up per command). Failures are logged once per stretch per device;
    rules notice them because the device's readings do not follow."""

    def __init__(self, owner: Callable[[str], Commander | None]) -> None:
        self._owner = owner
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._failing: set[str] = set()
        #: commands handed to a driver successfully / refused or lost, per device id
        self.sent: dict[str, int] = {}
        self.failed: dict[str, int] = {}

    def command(self, device: str, payload: dict[str, Any]) -> None:
        previous = self._tails.get(device)
        task = asyncio.get_running_loop().create_task(
            self._send(device, dict(payload), previous), name=f"command {device}")
        self._tails[device] = task
        task.add_done_callback(lambda done: self._forget(device, done))

    def _forget(self, device: str, task: asyncio.Task[None]) -> None:
        if self._tails.get(device) is task:
            del self._tails[device]

    async def _send(self, device: str, payload: dict[str, Any],
                    previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            # A release must never overtake the hold it undoes.
            await asyncio.wait([previous])
        commander = self._owner(device)
        try:
            if commander is None:
                raise RuntimeError("no driver serves it right now")
            await commander.send_command(device, payload)
        except Exception as exc:
            self.failed[device] = self.failed.get(device, 0) + 1
            if device not in self._failing:
                self._failing.add(device)
                log.warning("rule command %s to device %s failed: %s (logged once until a "
                            "command to it succeeds)", payload, device, exc)
            return
        self.sent[device] = self.sent.get(device, 0) + 1
        if device in self._failing:
            self._failing.discard(device)
            log.info("rule commands to device %s go through again", device)

    async def idle(self) -> None:
        """Wait until every command given so far has been sent or has failed."""
        while self._tails:
            await asyncio.wait(list(self._tails.values()))

    def cancel(self) -> None:
        """Drop commands still on their way (the gateway is stopping)."""
        for task in list(self._tails.values()):
            task.cancel()
