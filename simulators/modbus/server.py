"""Where simulated units listen: a Modbus TCP endpoint (which can be power-cycled), RTU
frames over TCP (a serial-to-Ethernet gateway), and an RS-485 bus over a socat
pseudo-terminal pair. Several unit ids share one endpoint; a dead unit stays silent, as on
a real bus, instead of the server answering for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from simulators.modbus.device import SimDevice, Unanswered

log = logging.getLogger(__name__)

_SOCAT_START_TIMEOUT = 5.0


class UnitMap(ModbusServerContext):
    """The server's view of the bus: unit id -> simulated device.

    pymodbus 3.16 deprecates its datastores for a SimDevice model that cannot keep a unit
    silent (an unknown id gets an exception answer, not silence) or compute values at read
    time; the server still accepts a ModbusServerContext that declares itself an "old
    simulator" and answers async_getValues / async_setValues, which is all a bus needs.
    """

    def __init__(self, units: Mapping[int, SimDevice]) -> None:
        # Deliberately not calling the base __init__: it insists on its deprecated blocks.
        self.units = dict(units)
        self.old_simulator = True
        self.simdevices = []

    def _unit(self, device_id: int) -> SimDevice:
        unit = self.units.get(device_id)
        if unit is None:
            raise NoSuchIdException(f"no unit {device_id} on this bus")
        return unit

    async def async_getValues(self, device_id: int, func_code: int, address: int,
                              count: int = 1) -> list[int] | list[bool] | ExcCodes:
        try:
            return self._unit(device_id).read(func_code, address, count)
        except Unanswered:
            raise NoSuchIdException(f"unit {device_id} is dead") from None

    async def async_setValues(self, device_id: int, func_code: int, address: int,
                              values: Sequence[int] | Sequence[bool]) -> ExcCodes | None:
        try:
            return self._unit(device_id).write(func_code, address, values)
        except Unanswered:
            raise NoSuchIdException(f"unit {device_id} is dead") from None

    def device_ids(self) -> list[int]:
        return list(self.units)


class Endpoint:
    """Units behind one listener. `start()` / `stop()`; `async with` does both."""

    kind = "endpoint"

    def __init__(self, units: Mapping[int, SimDevice]) -> None:
        for unit in units:
            if not 1 <= unit <= 247:
                raise ValueError(f"unit id {unit} is out of range 1..247")
        self.units = dict(units)
        self._context = UnitMap(self.units)
        self.running = False

    def unit(self, unit_id: int) -> SimDevice:
        if unit_id not in self.units:
            raise ValueError(f"no unit {unit_id} here; units: {sorted(self.units)}")
        return self.units[unit_id]

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    async def __aenter__(self) -> Endpoint:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()


class TcpEndpoint(Endpoint):
    """Modbus TCP (MBAP framing) or, with `rtu=True`, RTU frames over TCP as a serial-to-
    Ethernet gateway sends them. Port 0 picks a free port, kept across power cycles."""

    def __init__(self, units: Mapping[int, SimDevice], *, host: str = "127.0.0.1",
                 port: int = 0, rtu: bool = False) -> None:
        super().__init__(units)
        self.host, self.port, self.rtu = host, port, rtu
        self.kind = "rtu_over_tcp" if rtu else "tcp"
        self._server: ModbusTcpServer | None = None

    async def start(self) -> None:
        if self.running:
            return
        server = ModbusTcpServer(self._context, address=(self.host, self.port),
                                 framer=FramerType.RTU if self.rtu else FramerType.SOCKET,
                                 ignore_missing_devices=True)
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {self.host}:{self.port} ({exc}); is the port "
                          "in use?") from None
        sockets = getattr(server.transport, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self._server, self.running = server, True

    async def stop(self) -> None:
        """Stop listening and drop every connection (a power cut, as clients see it)."""
        if self._server is not None:
            await _shutdown(self._server)
        self._server, self.running = None, False

    async def power_cycle(self, off_for: float) -> None:
        """Power off, stay off `off_for` seconds, power on again (same port)."""
        await self.stop()
        await asyncio.sleep(off_for)
        await self.start()

    def describe(self) -> str:
        return f"{self.kind} {self.host}:{self.port}"


class SerialBus(Endpoint):
    """An RS-485 bus: socat links two pseudo-terminals; the units answer on one end and the
    gateway opens the other, `client_port` (optionally a fixed symlink path)."""

    kind = "rtu"

    def __init__(self, units: Mapping[int, SimDevice], *, client_port: str | None = None,
                 baudrate: int = 9600, parity: str = "N", stopbits: int = 1) -> None:
        super().__init__(units)
        self.baudrate, self.parity, self.stopbits = baudrate, parity, stopbits
        self._dir: str | None = None
        self.client_port = client_port or ""
        self._device_port = ""
        self._socat: asyncio.subprocess.Process | None = None
        self._server: ModbusSerialServer | None = None

    async def start(self) -> None:
        if self.running:
            return
        socat = shutil.which("socat")
        if socat is None:
            raise OSError("socat is not installed; the simulated RS-485 bus needs it "
                          "(apt-get install socat)")
        self._dir = tempfile.mkdtemp(prefix="scg-rs485-")
        if not self.client_port:
            self.client_port = os.path.join(self._dir, "gateway")
        self._device_port = os.path.join(self._dir, "devices")
        _remove_stale_link(self.client_port)
        self._socat = await asyncio.create_subprocess_exec(
            socat, f"pty,raw,echo=0,link={self._device_port}",
            f"pty,raw,echo=0,link={self.client_port}",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True)  # Ctrl-C at a terminal is ours to handle, not socat's
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _SOCAT_START_TIMEOUT
        while not _all_exist(self._device_port, self.client_port):
            if self._socat.returncode is not None or loop.time() > deadline:
                await self.stop()
                raise OSError(f"socat did not create the pseudo-terminal pair "
                              f"{self._device_port} <-> {self.client_port}")
            await asyncio.sleep(0.01)
        server = ModbusSerialServer(self._context, port=self._device_port,
                                    baudrate=self.baudrate, parity=self.parity,
                                    stopbits=self.stopbits, ignore_missing_devices=True)
        await server.serve_forever(background=True)
        self._server, self.running = server, True

    async def stop(self) -> None:
        if self._server is not None:
            await _shutdown(self._server)
            self._server = None
        if self._socat is not None:
            if self._socat.returncode is None:
                self._socat.terminate()
                await self._socat.wait()
            self._socat = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self.running = False

    def describe(self) -> str:
        return f"rtu {self.client_port} {self.baudrate} 8{self.parity}{self.stopbits}"


def _remove_stale_link(path: str) -> None:
    """A symlink left by a socat that was killed would make the new one fail."""
    with contextlib.suppress(FileNotFoundError):
        if Path(path).is_symlink():
            os.unlink(path)


def _all_exist(*paths: str) -> bool:
    return all(os.path.exists(p) for p in paths)


def _shutdown(server: Any) -> Awaitable[None]:
    """pymodbus's shutdown() carries no annotations; this keeps the call typed."""
    result: Awaitable[None] = server.shutdown()
    return result
