"""The gateway-side MQTT driver: listens on the device broker for the topics of its devices'
profiles (status, and event topics where a profile has them), turns each message into
readings and events, reports every message's health, and publishes commands. Reconnects
with a doubling delay; never dies of a payload.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import socket
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiomqtt

from drivers.base import DeviceSpec, Observation, Outcome, Sink
from drivers.mqtt.counters import Counters
from drivers.mqtt.edges import ConditionEdges
from drivers.mqtt.payload import decode_message
from drivers.mqtt.profile import Profile
from drivers.mqtt.settings import MqttSettings
from telemetry.backoff import Backoff
from telemetry.repeats import ConditionLog

log = logging.getLogger(__name__)

_RECENT = 32  # messages remembered per device to drop QoS 1 redeliveries


class CommandError(RuntimeError):
    """A command could not be delivered to the device broker; the message says why."""


@dataclass(frozen=True, slots=True)
class _Route:
    """The devices of one profile and how to recognise the topics it hears, by topic name."""

    profile: Profile
    prefix: str
    matchers: tuple[tuple[str, re.Pattern[str]], ...]
    by_address: dict[str, DeviceSpec]
    #: metrics that are counters (only grow), with the field each comes from
    counters: dict[str, str]


class MqttDriver:
    name = "mqtt"

    def __init__(self, settings: MqttSettings, devices: Sequence[DeviceSpec],
                 profiles: dict[str, Profile]) -> None:
        self.settings = settings
        self._devices = list(devices)
        self._by_id = {d.id: d for d in self._devices}
        self._routes: list[_Route] = []
        self._route_of: dict[str, _Route] = {}
        for name in sorted({d.profile for d in self._devices}):
            profile = profiles[name]
            prefix = settings.prefix_for(name, profile.prefix)
            route = _Route(profile, prefix,
                           tuple((t, p.matcher(prefix)) for t, p in profile.topics()),
                           {d.address: d for d in self._devices if d.profile == name},
                           {r.metric: r.field for r in profile.readings if r.counter})
            self._routes.append(route)
            self._route_of.update((d.id, route) for d in route.by_address.values())
        #: good or bad messages received, per device id
        self.received: dict[str, int] = dict.fromkeys(self._by_id, 0)
        #: messages that were not understood (in part or whole), per device id
        self.malformed: dict[str, int] = dict.fromkeys(self._by_id, 0)
        #: QoS 1 redeliveries dropped, per device id
        self.duplicates: dict[str, int] = dict.fromkeys(self._by_id, 0)
        #: messages on a heard topic for an address no configured device has, per address
        self.unknown: dict[str, int] = {}
        #: set while connected and subscribed to the device broker
        self.ready = asyncio.Event()
        self._edges = ConditionEdges()
        self._counters = Counters()
        self._problems = ConditionLog(log)
        #: per device, what its messages got wrong lately (the subjects of the problems)
        self._bad: dict[str, set[str]] = {}
        self._recent: dict[str, deque[bytes]] = {d: deque(maxlen=_RECENT) for d in self._by_id}
        self._client: aiomqtt.Client | None = None
        self._handler_failed = False

    def devices(self) -> list[DeviceSpec]:
        return list(self._devices)

    def subscriptions(self) -> list[str]:
        """The topic filters the driver subscribes to (QoS 1)."""
        return sorted({p.subscription(r.prefix) for r in self._routes
                       for _, p in r.profile.topics()})

    # ------------------------------------------------------------ messages

    def handle(self, topic: str, payload: bytes, sink: Sink,
               received: datetime | None = None) -> None:
        """Turn one message into items and one observation. Public so tests can feed it."""
        found = self._find(topic)
        if found is None:
            return
        route, device, name = found
        self.received[device.id] += 1
        if route.profile.time is not None and self._seen_before(device.id, name, payload):
            self.duplicates[device.id] += 1
            return
        decoded = decode_message(route.profile, device.id, payload,
                                 received or datetime.now(UTC), topic=name)
        counters = route.counters
        for reading in decoded.readings:
            if reading.metric in counters:
                why = self._counters.check(device.id, reading.metric, reading.value)
                if why is not None:
                    decoded.problems.append(f"field {counters[reading.metric]!r}: {why}")
                    continue
            sink.emit(reading)
        if decoded.time is not None:
            for condition in decoded.conditions:
                event = self._edges.update(device.id, decoded.time, condition)
                if event is not None:
                    sink.emit(event)
        for event in decoded.momentary:
            sink.emit(event)
        if decoded.problems:
            self.malformed[device.id] += 1
            reason = f"device {device.id}: " + "; ".join(decoded.problems)
            # Once per device and subject (the payload, field 'dim', ...) until it sends a
            # good message, with a reminder and a count while it lasts.
            subjects = self._bad.setdefault(device.id, set())
            for problem in decoded.problems:
                subject = problem.partition(": ")[0]
                subjects.add(subject)
                self._problems.problem((device.id, subject), logging.WARNING,
                                       "device %s: %s (on %s; logged once until it sends a "
                                       "good message)", device.id, problem, topic)
            sink.observe(Observation(device.id, Outcome.DEGRADED, reason))
            return
        subjects = self._bad.pop(device.id, set())
        if subjects:
            for subject in sorted(subjects):
                self._problems.cleared((device.id, subject), "device %s sends good messages "
                                       "again (%d malformed so far; %s)", device.id,
                                       self.malformed[device.id], subject)
        sink.observe(Observation(device.id, Outcome.OK))

    def _find(self, topic: str) -> tuple[_Route, DeviceSpec, str] | None:
        """The route, device and profile topic name of a topic."""
        address = None
        for route in self._routes:
            for name, matcher in route.matchers:
                m = matcher.match(topic)
                if m is None:
                    continue
                address = m.group(1)
                device = route.by_address.get(address)
                if device is not None:
                    return route, device, name
        if address is not None:
            count = self.unknown.get(address, 0) + 1
            self.unknown[address] = count
            if count == 1:
                log.warning("message on %s for address %r, which no configured device has; "
                            "add the device to the gateway config or stop the sender "
                            "(logged once per address)", topic, address)
        return None

    def _seen_before(self, device: str, topic: str, payload: bytes) -> bool:
        # The profile's time field makes every genuine message differ, so an identical
        # payload on the same topic is a redelivery (QoS 1 after a reconnect), not news.
        digest = hashlib.blake2b(topic.encode() + b"\0" + payload, digest_size=16).digest()
        recent = self._recent[device]
        if digest in recent:
            return True
        recent.append(digest)
        return False

    def _handle_safely(self, topic: str, payload: bytes, sink: Sink) -> None:
        try:
            self.handle(topic, payload, sink)
        except Exception:
            # A bug (ours or the sink's) must not stop every other device being heard.
            if not self._handler_failed:
                log.exception("could not handle a message on %s; continuing", topic)
            self._handler_failed = True

    # ------------------------------------------------------------ connection

    async def run(self, sink: Sink) -> None:
        """Listen until cancelled, reconnecting with a doubling delay when the broker goes."""
        s = self.settings
        backoff = Backoff(s.reconnect_min, s.reconnect_max, jitter=0.2)
        lost_at: datetime | None = None
        while True:
            try:
                async with aiomqtt.Client(
                    s.host, s.port, username=s.username, password=s.password,
                    identifier=s.client_id, clean_session=s.clean_session,
                    keepalive=s.keepalive,
                    # Alarms and commands are small: Nagle's algorithm would add ~40 ms a hop
                    # to the e-bike lift lock-out.
                    socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                ) as client:
                    for topic_filter in self.subscriptions():
                        await client.subscribe(topic_filter, qos=1)
                    self._client = client
                    self.ready.set()
                    backoff.reset()
                    if lost_at is None:
                        log.info("mqtt driver: connected to device broker %s:%d, %d devices, "
                                 "subscribed to %s", s.host, s.port, len(self._devices),
                                 ", ".join(self.subscriptions()))
                    else:
                        log.info("mqtt driver: device broker %s:%d is back after %.1f s",
                                 s.host, s.port,
                                 (datetime.now(UTC) - lost_at).total_seconds())
                        lost_at = None
                    async for message in client.messages:
                        self._handle_safely(str(message.topic), _bytes(message.payload), sink)
            except aiomqtt.MqttError as exc:
                if lost_at is None:
                    lost_at = datetime.now(UTC)
                    log.warning("mqtt driver: device broker %s:%d unreachable (%s); retrying "
                                "with a delay doubling up to %g s", s.host, s.port, exc,
                                s.reconnect_max)
            finally:
                self._client = None
                self.ready.clear()
            await asyncio.sleep(backoff.next())

    # ------------------------------------------------------------ commands

    async def send_command(self, device_id: str, payload: dict[str, Any]) -> None:
        """Publish `payload` as JSON to the device's command topic and wait for the PUBACK."""
        device = self._by_id.get(device_id)
        if device is None:
            raise CommandError(f"device {device_id!r} is not served by the mqtt driver")
        route = self._route_of[device_id]
        if route.profile.command is None:
            raise CommandError(f"device {device_id}: profile {route.profile.name} has no "
                               "command topic; it cannot be commanded")
        client = self._client
        if client is None:
            raise CommandError(f"device {device_id}: not connected to the device broker "
                               f"{self.settings.host}:{self.settings.port}; retry later")
        topic = route.profile.command.topic(route.prefix, device.address)
        try:
            await client.publish(topic, json.dumps(payload).encode(), qos=1,
                                 timeout=self.settings.command_timeout)
        except aiomqtt.MqttError as exc:
            raise CommandError(f"device {device_id}: command to {topic} was not acknowledged "
                               f"by the broker: {exc}") from None


def _bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return str(payload).encode() if payload is not None else b""
