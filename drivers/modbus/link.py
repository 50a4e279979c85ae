"""One Modbus link (a serial line, a Modbus TCP endpoint, or RTU frames over TCP): one
request at a time, answers classified for the poller, and a connection that comes back by
itself with a doubling delay after the far end is power-cycled or the cable is pulled.

Waiting requests of healthy devices go before those of devices that stopped answering, so
however many devices on a bus are dead, a live one waits for at most the one request
already on the wire: one timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from dataclasses import dataclass, replace
from typing import Final, Literal

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from drivers.modbus.settings import LinkSpec
from telemetry.backoff import Backoff

log = logging.getLogger(__name__)

#: Modbus exception codes and what they mean (Modbus Application Protocol V1.1b3, 7).
EXCEPTIONS: Final = {
    1: "ILLEGAL FUNCTION", 2: "ILLEGAL DATA ADDRESS", 3: "ILLEGAL DATA VALUE",
    4: "SERVER DEVICE FAILURE", 5: "ACKNOWLEDGE", 6: "SERVER DEVICE BUSY",
    8: "MEMORY PARITY ERROR", 10: "GATEWAY PATH UNAVAILABLE",
    11: "GATEWAY TARGET DEVICE FAILED TO RESPOND",
}
#: A TCP link whose far end answered none of this many requests in a row is presumed
#: half-open (the far end lost power without closing) and is reopened.
SILENT_REQUESTS_TO_REOPEN: Final = 3

Kind = Literal["ok", "exception", "garbage", "timeout", "down"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back for one request. `received` holds the raw bytes heard, if any."""

    kind: Kind
    registers: tuple[int, ...] = ()
    bits: tuple[bool, ...] = ()
    exception: int = 0
    received: bytes = b""
    detail: str = ""
    #: seconds the request held the link (not counting the wait for its turn)
    took: float = 0.0

    def exception_text(self) -> str:
        return f"exception {self.exception} {EXCEPTIONS.get(self.exception, '(unknown code)')}"


class LinkLock:
    """A lock whose `urgent` waiters (healthy devices) are served before the others."""

    def __init__(self) -> None:
        self._held = False
        self._queues: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(), deque())

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._queues)

    async def acquire(self, urgent: bool = True) -> None:
        if not self._held and not self.waiting:
            self._held = True
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queues[0 if urgent else 1]
        queue.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted just as we were cancelled: pass it on
            elif future in queue:
                queue.remove(future)
            raise

    def release(self) -> None:
        for queue in self._queues:
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)  # ownership passes directly to the waiter
                    return
        self._held = False


class _QuietPymodbus(logging.Filter):
    """pymodbus logs every unanswered request and failed connect at warning/error level;
    the driver reports those per device, once when it goes bad and once when it comes
    back. The repeats are dropped here unless pymodbus itself is being debugged."""

    NOISE: Final = ("No response received", "Failed to connect", "Not connected",
                    "request ask for", "received pdu without", "Cancel send", "Repeating....")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.CRITICAL or logging.getLogger(record.name).isEnabledFor(
                logging.DEBUG):
            return True
        message = record.getMessage()
        return not any(noise in message for noise in self.NOISE)


_pymodbus_log = logging.getLogger("pymodbus.logging")
if not any(isinstance(f, _QuietPymodbus) for f in _pymodbus_log.filters):
    _pymodbus_log.addFilter(_QuietPymodbus())


Client = AsyncModbusSerialClient | AsyncModbusTcpClient


class Link:
    """A link and its connection. `run()` keeps it connected; `request()` uses it."""

    def __init__(self, spec: LinkSpec, *, reconnect_min: float = 0.5,
                 reconnect_max: float = 30.0) -> None:
        self.spec = spec
        self.lock = LinkLock()
        self.reconnect_min, self.reconnect_max = reconnect_min, reconnect_max
        #: set while connected
        self.up = asyncio.Event()
        #: why the link is down, for the devices' observations
        self.down_reason = f"link {spec.name} ({spec.describe()}) is still connecting"
        #: requests sent, connections made, per link
        self.requests = 0
        self.connects = 0
        self._client: Client | None = None
        self._lost = asyncio.Event()
        self._lost_reason = ""
        self._rx = b""
        self._quiet_until = 0.0
        self._silent = 0

    @property
    def name(self) -> str:
        return self.spec.name

    # ------------------------------------------------------------ connection

    def _make_client(self) -> Client:
        s = self.spec
        client: Client
        if s.is_serial:
            client = AsyncModbusSerialClient(
                s.device, framer=FramerType.RTU, baudrate=s.baudrate, bytesize=s.bytesize,
                parity=s.parity, stopbits=s.stopbits, timeout=s.timeout, retries=0,
                reconnect_delay=0, trace_packet=self._trace, trace_connect=self._connected)
        else:
            client = AsyncModbusTcpClient(
                s.host, port=s.port,
                framer=FramerType.SOCKET if s.type == "tcp" else FramerType.RTU,
                timeout=s.timeout, retries=0, reconnect_delay=0, trace_packet=self._trace,
                trace_connect=self._connected)
        # pymodbus would close the connection after a few unanswered requests, which on a
        # bus with one dead unit would cut off the live ones; this class decides instead.
        client.set_max_no_responses(1 << 30)
        return client

    def _trace(self, sending: bool, data: bytes) -> bytes:
        # Called with each frame sent and with the receive buffer as it grows: what was
        # heard is kept to tell garbage (something came back) from silence.
        self._rx = b"" if sending else bytes(data)
        return data

    def _connected(self, up: bool) -> None:
        if not up:
            self._lose("the connection was closed by the far end or the port went away")

    def _lose(self, reason: str) -> None:
        if not self._lost.is_set():
            self._lost_reason = reason
            self._lost.set()

    async def run(self) -> None:
        """Keep the link connected until cancelled, reconnecting with a doubling delay."""
        backoff = Backoff(self.reconnect_min, self.reconnect_max, jitter=0.2)
        was_down_logged = False
        while True:
            client = self._make_client()
            self._lost.clear()
            try:
                connected = await client.connect() and client.connected
            except Exception as exc:  # a bad serial setting, an unresolvable host name
                connected, self._lost_reason = False, f"cannot connect: {exc}"
            else:
                self._lost_reason = "" if connected else self._why_not_connected()
            try:
                if connected:
                    self._client, self._silent = client, 0
                    self.connects += 1
                    self.up.set()
                    backoff.reset()
                    if was_down_logged:
                        log.info("modbus link %s (%s) is connected again", self.name,
                                 self.spec.describe())
                        was_down_logged = False
                    else:
                        log.debug("modbus link %s (%s) connected", self.name,
                                  self.spec.describe())
                    await self._lost.wait()
            finally:
                self.down_reason = (f"link {self.name} ({self.spec.describe()}) is down: "
                                    f"{self._lost_reason or 'closed'}")
                self._client = None
                self.up.clear()
                client.close()
            delay = backoff.next()
            self.down_reason = (f"link {self.name} ({self.spec.describe()}) is down: "
                                f"{self._lost_reason}; reconnecting in {delay:.2f} s")
            if not was_down_logged:
                log.warning("modbus %s (retrying with a delay doubling up to %g s; logged "
                            "once until it is back)", self.down_reason, self.reconnect_max)
                was_down_logged = True
            await asyncio.sleep(delay)

    def _why_not_connected(self) -> str:
        s = self.spec
        if s.is_serial:
            if not os.path.exists(s.device):
                return f"serial port {s.device} does not exist (adapter unplugged?)"
            if not os.access(s.device, os.R_OK | os.W_OK):
                return (f"no permission to open {s.device} (add the gateway's user to the "
                        "dialout group)")
            return f"cannot open serial port {s.device} (in use by another program?)"
        return (f"cannot connect to {s.host}:{s.port} (refused, or no answer within "
                f"{s.timeout:g} s)")

    # ------------------------------------------------------------ requests

    async def request(self, unit: int, function: int, address: int, count: int = 1,
                      values: list[int] | list[bool] | None = None, *,
                      urgent: bool = True) -> Answer:
        """Send one read (function 1-4) or write (5, 6, 16) and classify the answer."""
        await self.lock.acquire(urgent)
        began = asyncio.get_running_loop().time()
        try:
            answer = await self._request(unit, function, address, count, values)
            return replace(answer, took=asyncio.get_running_loop().time() - began)
        finally:
            self.lock.release()

    async def _request(self, unit: int, function: int, address: int, count: int,
                       values: list[int] | list[bool] | None) -> Answer:
        """`request` with the link's lock held."""
        client = self._client
        if client is None or not client.connected:
            return Answer("down", detail=self.down_reason)
        loop = asyncio.get_running_loop()
        quiet = self._quiet_until - loop.time()
        if quiet > 0:
            await asyncio.sleep(quiet)  # RS-485: the inter-frame silence
        self._rx = b""
        self.requests += 1
        try:
            pdu = await _send(client, unit, function, address, count, values)
            check_cancelled()
        except ModbusIOException:
            check_cancelled()
            return self._unanswered()
        except ConnectionException:
            self._lose("the connection was lost")
            return Answer("down", detail=f"link {self.name} ({self.spec.describe()}) "
                                         "lost its connection during the request")
        finally:
            self._quiet_until = loop.time() + self.spec.frame_gap
        self._silent = 0
        return _classify(pdu, function, count, self._rx)

    def _unanswered(self) -> Answer:
        heard = self._rx
        if heard:
            self._silent = 0
            return Answer("garbage", received=heard,
                          detail=f"received {len(heard)} bytes {heard.hex(' ')} that are not "
                                 "a valid answer to the request (bad checksum, wrong length "
                                 "or another unit's id)")
        if not self.spec.is_serial:
            self._silent += 1
            if self._silent >= SILENT_REQUESTS_TO_REOPEN:
                self._lose(f"no answer to {self._silent} requests in a row (the connection "
                           "is presumed dead: far end powered off?)")
        return Answer("timeout", detail=f"no answer within {self.spec.timeout:g} s")


def check_cancelled() -> None:
    """Raise CancelledError if this task was cancelled while the cancellation got lost.

    On Python 3.11, asyncio.wait_for (which pymodbus awaits each answer with) returns the
    answer instead of raising when the cancellation arrives in the same loop iteration as
    the answer; the task then runs on as if never cancelled, and a TaskGroup waiting for it
    hangs. The request is still marked in Task.cancelling(), so it is raised here.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def _send(client: Client, unit: int, function: int, address: int, count: int,
                values: list[int] | list[bool] | None) -> ModbusPDU:
    if function == 1:
        return await client.read_coils(address, count=count, device_id=unit)
    if function == 2:
        return await client.read_discrete_inputs(address, count=count, device_id=unit)
    if function == 3:
        return await client.read_holding_registers(address, count=count, device_id=unit)
    if function == 4:
        return await client.read_input_registers(address, count=count, device_id=unit)
    if function == 5 and values:
        return await client.write_coil(address, bool(values[0]), device_id=unit)
    if function == 6 and values:
        return await client.write_register(address, int(values[0]), device_id=unit)
    if function == 16 and values:
        return await client.write_registers(address, [int(v) for v in values],
                                            device_id=unit)
    raise ValueError(f"function {function} with values {values!r} is not supported")


def _classify(pdu: ModbusPDU, function: int, count: int, heard: bytes) -> Answer:
    if pdu.isError():
        return Answer("exception", exception=pdu.exception_code, received=heard)
    if pdu.function_code != function:
        return Answer("garbage", received=heard,
                      detail=f"answered function {pdu.function_code} to a function "
                             f"{function} request")
    if function in (3, 4):
        registers = tuple(pdu.registers)
        if len(registers) != count:
            return Answer("garbage", received=heard,
                          detail=f"expected {count} registers, received {len(registers)}")
        return Answer("ok", registers=registers, received=heard)
    if function in (1, 2):
        bits = tuple(bool(b) for b in pdu.bits)
        if len(bits) < count:
            return Answer("garbage", received=heard,
                          detail=f"expected {count} bits, received {len(bits)}")
        return Answer("ok", bits=bits[:count], received=heard)
    return Answer("ok", received=heard)
