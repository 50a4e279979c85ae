"""A simulated user information transmission device on a real TCP connection to a centre:
it dials (and redials with backoff), sends a heartbeat when it has been quiet for a period,
sends its panels' reports one at a time and resends each until it is confirmed (after
`retries` resends it redials and goes on resending: a report is never dropped), answers
the centre's reads and clock commands, and plays a story or takes actions on a local
control port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from simulators.gb26875 import wire
from simulators.gb26875.actions import COMPONENT_ACTIONS, Action, Story, parse_control_line
from simulators.gb26875.config import SimConfig
from simulators.gb26875.model import DeviceModel

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    serial: int
    frame: bytes
    sent_at: float | None = None
    resends: int = 0


class TransmissionDeviceSim:
    def __init__(self, config: SimConfig, host: str, port: int, *, story: Story | None = None,
                 control_host: str = "127.0.0.1", control_port: int | None = None,
                 reconnect_min: float = 0.2, reconnect_max: float = 10.0) -> None:
        self.config = config
        self.host, self.port = host, port
        self.story = story or Story()
        self.model = DeviceModel(config)
        self.control_host, self.control_port = control_host, control_port
        self.reconnect = (reconnect_min, reconnect_max)
        self.outbox: deque[_Pending] = deque()
        self.connected = asyncio.Event()
        # What happened on the wire, for the CLI, the control channel and tests.
        self.counts = dict.fromkeys(("connections", "reports", "resent", "confirmed",
                                     "denied", "heartbeats", "answered", "commands",
                                     "redials"), 0)
        #: serial numbers of the reports the centre confirmed, in order
        self.confirmed_serials: list[int] = []
        self._serial = 0
        self._offset = timedelta()
        self._muted = False
        self._drop = False
        self._stopping = False
        self._last_sent = time.monotonic()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._control: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self.control_port is not None:
            self._control = await asyncio.start_server(self._serve_control, self.control_host,
                                                       self.control_port)
            self.control_port = self._control.sockets[0].getsockname()[1]
        self._tasks = [asyncio.create_task(self._dial_forever(), name="gb26875 sim link")]
        if self.story.steps:
            self._tasks.append(asyncio.create_task(self._play(), name="gb26875 sim story"))

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            # Cancel until it ends: a cancellation can be lost in a race with a wake-up.
            while not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=0.5)
        if self._control is not None:
            self._control.close()
            await self._control.wait_closed()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    # ------------------------------------------------------------ actions

    def perform(self, action: Action) -> dict[str, Any]:
        """Do `action`; what it queued, or the status for `status`. ValueError if it
        names a panel or point the device does not have."""
        a, name = action.args, action.name
        at = wire.stamp(self.now(), self.config.tz)
        units: list[bytes] = []
        if name in COMPONENT_ACTIONS:
            units = self.model.set_component(a["panel"], a["loop"], a["point"],
                                             COMPONENT_ACTIONS[name], a.get("active", True), at)
        elif name == "restore":
            units = self.model.restore(a["panel"], a["loop"], a["point"], at)
        elif name in ("reset", "silence", "self_test", "manual_alarm"):
            units = self.model.operation(a["panel"], name, at, a.get("operator", 1))
        elif name == "panel_power":
            units = self.model.set_panel_power(a["panel"], a["which"], a.get("active", True), at)
        elif name == "device":
            units = self.model.set_device(a["flag"], a.get("active", True), at)
        elif name == "device_reset":
            units = self.model.device_operation("reset", at, a.get("operator", 1))
        elif name == "stop":
            self._muted = True
        elif name == "resume":
            self._muted = False
        elif name == "disconnect":
            self._drop = True
        elif name == "status":
            return {"ok": True, **self.model.snapshot(), "counts": dict(self.counts),
                    "queued": len(self.outbox), "connected": self.connected.is_set()}
        for unit in units:
            self._queue(unit)
        self._wake.set()
        return {"ok": True, "queued": len(units)}

    def _queue(self, unit: bytes) -> None:
        serial = self._next_serial()
        self.outbox.append(_Pending(serial, self._frame(serial, wire.SEND_DATA, unit)))
        self.counts["reports"] += 1

    def _next_serial(self) -> int:
        self._serial = self._serial % 0xFFFF + 1
        return self._serial

    def _frame(self, serial: int, command: int, payload: bytes = b"") -> bytes:
        return wire.pack(wire.Packet(serial, command, self.config.address,
                                     self.config.centre_address, payload,
                                     wire.stamp(self.now(), self.config.tz)))

    # ------------------------------------------------------------ the link

    async def _dial_forever(self) -> None:
        delay = self.reconnect[0]
        while not self._stopping:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                log.debug("gb26875 sim: cannot reach %s:%d: %s", self.host, self.port, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect[1])
                continue
            delay = self.reconnect[0]
            self.counts["connections"] += 1
            self._writer = writer
            self.connected.set()
            lost = asyncio.Event()
            reading = asyncio.create_task(self._read(reader, writer, lost))
            try:
                await self._send(writer, lost)
            except (ConnectionError, OSError):
                pass
            finally:
                reading.cancel()
                await asyncio.wait([reading])  # never swallows our own cancellation
                self.connected.clear()
                self._writer = None
                writer.close()
                for pending in self.outbox:
                    pending.sent_at = None  # send again on the next connection
            await asyncio.sleep(delay)

    async def _send(self, writer: asyncio.StreamWriter, lost: asyncio.Event) -> None:
        tick = max(0.01, min(self.config.confirm_timeout, self.config.heartbeat) / 4)
        # Say who we are at once: the centre knows a connection by its first frame.
        self._last_sent = time.monotonic() - self.config.heartbeat
        while not lost.is_set() and not self._stopping:
            if self._drop:
                self._drop = False
                self.counts["redials"] += 1
                return
            now = time.monotonic()
            head = self.outbox[0] if self.outbox else None
            if self._muted:
                pass
            elif head is not None and head.sent_at is None:
                writer.write(head.frame)
                head.sent_at = self._last_sent = now
            elif head is not None and head.sent_at is not None \
                    and now - head.sent_at >= self.config.confirm_timeout:
                if head.resends >= self.config.retries:
                    log.info("gb26875 sim: report %d unconfirmed after %d resends; redialling",
                             head.serial, head.resends)
                    head.resends = 0
                    self.counts["redials"] += 1
                    return
                writer.write(head.frame)
                head.resends += 1
                self.counts["resent"] += 1
                head.sent_at = self._last_sent = now
            elif head is None and now - self._last_sent >= self.config.heartbeat:
                self._heartbeat(writer)
                self._last_sent = now
            await writer.drain()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(tick):
                    await self._wake.wait()

    def _heartbeat(self, writer: asyncio.StreamWriter) -> None:
        payload = b""
        if self.config.heartbeat_kind == "state":
            payload = self.model.device_report(wire.stamp(self.now(), self.config.tz))
        writer.write(self._frame(self._next_serial(), wire.SEND_DATA, payload))
        self.counts["heartbeats"] += 1

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    lost: asyncio.Event) -> None:
        unpacker = wire.Unpacker()
        try:
            while chunk := await reader.read(4096):
                for packet in unpacker.push(chunk):
                    self._on_packet(packet, writer)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            lost.set()
            self._wake.set()

    def _on_packet(self, p: wire.Packet, writer: asyncio.StreamWriter) -> None:
        head = self.outbox[0] if self.outbox else None
        in_flight = head is not None and head.sent_at is not None and head.serial == p.serial
        if p.command in (wire.CONFIRM, wire.DENY):
            if in_flight:
                self.outbox.popleft()
                if p.command == wire.CONFIRM:
                    self.counts["confirmed"] += 1
                    self.confirmed_serials.append(p.serial)
                else:
                    self.counts["denied"] += 1
                    log.warning("gb26875 sim: the centre denied report %d", p.serial)
                self._wake.set()
            return
        if self._muted or p.command not in (wire.REQUEST, wire.CONTROL):
            return
        at = wire.stamp(self.now(), self.config.tz)
        try:
            kind, _, objects = wire.read_objects(p.payload)
        except ValueError:
            kind, objects = -1, b""
        reply: tuple[int, bytes] = (wire.DENY, b"")
        if p.command == wire.REQUEST:
            answer = self.model.answer(kind, objects, at)
            if answer is not None:
                reply = (wire.RESPONSE, answer)
                self.counts["answered"] += 1
        elif kind == wire.SYNC_CLOCK and len(objects) == 6:
            told = wire.unstamp(objects, self.config.tz)
            if told is not None:
                self._offset = told - datetime.now(UTC)
                reply = (wire.CONFIRM, b"")
        elif kind in (wire.INITIALISE, wire.INSPECTION):
            reply = (wire.CONFIRM, b"")
            if kind == wire.INSPECTION:  # 查岗: the duty officer answers on the device
                self._queue(self.model.device_operation("inspection_reply", at)[0])
        if p.command == wire.CONTROL and reply[0] == wire.CONFIRM:
            self.counts["commands"] += 1
        writer.write(wire.pack(wire.Packet(p.serial, reply[0], self.config.address, p.source,
                                           reply[1], at, p.version)))

    # ------------------------------------------------------------ story and control

    async def _play(self) -> None:
        start = time.monotonic()
        while True:
            for at, action in self.story.steps:
                await asyncio.sleep(max(0.0, start + at - time.monotonic()))
                try:
                    self.perform(action)
                except ValueError as exc:
                    log.warning("gb26875 sim: story step at %g s: %s", at, exc)
            if self.story.every is None:
                return
            start += self.story.every
            await asyncio.sleep(max(0.0, start - time.monotonic()))

    async def _serve_control(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    answer = self.perform(parse_control_line(line))
                except ValueError as exc:
                    answer = {"error": str(exc)}
                writer.write(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
