"""One DL/T 645 link (an RS-485 serial port or a TCP transparent gateway): opened on demand,
reopened after a loss with `telemetry.backoff.Backoff`, and one request/reply exchange at a
time under the link's lock.

An exchange sends a request and reads frames until one is the awaited reply. A good frame
meant for another exchange (a late reply from a meter that had timed out, another meter's
address) is skipped, since the awaited reply may still follow; garbage ends the exchange,
and the line is then drained until quiet so that its rest cannot spoil the next exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import serial

from drivers.dlt645.codec import (
    Frame,
    FrameError,
    WrongAddress,
    WrongDataIdentifier,
    decode_frame,
    frame_extent,
)
from drivers.dlt645.settings import LinkSpec, SerialLink, TcpLink
from telemetry.backoff import Backoff

log = logging.getLogger(__name__)
T = TypeVar("T")


class LinkDown(Exception):
    """The link itself is unusable (cannot connect, connection lost); no meter is to blame."""


class NoReply(Exception):
    """Nothing came back within the link's timeout."""


class Transport(Protocol):
    """Bytes in and out of one link; `read` returns b"" when `deadline` passes first."""

    async def open(self) -> None: ...

    async def write(self, data: bytes) -> None: ...

    async def read(self, deadline: float) -> bytes: ...

    async def discard_input(self) -> None: ...

    async def close(self) -> None: ...


class TcpTransport:
    """A transparent gateway: raw frames over one TCP connection. A pump task collects what
    arrives so that stale bytes can be dropped before each request."""

    def __init__(self, spec: TcpLink) -> None:
        self.spec = spec
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None
        self._rx = bytearray()
        self._arrived = asyncio.Event()
        self._lost: str | None = None

    async def open(self) -> None:
        try:
            reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.spec.host, self.spec.port), self.spec.timeout)
        except TimeoutError:
            raise LinkDown(f"no TCP connection to {self.spec.host}:{self.spec.port} within "
                           f"{self.spec.timeout:g} s") from None
        except OSError as exc:
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            raise LinkDown(f"cannot connect to {self.spec.host}:{self.spec.port}: {why}") \
                from None
        self._rx.clear()
        self._lost = None
        self._pump = asyncio.create_task(self._collect(reader), name=f"dlt645 {self.spec.name}")

    async def _collect(self, reader: asyncio.StreamReader) -> None:
        try:
            while chunk := await reader.read(4096):
                self._rx += chunk
                self._arrived.set()
            self._lost = "the gateway closed the connection"
        except OSError as exc:
            self._lost = f"connection lost: {exc.strerror or exc}"
        self._arrived.set()

    async def write(self, data: bytes) -> None:
        if self._writer is None or self._lost:
            raise LinkDown(self._lost or "not connected")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as exc:
            raise LinkDown(f"cannot send to {self.spec.host}:{self.spec.port}: "
                           f"{exc.strerror or exc}") from None

    async def read(self, deadline: float) -> bytes:
        loop = asyncio.get_running_loop()
        while not self._rx:
            if self._lost:
                raise LinkDown(self._lost)
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return b""
        data = bytes(self._rx)
        self._rx.clear()
        return data

    async def discard_input(self) -> None:
        self._rx.clear()

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = None


class SerialTransport:
    """An RS-485 port through pyserial. pyserial blocks, so every call runs in this link's
    own worker thread; reads return every 50 ms so that a deadline is kept closely."""

    _POLL = 0.05

    def __init__(self, spec: SerialLink) -> None:
        self.spec = spec
        self._port: serial.Serial | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"dlt645-{spec.name}")

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)
        except (serial.SerialException, OSError) as exc:
            raise LinkDown(f"serial port {self.spec.port}: {exc}") from None

    async def open(self) -> None:
        spec = self.spec
        self._port = await self._call(lambda: serial.Serial(
            spec.port, spec.baudrate, bytesize=spec.bytesize, parity=spec.parity,
            stopbits=spec.stopbits, timeout=self._POLL, write_timeout=spec.timeout))

    def _need(self) -> serial.Serial:
        if self._port is None:
            raise LinkDown(f"serial port {self.spec.port} is not open")
        return self._port

    async def write(self, data: bytes) -> None:
        port = self._need()

        def send() -> None:
            port.write(data)
            port.flush()  # the reply timeout starts once the request is on the wire
        await self._call(send)

    async def read(self, deadline: float) -> bytes:
        port = self._need()
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            chunk: bytes = await self._call(lambda: port.read(max(1, port.in_waiting)))
            if chunk:
                return chunk
        return b""

    async def discard_input(self) -> None:
        port = self._need()
        await self._call(port.reset_input_buffer)

    async def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(LinkDown):
                await self._call(port.close)
        self._thread.shutdown(wait=False)


def make_transport(spec: LinkSpec) -> Transport:
    return TcpTransport(spec) if isinstance(spec, TcpLink) else SerialTransport(spec)


class Link:
    """A link with its lock, its connection state and its reconnect backoff."""

    def __init__(self, spec: LinkSpec, backoff: Backoff,
                 transport: Callable[[LinkSpec], Transport] = make_transport) -> None:
        self.spec = spec
        self.lock = asyncio.Lock()
        self._backoff = backoff
        self._make_transport = transport
        self._transport: Transport | None = None
        self._retry_at = 0.0
        self._down: str | None = None  # why the link is down, while it is
        #: connections made so far (a reconnect makes it 2, 3, ...)
        self.connects = 0
        # Quiet time that ends a burst of garbage: 30 character times on a serial line.
        self._quiet = max(0.05, 30 * 11 / spec.baudrate) if isinstance(spec, SerialLink) \
            else 0.05

    @property
    def name(self) -> str:
        return self.spec.name

    async def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()

    async def _ensure_open(self) -> Transport:
        if self._transport is not None:
            return self._transport
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at:
            raise LinkDown(f"{self._down}; next attempt in {self._retry_at - loop.time():.2g} s")
        transport = self._make_transport(self.spec)
        try:
            await transport.open()
        except LinkDown as exc:
            await transport.close()
            self._lost(str(exc))
            raise LinkDown(f"{exc}; next attempt in {self._retry_at - loop.time():.2g} s") \
                from None
        if self._down is not None:
            log.info("dlt645 link %s (%s) is up again", self.name, self.spec.describe())
        self._down = None
        self._backoff.reset()
        self.connects += 1
        self._transport = transport
        return transport

    def _lost(self, reason: str) -> None:
        if self._down is None:
            log.warning("dlt645 link %s (%s) is down: %s (logged once until it is back)",
                        self.name, self.spec.describe(), reason)
        self._down = reason
        self._retry_at = asyncio.get_running_loop().time() + self._backoff.next()

    async def exchange(self, request: bytes, accept: Callable[[Frame], T]) -> T:
        """Send `request`, return `accept(frame)` of the first frame it accepts.

        Call with `lock` held. Raises LinkDown, NoReply, or the FrameError that says what
        was wrong with what came back."""
        transport = await self._ensure_open()
        loop = asyncio.get_running_loop()
        try:
            await transport.discard_input()
            await transport.write(request)
            deadline = loop.time() + self.spec.timeout
            return await self._await_reply(transport, deadline, accept)
        except LinkDown as exc:
            await self.close()
            self._lost(str(exc))
            raise

    async def _await_reply(self, transport: Transport, deadline: float,
                           accept: Callable[[Frame], T]) -> T:
        buf = bytearray()
        skipped: FrameError | None = None
        while True:
            try:
                size = frame_extent(buf)
                frame = decode_frame(buf[:size]) if size and len(buf) >= size else None
            except FrameError:
                await self._drain(transport, deadline)
                raise
            if frame is not None and size is not None:
                del buf[:size]
                if not frame.is_reply:
                    continue  # our own request, echoed by a half-duplex adapter
                try:
                    return accept(frame)  # a well-formed frame: nothing left to drain
                except (WrongAddress, WrongDataIdentifier) as exc:
                    skipped = exc
                    continue
            chunk = await transport.read(deadline)
            if chunk:
                buf += chunk
                continue
            if any(b != 0xFE for b in buf):
                raise FrameError(f"truncated frame: {len(buf)} bytes "
                                 f"({bytes(buf[:16]).hex(' ').upper()}"
                                 f"{' …' if len(buf) > 16 else ''}) and then nothing for "
                                 f"{self.spec.timeout:g} s"
                                 + (f" (L announced {size} bytes)" if size else ""))
            if skipped is not None:
                raise skipped
            raise NoReply(f"no reply within {self.spec.timeout:g} s")

    async def _drain(self, transport: Transport, deadline: float) -> None:
        """Read and drop bytes until the line has been quiet for a while (or the exchange's
        time is up), so the rest of a garbled reply does not meet the next request."""
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            if not await transport.read(min(deadline, loop.time() + self._quiet)):
                return
