"""Builders shared by the ingest tests: envelopes, messages, a sample inventory, polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from auth_support import ADMIN, user_headers

from ingest.messages import Received, decode_message
from telemetry import (
    DeviceState,
    Envelope,
    Event,
    GatewayStatus,
    Item,
    Reading,
    Severity,
    StateChange,
    encode,
    encode_status,
    status_topic,
    uplink_topic,
)
from web import create_app

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

INVENTORY = """\
community:
  id: demo
  name: 演示社区
  district: "370102"
  households: 3790
compounds:
  - {id: north, name: 北苑, closed: true, ebikes: true}
  - {id: south, name: 南苑}
buildings:
  - {id: b01, compound: north, floors: 18, residential: true}
devices:
  - id: light-001
    kind: light
    compound: north
    gateway: demo-gw1
    protocol: mqtt
    address: light-001
    capabilities: [dimming, remote_control, fault_report]
  - id: light-002
    kind: light
    gateway: demo-gw1
    protocol: mqtt
    address: light-002
    capabilities: [dimming]
  - id: light-101
    kind: light
    public: true
  - id: light-900
    kind: light
    public: false
    gateway: demo-gw1
    protocol: mqtt
    capabilities: [dimming]
  - id: cam-01
    kind: camera
    building: b01
    gateway: demo-gw1
    protocol: onvif
  - id: "light-{n:03d}"
    repeat: 3
    start: 201
    kind: light
    compound: south
    gateway: demo-gw2
    protocol: mqtt
    address: "addr-{n}"
    capabilities: [remote_control]
"""


def envelope(seq: int, items: Sequence[Item], *, community: str = "demo",
             gateway: str = "demo-gw1", sent_at: datetime = T0) -> bytes:
    return encode(Envelope(community, gateway, seq, sent_at, tuple(items)))


def reading(device: str, t: datetime = T0, metric: str = "power_w",
            value: float = 72.5) -> Reading:
    return Reading(device, metric, t, value)


def state(device: str, st: DeviceState, since: datetime = T0, reason: str = "") -> StateChange:
    return StateChange(device, st, since, reason)


def event(device: str, t: datetime = T0, type_: str = "lamp_fault") -> Event:
    return Event(device, type_, Severity.ALARM, t, True, {"flag": "lamp"})


def msg(payload: bytes, *, community: str = "demo", gateway: str = "demo-gw1",
        stream: str = "telemetry", now: datetime = T0 + timedelta(days=2),
        topic: str | None = None) -> Received:
    return decode_message(topic or uplink_topic(community, gateway, stream), payload, now=now)


def status_msg(online: bool, *, community: str = "demo", gateway: str = "demo-gw1",
               t: datetime = T0, version: str | None = None) -> Received:
    payload = encode_status(GatewayStatus(community, gateway, online, t, version))
    return decode_message(status_topic(community, gateway), payload, now=t)


async def wait_until(check: Callable[[], Awaitable[Any]], *, within: float = 10,
                     interval: float = 0.05, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `within` s."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {within} s waiting for {what}; last value {last!r}")


class Publisher:
    """A plain MQTT client publishing QoS 1 messages and waiting for each PUBACK; it logs in
    as the gateway it plays (`username`, `password`) and fails at once if refused."""

    def __init__(self, host: str, port: int, client_id: str = "test-publisher", *,
                 username: str | None = None, password: str | None = None) -> None:
        import threading

        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5)
        if username is not None:
            self.client.username_pw_set(username, password)
        answered = threading.Event()
        reasons: list[Any] = []

        def on_connect(c: Any, u: Any, flags: Any, reason: Any, props: Any) -> None:
            reasons.append(reason)
            answered.set()

        self.client.on_connect = on_connect
        self.client.connect(host, port)
        self.client.loop_start()
        if not answered.wait(10) or reasons[0].is_failure:
            self.close()
            raise AssertionError(f"the broker {host}:{port} did not accept {username!r}: "
                                 f"{reasons[0] if reasons else 'no CONNACK within 10 s'}")

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)
        if not info.is_published():
            raise AssertionError(f"no PUBACK for {topic} within 10 s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def client_for(dsn: str, *, user: str | None = ADMIN
                     ) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the API over the database at `dsn`, inside the app's lifespan,
    signed in as `user` (an admin, made if missing; None: anonymous, e.g. for a database
    that cannot be reached)."""
    app = create_app(dsn)
    headers = await user_headers(dsn, user) if user is not None else {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scg",
                                     headers=headers) as client:
            yield client
