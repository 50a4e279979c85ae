"""A fleet of simulated street-light controllers in one asyncio process.

All controllers share one MQTT connection (a fleet of a thousand is one socket, not a
thousand). Each reports its status every `period` seconds, staggered over the period,
obeys `{prefix}/{id}/set` commands, and can be silenced or given faults at run time
from Python or over `{prefix}/_control`. What the broker acknowledged (PUBACK) is
counted per light; a message that was not acknowledged is not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import random
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType

import aiomqtt

from simulators.lights.control import DEFAULT_PREFIX, control_topic, parse_control
from simulators.lights.faults import FaultTimeline, FaultWindow
from simulators.lights.model import FLAGS, Light, LightSpec, encode, parse_command
from telemetry.backoff import Backoff

log = logging.getLogger(__name__)


class Fleet:
    """Street-light controllers publishing to one broker. Start with `start()` or `async with`."""

    def __init__(self, lights: Sequence[LightSpec], *, host: str = "127.0.0.1",
                 port: int = 1883, prefix: str = DEFAULT_PREFIX, period: float = 10.0,
                 faults: Iterable[FaultWindow] = (), seed: int = 0, noise: float = 0.01,
                 username: str | None = None, password: str | None = None,
                 client_id: str | None = None, keepalive: int = 30,
                 reconnect_min: float = 0.5, reconnect_max: float = 30.0,
                 ack_timeout: float = 10.0, keep_ts: bool = True) -> None:
        ids = [s.id for s in lights]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"light ids must be unique; repeated: {', '.join(dupes)}")
        if period <= 0:
            raise ValueError(f"period must be > 0 seconds, got {period}")
        if not prefix or prefix.endswith("/") or any(c in prefix for c in "+#"):
            raise ValueError(f"prefix {prefix!r} must be a topic without wildcards or a "
                             "trailing '/', e.g. scg-sim/lights")
        windows = list(faults)
        strangers = sorted({w.light for w in windows} - set(ids))
        if strangers:
            raise ValueError(f"fault schedule names lights that are not in this fleet: "
                             f"{', '.join(strangers)} (the fleet has {_span(ids)})")
        self.ids = ids
        self.host, self.port, self.prefix, self.period = host, port, prefix, period
        self.username, self.password, self.client_id = username, password, client_id
        self.keepalive, self.ack_timeout, self.keep_ts = keepalive, ack_timeout, keep_ts
        self._backoff = Backoff(reconnect_min, reconnect_max)
        self._clock = time.monotonic  # the event loop's clock too
        now = self._clock()
        self._lights = {s.id: Light(s, now=now, rng=random.Random(f"{seed}:{s.id}"),
                                    noise=noise) for s in lights}
        self._timelines = {i: FaultTimeline(w for w in windows if w.light == i) for i in ids}
        #: status messages the broker acknowledged, per light
        self.sent: dict[str, int] = dict.fromkeys(ids, 0)
        #: `ts` of each acknowledged status, per light (only when keep_ts)
        self.sent_ts: dict[str, list[str]] = {i: [] for i in ids}
        #: reports due while there was no connection (not published)
        self.skipped: dict[str, int] = dict.fromkeys(ids, 0)
        #: publishes the broker never acknowledged (connection lost, timeout)
        self.unacked: dict[str, int] = dict.fromkeys(ids, 0)
        self._silenced: set[str] = set()
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._connected_once = False
        self._started_at: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ inspection

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def connected(self) -> bool:
        return self._client is not None

    @property
    def silenced(self) -> frozenset[str]:
        return frozenset(self._silenced)

    def light(self, light_id: str) -> Light:
        return self._lights[self._known(light_id)]

    def status_topic(self, light_id: str) -> str:
        return f"{self.prefix}/{light_id}/status"

    async def wait_connected(self) -> None:
        """Return once the fleet is connected (wrap in `asyncio.timeout` to bound the wait)."""
        await self._connected.wait()

    # ------------------------------------------------------------ run-time control

    def silence(self, ids: Iterable[str]) -> None:
        """These controllers stop talking (no status, commands ignored) until resumed."""
        ids = [self._known(i) for i in ids]
        self._silenced.update(ids)
        log.info("silenced %s", ", ".join(ids))

    def resume(self, ids: Iterable[str]) -> None:
        ids = [self._known(i) for i in ids]
        self._silenced.difference_update(ids)
        log.info("resumed %s", ", ".join(ids))

    def set_fault(self, light_id: str, flag: str, on: bool) -> None:
        """Raise or clear a fault flag now; a changed flag is reported at once."""
        light = self.light(light_id)
        if flag not in FLAGS:
            raise ValueError(f"fault flag {flag!r} is not one of {', '.join(FLAGS)}")
        self._apply_schedule(light)  # a scheduled change already due must not win later
        if light.faults[flag] != on:
            light.set_fault(flag, on)
            self._report_now(light)

    def command(self, light_id: str, *, on: bool | None = None, dim: int | None = None) -> None:
        """Switch or dim a light as a `/set` command would; the new state is reported at once."""
        light = self.light(light_id)
        light.command(self._clock(), on=on, dim=dim)
        self._report_now(light)

    def _known(self, light_id: str) -> str:
        if light_id not in self._lights:
            raise ValueError(f"light {light_id!r} is not in this fleet ({_span(self.ids)})")
        return light_id

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start connecting and reporting; returns at once (see `wait_connected`)."""
        if self._tasks:
            raise RuntimeError("fleet already started")
        self._started_at = self._clock()
        self._tasks = [asyncio.create_task(self._connection_loop(), name="fleet-connection"),
                       asyncio.create_task(self._report_loop(), name="fleet-reports")]

    async def stop(self) -> None:
        """Stop reporting, wait for outstanding acknowledgements, then disconnect."""
        if not self._tasks:
            return
        connection, reports = self._tasks
        reports.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reports
        if self._inflight and self._client is not None:
            await asyncio.wait(set(self._inflight), timeout=self.ack_timeout + 1)
        for task in set(self._inflight):  # no connection: no acknowledgement will come
            task.cancel()
        connection.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connection
        self._tasks = []

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    # ------------------------------------------------------------ connection

    async def _connection_loop(self) -> None:
        lost = False
        while True:
            try:
                async with aiomqtt.Client(
                    self.host, self.port, username=self.username, password=self.password,
                    identifier=self.client_id, clean_session=True, keepalive=self.keepalive,
                ) as client:
                    # Reports of many lights may await their PUBACK at once; that is normal.
                    client.pending_calls_threshold = 2 * len(self.ids) + 10
                    await client.subscribe(f"{self.prefix}/+/set", qos=1)
                    await client.subscribe(control_topic(self.prefix), qos=1)
                    self._client = client
                    self._connected_once = True
                    self._connected.set()
                    self._backoff.reset()
                    log.info("%s %d light controllers to mqtt://%s:%d/%s",
                             "reconnected" if lost else "connected", len(self.ids),
                             self.host, self.port, self.prefix)
                    lost = False
                    async for message in client.messages:
                        self._on_message(str(message.topic), _bytes(message.payload))
            except aiomqtt.MqttError as exc:
                if not lost:
                    log.warning("light fleet %s mqtt://%s:%d (%s); retrying with a delay "
                                "doubling up to %g s",
                                "lost" if self._connected_once else "cannot reach",
                                self.host, self.port, exc, self._backoff.ceiling)
                lost = True
            finally:
                self._client = None
                self._connected.clear()
            await asyncio.sleep(self._backoff.next())

    def _on_message(self, topic: str, payload: bytes) -> None:
        if topic == control_topic(self.prefix):
            self._on_control(payload)
            return
        light_id = topic[len(self.prefix) + 1:].split("/")[0]
        if light_id not in self._lights or light_id in self._silenced:
            return  # not ours, or a silenced controller: it hears nothing
        try:
            on, dim = parse_command(payload)
        except ValueError as exc:
            log.warning("light %s ignored a command on %s: %s", light_id, topic, exc)
            return
        self.command(light_id, on=on, dim=dim)

    def _on_control(self, payload: bytes) -> None:
        try:
            ctl = parse_control(payload)
            for ids, act in ((ctl.silence, self.silence), (ctl.resume, self.resume)):
                if ids:
                    act(ids)
            for light_id, flag, on in ctl.faults:
                self.set_fault(light_id, flag, on)
        except ValueError as exc:
            log.warning("ignored a control message: %s", exc)

    # ------------------------------------------------------------ reporting

    async def _report_loop(self) -> None:
        n = len(self.ids)
        start = self._clock()
        # Spread the first reports over one period so that the lights do not all speak at once.
        due = [(start + self.period * i / n, i) for i in range(n)]
        heapq.heapify(due)
        lights = [self._lights[i] for i in self.ids]
        while due:
            at, index = due[0]
            delay = at - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            nxt = at + self.period
            now = self._clock()
            if nxt <= now:  # fell behind (a stalled loop): skip missed turns, keep the phase
                nxt += self.period * math.ceil((now - nxt) / self.period)
            heapq.heapreplace(due, (nxt, index))
            self._report(lights[index])

    def _apply_schedule(self, light: Light) -> None:
        if self._started_at is None:
            return
        for flag, active in self._timelines[light.id].due(self._clock() - self._started_at):
            light.set_fault(flag, active)

    def _report_now(self, light: Light) -> None:
        """Report outside the period (after a change), when running inside the event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._tasks:
            self._report(light)

    def _report(self, light: Light) -> None:
        if light.id in self._silenced:
            return
        self._apply_schedule(light)
        ts, doc = light.status(self._clock(), datetime.now(UTC))
        client = self._client
        if client is None:
            self.skipped[light.id] += 1
            return
        task = asyncio.get_running_loop().create_task(
            self._publish(client, light.id, ts, encode(doc)))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _publish(self, client: aiomqtt.Client, light_id: str, ts: str,
                       payload: bytes) -> None:
        # No cancellation on disconnect: a PUBACK that already arrived must still be counted,
        # and one that never comes ends in the timeout (the old client is gone by then).
        try:
            await client.publish(self.status_topic(light_id), payload, qos=1,
                                 timeout=self.ack_timeout)
        except aiomqtt.MqttError as exc:
            self.unacked[light_id] += 1
            log.debug("status of %s at %s not acknowledged: %s", light_id, ts, exc)
            return
        self.sent[light_id] += 1
        if self.keep_ts:
            self.sent_ts[light_id].append(ts)


def _bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return str(payload).encode() if payload is not None else b""


def _span(ids: Sequence[str]) -> str:
    if not ids:
        return "no lights"
    return f"{len(ids)} lights, {ids[0]} … {ids[-1]}" if len(ids) > 1 else ids[0]
