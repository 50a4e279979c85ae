"""The gateway as the receiving centre (监控中心) of GB 26875.3: a TCP server the transmission
devices dial. Each device is known by the source address of its frames; its frames are
confirmed as the standard requires (sent data -> confirm, malformed -> deny), its reports
become events and readings, and every frame is an observation of it and of its panels.

A device that stops talking is reported as failing once per heartbeat period of silence,
for itself and for every panel behind it, with a reason that names it — the gateway's
health rules then take them offline after the configured number of periods, like any
other silent device. Nothing a device sends can stop the server: a bad frame is answered
or skipped and the connection goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from drivers.base import DeviceSpec, Observation, Outcome, Sink
from drivers.gb26875.codec import Frame, FrameError, FrameReader, time_label
from drivers.gb26875.devices import TransmissionDevice
from drivers.gb26875.interpret import Interpreter
from drivers.gb26875.link import DeviceLink, through
from drivers.gb26875.settings import Gb26875Settings
from drivers.gb26875.tables import (
    CONFIRM,
    CONTROL,
    DENY,
    REQUEST,
    RESPONSE,
    SEND_DATA,
    command_name,
)
from drivers.gb26875.units import decode_unit, encode_unit

log = logging.getLogger(__name__)

_READ_SIZE = 4096
_DRAIN_TIMEOUT = 10.0
_MAX_STRANGERS = 1000  # unknown source addresses remembered for log-once


class Gb26875Driver:
    name = "gb26875"

    def __init__(self, settings: Gb26875Settings, boxes: Sequence[TransmissionDevice], *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self.boxes = list(boxes)
        self._now = now
        self.links = {b.address: DeviceLink(b, Interpreter(b, settings)) for b in self.boxes}
        self._by_id = {link.id: link for link in self.links.values()}
        #: set once the server listens; `port` is then the port it listens on
        self.ready = asyncio.Event()
        self.port: int | None = None
        #: frames from addresses no configured device has, per address
        self.strangers: dict[int, int] = {}
        #: frames that failed their checks (checksum, length, end), all connections
        self.bad_frames = 0
        self._connections: set[asyncio.StreamWriter] = set()
        self._sink: Sink | None = None
        self._refused_logged = False

    def devices(self) -> list[DeviceSpec]:
        return [spec for b in self.boxes for spec in (b.spec, *(p.spec for p in
                                                                b.panels.values()))]

    def link(self, device: str) -> DeviceLink:
        """The link of transmission device `device` (for diagnostics and tests)."""
        return self._by_id[device]

    # ------------------------------------------------------------ running

    async def run(self, sink: Sink) -> None:
        """Listen until cancelled."""
        self._sink = sink
        started = time.monotonic()
        for link in self.links.values():
            link.started = started
        server = await asyncio.start_server(self._serve, self.settings.host,
                                            self.settings.port)
        self.port = server.sockets[0].getsockname()[1]
        log.info("gb26875 centre listening on %s:%d for %d transmission devices (%d panels)",
                 self.settings.host, self.port, len(self.boxes),
                 sum(len(b.panels) for b in self.boxes))
        self.ready.set()
        try:
            async with server:
                await self._watch_silence(sink)
        finally:
            self.ready.clear()
            for writer in list(self._connections):
                writer.close()

    async def _watch_silence(self, sink: Sink) -> None:
        tick = max(0.05, min((link.period for link in self.links.values()), default=1.0) / 4)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for link in self.links.values():
                if link.silence_due(now):
                    link.failed = now
                    reason = link.silence_reason(now)
                    self._observe(sink, link, Outcome.FAILED, reason)

    def _observe(self, sink: Sink, link: DeviceLink, outcome: Outcome, reason: str = "") -> None:
        """One observation of the device, and the same for its panels: heard through it,
        or not heard when it is not (or when it says its line to them is broken)."""
        sink.observe(Observation(link.id, outcome, reason))
        if outcome is Outcome.FAILED:
            for panel in link.box.panels.values():
                sink.observe(Observation(panel.id, outcome, through(panel.id, reason)))
            return
        broken = link.interpreter.panel_link_down()
        for panel in link.box.panels.values():
            if broken:
                sink.observe(Observation(panel.id, Outcome.FAILED,
                                         f"panel {panel.id}: transmission device {link.id} "
                                         "reports its line to the panels is broken"))
            else:
                sink.observe(Observation(panel.id, Outcome.OK))

    # ------------------------------------------------------------ one connection

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer(writer)
        if len(self._connections) >= self.settings.max_connections:
            if not self._refused_logged:
                log.warning("gb26875: refusing connection from %s: %d connections already "
                            "(max_connections); logged once until one closes", peer,
                            len(self._connections))
                self._refused_logged = True
            writer.close()
            return
        self._connections.add(writer)
        frames = FrameReader()
        owner: DeviceLink | None = None
        try:
            while True:
                try:
                    async with asyncio.timeout(self.settings.idle_timeout):
                        chunk = await reader.read(_READ_SIZE)
                except TimeoutError:
                    log.info("gb26875: closing the connection from %s: silent for %g s "
                             "(idle_timeout)", peer, self.settings.idle_timeout)
                    break
                if not chunk:
                    break
                for got in frames.feed(chunk):
                    owner = self._handle(got, writer, owner, peer)
                async with asyncio.timeout(_DRAIN_TIMEOUT):
                    await writer.drain()
        except (ConnectionError, OSError, TimeoutError) as exc:
            log.info("gb26875: connection from %s lost: %s", peer, exc or type(exc).__name__)
        except Exception:
            # Our bug, not the device's: say so, drop this connection, keep serving.
            log.exception("gb26875: internal error on the connection from %s; closing it",
                          peer)
        finally:
            self._connections.discard(writer)
            self._refused_logged = False
            if owner is not None and owner.writer is writer:
                owner.writer = None
                owner.closed = time.monotonic()
                log.info("transmission device %s (%s) disconnected", owner.id, peer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _handle(self, got: Frame | FrameError, writer: asyncio.StreamWriter,
                owner: DeviceLink | None, peer: str) -> DeviceLink | None:
        """Handle one frame (or frame error) of a connection; returns the device it is."""
        assert self._sink is not None
        sink = self._sink
        if isinstance(got, FrameError):
            self.bad_frames += 1
            if owner is not None:
                owner.malformed += 1
                self._observe(sink, owner, Outcome.DEGRADED,
                              f"transmission device {owner.id}: bad frame: {got.reason}")
            return owner
        frame = got
        link = self.links.get(frame.source)
        if link is None:
            self._stranger(frame, writer, peer)
            return owner
        if owner is not None and owner is not link:
            log.warning("gb26875: connection from %s is transmission device %s but a frame "
                        "says it comes from %s; denied", peer, owner.id, frame.source)
            self._send(writer, frame.reply(DENY, source=self.settings.centre_address,
                                           time=self._label()))
            return owner
        if link.writer is not writer:
            self._attach(link, writer, peer)
        link.heard = time.monotonic()
        link.frames += 1
        try:
            problem = self._dispatch(link, frame, writer)
        except Exception:
            # Our bug, not the device's: said once per device; the connection goes on.
            if not link.crashed:
                log.exception("transmission device %s: %s could not be handled inside the "
                              "driver (logged once)", link.id, frame.describe())
                link.crashed = True
            problem = "internal driver error (see the gateway log)"
        if problem:
            link.malformed += 1
            self._observe(sink, link, Outcome.DEGRADED, f"transmission device {link.id}: "
                                                        f"{problem}")
        else:
            self._observe(sink, link, Outcome.OK)
        return link

    def _dispatch(self, link: DeviceLink, frame: Frame, writer: asyncio.StreamWriter) -> str:
        """Answer and interpret one frame of a known device; the problem, if any."""
        assert self._sink is not None
        centre = self.settings.centre_address
        if frame.command in (SEND_DATA, RESPONSE):
            if frame.command == SEND_DATA and link.seen_before(frame.serial, frame.data):
                link.duplicates += 1
                self._send(writer, frame.reply(CONFIRM, source=centre, time=self._label()))
                return ""
            if not frame.data:  # a bare heartbeat
                if frame.command == SEND_DATA:
                    self._send(writer, frame.reply(CONFIRM, source=centre, time=self._label()))
                return ""
            try:
                unit = decode_unit(frame.data, frame.command)
            except FrameError as exc:
                if frame.command == SEND_DATA:
                    self._send(writer, frame.reply(DENY, source=centre, time=self._label()))
                return f"{frame.describe()}: {exc.reason}"
            if frame.command == SEND_DATA:
                # Confirm first: the device may resend while we think.
                self._send(writer, frame.reply(CONFIRM, source=centre, time=self._label()))
            if not unit.known:
                log.debug("transmission device %s sent data unit type %d (%s); not read",
                          link.id, unit.type, unit.name)
            for item in link.interpreter.unit(unit, self._now()):
                self._sink.emit(item)
            return ""
        if frame.command in (CONFIRM, DENY):
            if frame.command == DENY:
                log.info("transmission device %s denied our frame %d", link.id, frame.serial)
            return ""
        # A device does not command or query the centre: say no, politely.
        self._send(writer, frame.reply(DENY, source=centre, time=self._label()))
        kind = "control command" if frame.command == CONTROL else (
            "request" if frame.command == REQUEST else f"command {command_name(frame.command)}")
        return f"sent a {kind}, which a centre does not take (denied)"

    def _attach(self, link: DeviceLink, writer: asyncio.StreamWriter, peer: str) -> None:
        """A device is heard on a new connection: it is its connection now."""
        old = link.writer
        if old is not None:
            log.info("transmission device %s reconnected from %s; closing its old connection "
                     "from %s", link.id, peer, link.peer)
            old.close()
        else:
            log.info("transmission device %s connected from %s", link.id, peer)
        link.writer, link.peer, link.closed = writer, peer, None
        link.connections += 1
        centre = self.settings.centre_address
        if self.settings.sync_time:
            data = encode_unit(90, [{"time": self._label()}], CONTROL)
            self._send(writer, Frame(link.next_serial(), CONTROL, centre, link.box.address,
                                     data, self._label()))
        if self.settings.query_on_connect:
            # Learn what is active now: after a gateway restart nothing else would say.
            reads = [encode_unit(81, [{"reserved": 0}], REQUEST)]
            reads += [encode_unit(61, [{"system_type": t, "system_address": a}], REQUEST)
                      for t, a in link.box.panels]
            for data in reads:
                self._send(writer, Frame(link.next_serial(), REQUEST, centre,
                                         link.box.address, data, self._label()))

    def _stranger(self, frame: Frame, writer: asyncio.StreamWriter, peer: str) -> None:
        count = self.strangers.get(frame.source, 0) + 1
        if count == 1 and len(self.strangers) >= _MAX_STRANGERS:
            return  # someone is sweeping addresses: stay quiet, answer nothing
        self.strangers[frame.source] = count
        if count == 1:
            log.warning("gb26875: %s from %s: no transmission device with address %d is "
                        "configured; denied (add it to the gateway config; logged once per "
                        "address)", frame.describe(), peer, frame.source)
        if frame.command in (SEND_DATA, CONTROL, REQUEST):
            self._send(writer, frame.reply(DENY, source=self.settings.centre_address,
                                           time=self._label()))

    def _send(self, writer: asyncio.StreamWriter, frame: Frame) -> None:
        if not writer.is_closing():
            writer.write(frame.encode())

    def _label(self) -> bytes:
        return time_label(self._now(), self.settings.tz)


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "?")
