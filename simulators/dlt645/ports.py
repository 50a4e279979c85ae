"""Ways onto the simulated meter bus: a TCP transparent gateway (raw frames over TCP, as
the serial-to-Ethernet converters in meter rooms do), a serial device such as one end of a
pseudo-terminal pair, and `PtyPair`, which links two pseudo-terminals with socat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import serial

from simulators.dlt645.bus import MeterBus
from simulators.dlt645.wire import RequestReader

log = logging.getLogger(__name__)


class TcpGateway:
    """A transparent gateway in front of `bus`: every connected client shares the bus."""

    def __init__(self, bus: MeterBus, host: str = "127.0.0.1", port: int = 0) -> None:
        self.bus = bus
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()
        #: client connections accepted so far
        self.accepted = 0

    async def start(self) -> None:
        """Listen; with port 0 the system picks one, and a restart keeps it."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every client connection (as a power cycle would)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._clients):
            task.cancel()
        for task in list(self._clients):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        self.accepted += 1
        requests = RequestReader()
        try:
            while chunk := await reader.read(4096):
                for request in requests.feed(chunk):
                    reply = await self.bus.handle(request)
                    if reply:
                        writer.write(reply)
                        await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()


class SerialPort:
    """The bus on a serial device (e.g. one end of a `PtyPair`), through pyserial in a
    thread of its own."""

    def __init__(self, bus: MeterBus, device: str, *, baudrate: int = 2400,
                 parity: str = "E") -> None:
        self.bus = bus
        self.device = device
        self.baudrate = baudrate
        self.parity = parity
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlt645-sim")
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        port = await loop.run_in_executor(self._thread, lambda: serial.Serial(
            self.device, self.baudrate, parity=self.parity, timeout=0.05))
        self._task = asyncio.create_task(self._serve(port))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._thread.shutdown(wait=True)

    async def _serve(self, port: serial.Serial) -> None:
        loop = asyncio.get_running_loop()
        requests = RequestReader()
        try:
            while True:
                chunk: bytes = await loop.run_in_executor(
                    self._thread, lambda: port.read(max(1, port.in_waiting)))
                for request in requests.feed(chunk):
                    reply = await self.bus.handle(request)
                    if reply:
                        await loop.run_in_executor(self._thread, port.write, reply)
        finally:
            await loop.run_in_executor(self._thread, port.close)


class PtyPair:
    """Two pseudo-terminals wired back to back by socat, like an RS-485 adapter and the bus:
    meters serve `meter_side`, the driver opens `gateway_side`."""

    def __init__(self, gateway_side: str | Path | None = None) -> None:
        if shutil.which("socat") is None:
            raise RuntimeError("socat is not installed; it links the two pseudo-terminals "
                               "(apt-get install socat)")
        self._dir = Path(tempfile.mkdtemp(prefix="scg-dlt645-"))
        self.meter_side = str(self._dir / "meters")
        self.gateway_side = str(gateway_side or self._dir / "gateway")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 5.0) -> None:
        """Start socat and wait until both links exist."""
        side = Path(self.gateway_side)
        if side.is_symlink():
            side.unlink()  # left over from an earlier run: socat is about to make it anew
        elif side.exists():
            raise RuntimeError(f"{side} exists and is not a link to a pseudo-terminal; choose "
                               "a path that does not exist")
        self._proc = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.meter_side}",
             f"pty,raw,echo=0,link={self.gateway_side}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not (Path(self.meter_side).exists() and Path(self.gateway_side).exists()):
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"socat exited with {self._proc.returncode}: {err.strip()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"socat made no pseudo-terminals within {timeout:g} s")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None and self._proc.stderr:
            self._proc.stderr.close()
        self._proc = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PtyPair:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
