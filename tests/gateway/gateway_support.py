"""Helpers for the gateway tests: config files, a fake driver, a broker-side collector,
a TCP proxy whose connections a test can cut, and waiting on conditions with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import time
import types
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

import aiomqtt
import yaml

from drivers.base import DeviceSpec, DriverConfigError, Observation, Outcome, Sink
from scg.localsvc import BrokerLogin, Mosquitto
from telemetry import Reading, decode, decode_status, parse_topic
from telemetry.codec import Envelope

# ---------------------------------------------------------------- waiting


async def wait_until(condition: Callable[[], bool], within: float = 5.0,
                     what: str = "condition") -> None:
    """Poll `condition` every 10 ms until it holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------- config files


#: The gateway the tests' configs describe, and its broker account.
GATEWAY_ACCOUNT = "demo/gw1"


def config_dict(broker: Mosquitto | int = 1883, *, devices: int = 2, driver: str = "fake",
                login: BrokerLogin | None = None, **sections: Any) -> dict[str, Any]:
    """A gateway config for demo/gw1 publishing to `broker` (logged in as its account), or
    to a port (a proxy in front of the broker) with `login`."""
    if isinstance(broker, Mosquitto):
        port, login = broker.port, login or broker.login(GATEWAY_ACCOUNT)
    else:
        port = broker
    uplink: dict[str, Any] = {"host": "127.0.0.1", "port": port, "reconnect_min": 0.05,
                              "reconnect_max": 0.5, "publish_timeout": 5}
    if login is not None:
        uplink.update(username=login.username, password=login.password)
    doc: dict[str, Any] = {
        "community": "demo",
        "gateway": "gw1",
        "uplink": uplink,
        "spool": {"path": "spool.sqlite", "max_bytes": "16MiB"},
        "health": {"failures_to_offline": 2},
        "drivers": {driver: {}},
        "devices": [{"id": f"dev-{n}", "driver": driver, "profile": "counter",
                     "address": f"addr-{n}", "period": "0.1s"} for n in range(1, devices + 1)],
    }
    doc.update(sections)
    return doc


def write_config(folder: Path, doc: dict[str, Any] | str, name: str = "gateway.yaml") -> Path:
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return path


# ---------------------------------------------------------------- a fake driver


class FakeDriver:
    """Reports a `count` reading and an OK observation per device every `interval` seconds.

    Settings: `interval` (s), `silent` (device ids that never report), `crash_runs`
    (the first N runs of this driver name raise), `bad` (any value: create() refuses).
    """

    name = "fake"
    runs: ClassVar[dict[str, int]] = {}  # runs started per `key` setting, class-wide

    def __init__(self, settings: dict[str, Any], devices: list[DeviceSpec]) -> None:
        self.settings = settings
        self._devices = devices

    def devices(self) -> list[DeviceSpec]:
        return list(self._devices)

    async def run(self, sink: Sink) -> None:
        key = self.settings.get("key", "fake")
        FakeDriver.runs[key] = FakeDriver.runs.get(key, 0) + 1
        if FakeDriver.runs[key] <= int(self.settings.get("crash_runs", 0)):
            raise RuntimeError(f"fake driver {key} crashed on purpose")
        silent = set(self.settings.get("silent", []))
        count = 0
        while True:
            count += 1
            for device in self._devices:
                if device.id in silent:
                    continue
                sink.emit(Reading(device.id, "count", datetime.now(UTC), float(count)))
                sink.observe(Observation(device.id, Outcome.OK))
            await asyncio.sleep(float(self.settings.get("interval", 0.05)))


def _create(settings: dict[str, Any], devices: list[DeviceSpec]) -> FakeDriver:
    unknown = set(settings) - {"interval", "silent", "crash_runs", "key", "bad"}
    if unknown or "bad" in settings:
        names = sorted(unknown | ({"bad"} & set(settings)))
        raise DriverConfigError(f"unknown setting(s) {', '.join(names)} "
                                "for the fake driver; remove them")
    return FakeDriver(settings, devices)


def fake_driver_module(name: str = "fake") -> types.ModuleType:
    module = types.ModuleType(f"drivers.{name}")
    module.create = _create  # type: ignore[attr-defined]
    module.FakeDriver = FakeDriver  # type: ignore[attr-defined]
    return module


# ---------------------------------------------------------------- broker side


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool


class Collector:
    """Subscribes on the central broker like ingest would (its account, a persistent
    session, QoS 1, so it keeps what arrives while it reconnects after a broker restart)
    and keeps every message."""

    def __init__(self, broker: Mosquitto, topic_filter: str = "scg/v1/#",
                 client_id: str = "test-collector") -> None:
        self.host, self.port = broker.host, broker.port
        self.login = broker.login("scg-ingest")
        self.topic_filter = topic_filter
        self.client_id = client_id
        self.messages: list[Received] = []
        self.subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Collector:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.subscribed.wait(), 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client(self.host, self.port, identifier=self.client_id,
                                          username=self.login.username,
                                          password=self.login.password,
                                          clean_session=False) as client:
                    await client.subscribe(self.topic_filter, qos=1)
                    self.subscribed.set()
                    async for message in client.messages:
                        payload = message.payload
                        assert isinstance(payload, bytes)
                        self.messages.append(Received(str(message.topic), payload,
                                                      message.retain))
            except aiomqtt.MqttError:
                await asyncio.sleep(0.05)

    def envelopes(self) -> list[Envelope]:
        return [decode(m.payload, topic=parse_topic(m.topic)).envelope
                for m in self.messages if not m.topic.endswith("/status")]

    def statuses(self) -> list[str]:
        out = []
        for m in self.messages:
            if m.topic.endswith("/status"):
                status = decode_status(m.payload, parse_topic(m.topic))
                out.append("online" if status.online else "offline")
        return out

    def items(self) -> Iterator[Any]:
        for envelope in self.envelopes():
            yield from envelope.items


# ---------------------------------------------------------------- a cuttable network


class TcpProxy:
    """Forwards connections from a local port to a target; `cut()` drops them all abruptly
    (as a broken network would), while still accepting new ones."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        #: While True, what the target sends back is swallowed (PUBACKs never arrive).
        self.drop_replies = False

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def connections(self) -> int:
        return len(self._links)

    def cut(self) -> None:
        for a, b in self._links:
            a.transport.abort()
            b.transport.abort()
        self._links.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._links.append((writer, up_writer))
        for src, dst, replies in ((reader, up_writer, False), (up_reader, writer, True)):
            task = asyncio.create_task(self._pipe(src, dst, replies))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                    replies: bool) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await src.read(65536):
                if replies and self.drop_replies:
                    continue
                dst.write(data)
                await dst.drain()
        dst.close()


class _Runnable(Protocol):
    async def run(self) -> None: ...


@contextlib.asynccontextmanager
async def running(service: _Runnable) -> AsyncIterator[asyncio.Task[None]]:
    """Run `service.run()` as a task for the duration of the block, then cancel it."""
    task = asyncio.create_task(service.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
