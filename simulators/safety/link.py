"""One MQTT connection shared by a whole fleet: reconnects with a doubling delay, hands
incoming messages to a callback, and tells the caller which publishes the broker
acknowledged (PUBACK) and which it never did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import aiomqtt

from telemetry.backoff import Backoff

log = logging.getLogger(__name__)


class MqttLink:
    def __init__(self, host: str, port: int, *, subscriptions: Sequence[str],
                 on_message: Callable[[str, bytes], None], what: str,
                 username: str | None = None, password: str | None = None,
                 client_id: str | None = None, keepalive: int = 30,
                 reconnect_min: float = 0.5, reconnect_max: float = 30.0,
                 ack_timeout: float = 10.0, max_pending: int = 100) -> None:
        self.host, self.port = host, port
        self.subscriptions = list(subscriptions)
        self.what = what  # "12 safety devices", for the log
        self.ack_timeout = ack_timeout
        self._on_message = on_message
        self._login = (username, password, client_id, keepalive)
        self._max_pending = max_pending
        self._backoff = Backoff(reconnect_min, reconnect_max)
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._connected_once = False
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def wait_connected(self) -> None:
        await self._connected.wait()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"mqtt-link {self.what}")

    async def stop(self) -> None:
        """Wait for outstanding acknowledgements (while connected), then disconnect."""
        if self._inflight and self._client is not None:
            await asyncio.wait(set(self._inflight), timeout=self.ack_timeout + 1)
        for task in set(self._inflight):  # no connection: no acknowledgement will come
            task.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def publish(self, topic: str, payload: bytes, *, acked: Callable[[], None],
                lost: Callable[[str], None]) -> bool:
        """Publish at QoS 1 from inside the event loop; False at once when not connected.
        `acked` runs on the PUBACK, `lost` (with the reason) when none comes."""
        client = self._client
        if client is None:
            return False
        task = asyncio.get_running_loop().create_task(
            self._publish(client, topic, payload, acked, lost))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return True

    async def _publish(self, client: aiomqtt.Client, topic: str, payload: bytes,
                       acked: Callable[[], None], lost: Callable[[str], None]) -> None:
        # Not cancelled on disconnect: a PUBACK that already arrived must still be counted,
        # and one that never comes ends in the timeout (the old client is gone by then).
        try:
            await client.publish(topic, payload, qos=1, timeout=self.ack_timeout)
        except aiomqtt.MqttError as exc:
            lost(str(exc))
            return
        acked()

    def _deliver(self, topic: str, payload: bytes) -> None:
        try:
            self._on_message(topic, payload)
        except Exception:
            # A bug in handling one message must not take the whole fleet off the air.
            log.exception("%s: could not handle a message on %s; continuing", self.what, topic)

    async def _loop(self) -> None:
        username, password, client_id, keepalive = self._login
        lost = False
        while True:
            try:
                async with aiomqtt.Client(
                    self.host, self.port, username=username, password=password,
                    identifier=client_id, clean_session=True, keepalive=keepalive,
                ) as client:
                    # Many devices may await their PUBACK at once; that is normal.
                    client.pending_calls_threshold = self._max_pending
                    for topic in self.subscriptions:
                        await client.subscribe(topic, qos=1)
                    self._client = client
                    self._connected_once = True
                    self._connected.set()
                    self._backoff.reset()
                    log.info("%s %s to mqtt://%s:%d", "reconnected" if lost else "connected",
                             self.what, self.host, self.port)
                    lost = False
                    async for message in client.messages:
                        payload = message.payload
                        self._deliver(str(message.topic), payload if isinstance(payload, bytes)
                                      else str(payload or "").encode())
            except aiomqtt.MqttError as exc:
                if not lost:
                    log.warning("%s %s mqtt://%s:%d (%s); retrying with a delay doubling up "
                                "to %g s", self.what,
                                "lost" if self._connected_once else "cannot reach",
                                self.host, self.port, exc, self._backoff.ceiling)
                lost = True
            finally:
                self._client = None
                self._connected.clear()
            await asyncio.sleep(self._backoff.next())
