"""The running half of the safety fleet: one MQTT link, a heartbeat per device every
period (staggered), the scripted story, and counts of what the broker acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import time
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from simulators.safety.actions import CONTROL_TOPIC, Action, Story
from simulators.safety.config import check_prefix
from simulators.safety.link import MqttLink
from simulators.safety.model import KINDS, Device, SafetySpec, encode, make_device

log = logging.getLogger(__name__)
D = TypeVar("D", bound=Device)


class FleetEngine:
    """Devices on the wire: their heartbeats, the story, and what the broker acknowledged.

    Subclasses say what an action does (`perform`) and how to take a message (`_on_message`).
    """

    def __init__(self, devices: Sequence[SafetySpec], *, host: str = "127.0.0.1",
                 port: int = 1883, period: float = 10.0,
                 prefixes: Mapping[str, str] | None = None,
                 control_topic: str = CONTROL_TOPIC, story: Story | None = None,
                 seed: int = 0, username: str | None = None, password: str | None = None,
                 client_id: str | None = None, keepalive: int = 30,
                 reconnect_min: float = 0.5, reconnect_max: float = 30.0,
                 ack_timeout: float = 10.0, keep_docs: bool = True) -> None:
        ids = [s.id for s in devices]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"device ids must be unique; repeated: {', '.join(dupes)}")
        if not period > 0:
            raise ValueError(f"period must be > 0 seconds, got {period}")
        prefixes = dict(prefixes or {})
        for kind, prefix in prefixes.items():
            if kind not in KINDS:
                raise ValueError(f"prefix for {kind!r}: not a kind; kinds: {', '.join(KINDS)}")
            check_prefix(prefix, f"prefix for {kind}")
        self.ids = ids
        self.kinds: dict[str, str] = {s.id: s.kind for s in devices}
        self.prefixes: dict[str, str] = {**KINDS, **prefixes}
        self.host, self.port, self.period = host, port, period
        self.control_topic = control_topic
        self.story = story or Story()
        for step in self.story.steps:
            for d in step.action.devices:
                if d not in self.kinds:
                    raise ValueError(f"the story names device {d!r}, which is not in the fleet")
        self.username, self.password, self.client_id = username, password, client_id
        self.keepalive, self.ack_timeout, self.keep_docs = keepalive, ack_timeout, keep_docs
        self._periods = {s.id: s.period or period for s in devices}
        lifts = {self.prefixes["elevator_controller"] for k in self.kinds.values()
                 if k == "elevator_controller"}
        self._link = MqttLink(
            host, port, subscriptions=[*(f"{p}/+/set" for p in lifts), control_topic],
            on_message=self._on_message, what=f"{len(ids)} safety devices",
            username=username, password=password, client_id=client_id, keepalive=keepalive,
            reconnect_min=reconnect_min, reconnect_max=reconnect_max,
            ack_timeout=ack_timeout, max_pending=4 * len(ids) + 20)
        self._clock = time.monotonic  # the event loop's clock too
        now = self._clock()
        self._devices: dict[str, Device] = {s.id: make_device(s, now=now, seed=seed)
                                            for s in devices}
        #: messages (status and event) the broker acknowledged, per device
        self.sent: dict[str, int] = dict.fromkeys(ids, 0)
        #: event messages the broker acknowledged, per device
        self.events_sent: dict[str, int] = dict.fromkeys(ids, 0)
        #: (topic name, document) of each acknowledged message, per device (when keep_docs)
        self.sent_docs: dict[str, list[tuple[str, dict[str, Any]]]] = {i: [] for i in ids}
        #: messages due while there was no connection (not published)
        self.skipped: dict[str, int] = dict.fromkeys(ids, 0)
        #: publishes the broker never acknowledged (connection lost, timeout)
        self.unacked: dict[str, int] = dict.fromkeys(ids, 0)
        #: messages a silenced device would have sent
        self.muted: dict[str, int] = dict.fromkeys(ids, 0)
        #: (seconds after start, action) of everything done from the story or control topic
        self.performed: list[tuple[float, Action]] = []
        self._silenced: set[str] = set()
        self._started_at: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._bursts: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ inspection

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def elapsed(self) -> float:
        """Seconds since `start()` (0 before)."""
        return 0.0 if self._started_at is None else self._clock() - self._started_at

    @property
    def connected(self) -> bool:
        return self._link.connected

    @property
    def silenced(self) -> frozenset[str]:
        return frozenset(self._silenced)

    def device(self, device_id: str) -> Device:
        return self._devices[self._known(device_id)]

    def topic(self, device_id: str, name: str) -> str:
        """The device's `status`, `event` or `set` topic."""
        return f"{self.prefixes[self.kinds[self._known(device_id)]]}/{device_id}/{name}"

    async def wait_connected(self) -> None:
        """Return once connected (wrap in `asyncio.timeout` to bound the wait)."""
        await self._link.wait_connected()

    # ------------------------------------------------------------ run-time control

    def silence(self, ids: Iterable[str]) -> None:
        """These devices stop talking (no status, no events, commands ignored) until resumed."""
        ids = [self._known(i) for i in ids]
        self._silenced.update(ids)
        log.info("silenced %s", ", ".join(ids))

    def resume(self, ids: Iterable[str]) -> None:
        ids = [self._known(i) for i in ids]
        self._silenced.difference_update(ids)
        log.info("resumed %s", ", ".join(ids))

    def perform(self, action: Action) -> None:
        """Do a validated action (from the story or the control topic)."""
        raise NotImplementedError

    def _on_message(self, topic: str, payload: bytes) -> None:
        raise NotImplementedError

    def _known(self, device_id: str) -> str:
        if device_id not in self._devices:
            raise ValueError(f"device {device_id!r} is not in this fleet ({_span(self.ids)})")
        return device_id

    def _as(self, device_id: str, cls: type[D]) -> D:
        device = self._devices[self._known(device_id)]
        if not isinstance(device, cls):
            raise ValueError(f"device {device_id} is of kind {device.kind}, not {cls.kind}")
        return device

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start connecting, reporting and playing the story; returns at once (see
        `wait_connected`)."""
        if self._tasks:
            raise RuntimeError("safety fleet already started")
        self._started_at = self._clock()
        self._link.start()
        self._tasks = [asyncio.create_task(self._report_loop(), name="safety-reports")]
        if self.story.steps:
            self._tasks.append(asyncio.create_task(self._story_loop(), name="safety-story"))

    async def stop(self) -> None:
        """Stop reporting, wait for outstanding acknowledgements, then disconnect."""
        if not self._tasks:
            return
        for task in [*self._tasks, *self._bursts]:
            task.cancel()
        for task in [*self._tasks, *self._bursts]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._link.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    # ------------------------------------------------------------ outgoing

    async def _report_loop(self) -> None:
        n = len(self.ids)
        start = self._clock()
        # Spread the first reports over one period so that the devices do not all speak at
        # once; then each keeps its own period.
        due = [(start + self._periods[i] * k / n, k) for k, i in enumerate(self.ids)]
        heapq.heapify(due)
        devices = [self._devices[i] for i in self.ids]
        while due:
            at, index = due[0]
            delay = at - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            period = self._periods[self.ids[index]]
            nxt = at + period
            now = self._clock()
            if nxt <= now:  # fell behind (a stalled loop): skip missed turns, keep the phase
                nxt += period * math.ceil((now - nxt) / period)
            heapq.heapreplace(due, (nxt, index))
            devices[index].tick()
            self._report(devices[index])

    async def _story_loop(self) -> None:
        assert self._started_at is not None
        base = self._started_at
        while True:
            for step in self.story.steps:
                delay = base + step.at - self._clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    self.perform(step.action)
                except ValueError as exc:  # e.g. a floor above the building: say, go on
                    log.warning("story step at %g s (%s on %s) failed: %s", step.at,
                                step.action.name, ", ".join(step.action.devices), exc)
            if self.story.every is None:
                return
            base += self.story.every

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        if not self._tasks:
            work.close()  # not running: the follow-up detections would go nowhere
            return
        task = asyncio.get_running_loop().create_task(work)
        self._bursts.add(task)
        task.add_done_callback(self._bursts.discard)

    def _report(self, device: Device, wall: datetime | None = None) -> dict[str, Any]:
        """Send the device's status now; the document (also when it could not be sent)."""
        doc = device.status(self._clock(), wall or _now())
        self._send(device, "status", doc)
        return doc

    def _send(self, device: Device, name: str, doc: dict[str, Any]) -> None:
        if device.id in self._silenced:
            self.muted[device.id] += 1
            return
        topic = f"{self.prefixes[device.kind]}/{device.id}/{name}"

        def acked() -> None:
            self.sent[device.id] += 1
            if name == "event":
                self.events_sent[device.id] += 1
            if self.keep_docs:
                self.sent_docs[device.id].append((name, doc))

        def lost(reason: str) -> None:
            self.unacked[device.id] += 1
            log.debug("%s of %s at %s not acknowledged: %s", name, device.id, doc["ts"], reason)

        # Not running yet (or any more), or no connection now: the message goes nowhere.
        if not self._tasks or not self._link.publish(topic, encode(doc), acked=acked,
                                                     lost=lost):
            self.skipped[device.id] += 1


def _now() -> datetime:
    return datetime.now(UTC)


def _span(ids: Sequence[str]) -> str:
    if not ids:
        return "no devices"
    return f"{len(ids)} devices, {ids[0]} … {ids[-1]}" if len(ids) > 1 else ids[0]
