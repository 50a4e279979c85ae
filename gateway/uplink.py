"""Publishes the spool north: numbered envelopes at QoS 1, a window of envelopes awaiting
PUBACK, the gateway's birth / last-will status, and an explicit reconnect loop.

Each connection is a fresh clean-session client. After it connects the uplink publishes
`online` (retained), re-sends every envelope numbered but never acknowledged with its
old seq, then sends new batches as the spool fills. An item leaves the spool only when
the broker has acknowledged the envelope that carried it, so a lost connection, a
broker restart or a gateway restart loses nothing (ingest drops the duplicates by seq).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import aiomqtt

from gateway.brokerlink import BrokerRefused, PahoLines, connect, explain
from gateway.config import UplinkConfig
from gateway.spool import Batch, Spool
from telemetry import GatewayStatus, encode_raw_items, encode_status, status_topic, uplink_topic
from telemetry.backoff import Backoff
from telemetry.tls import TlsSetupError


def software_version() -> str | None:
    """This gateway's release as installed (the `scg` package's metadata), which its status
    messages name so that the centre shows which edge box runs what; None if not installed
    as a package."""
    try:
        return importlib.metadata.version("scg")
    except importlib.metadata.PackageNotFoundError:
        return None


SOFTWARE_VERSION = software_version()

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT = 10.0
_STABLE_SESSION = 10.0  # seconds a connection must last before the backoff starts over


class UplinkLost(Exception):
    """The connection to the central broker broke (or a publish was not acknowledged)."""


class Uplink:
    """The gateway's MQTT connection to the central broker. `run()` returns only when
    cancelled; on cancel it publishes `offline` itself, then disconnects cleanly."""

    def __init__(self, settings: UplinkConfig, community: str, gateway: str, spool: Spool, *,
                 batch_items: int = 500, max_inflight: int = 20,
                 stop_timeout: float = 5.0) -> None:
        self.settings = settings
        self.community = community
        self.gateway = gateway
        self.spool = spool
        self.batch_items = batch_items
        self.max_inflight = max_inflight
        self.stop_timeout = stop_timeout
        self.status_topic = status_topic(community, gateway)
        self._topics = {s: uplink_topic(community, gateway, s)
                        for s in ("telemetry", "events", "state", "meta")}
        self._connected = False
        self._down_since: float | None = None
        self._down_reasons: set[str] = set()
        self._session_start: float | None = None
        self._attempts = 0
        self._paho_lines = PahoLines()
        #: Envelopes acknowledged by the broker since start (for tests and self-readings).
        self.acked = 0
        #: Called on every connect, after the birth message (the gateway reports on itself).
        self.on_connected: Callable[[], None] | None = None

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def endpoint(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    async def run(self) -> None:
        backoff = Backoff(self.settings.reconnect_min, self.settings.reconnect_max, jitter=0.2)
        loop = asyncio.get_running_loop()
        while True:
            self._session_start = None
            try:
                await self._session()
                reason = "the session ended"
            except (aiomqtt.MqttError, UplinkLost, BrokerRefused) as exc:
                reason = explain(exc, self.settings, self._paho_lines)
            except TlsSetupError as exc:  # the files changed since the config was checked
                reason = str(exc)
            except Exception as exc:  # a bug must not end the uplink; retry and say so
                log.exception("uplink to %s failed unexpectedly", self.endpoint)
                reason = f"{type(exc).__name__}: {exc}"
            if self._session_start is not None and \
                    loop.time() - self._session_start >= _STABLE_SESSION:
                # A session that lasted is a fresh start; one that drops at once (another
                # gateway with our client id, a broker refusing us) keeps backing off.
                backoff.reset()
            delay = backoff.next()
            self._attempts += 1
            if self._down_since is None:
                self._down_since = loop.time()
                self._down_reasons = {reason}
                log.warning("uplink to %s is down: %s; retrying with backoff from %g s up to "
                            "%g s, items wait in the spool", self.endpoint, reason,
                            self.settings.reconnect_min, self.settings.reconnect_max)
            elif reason not in self._down_reasons:
                # Each new reason once (the installer's fix may have changed it; an outage
                # usually goes from "connection lost" to "refused"): one warning an outage.
                self._down_reasons.add(reason)
                log.info("uplink to %s is still down, now: %s", self.endpoint, reason)
            else:
                log.debug("uplink to %s: attempt %d failed: %s; next in %.2f s",
                          self.endpoint, self._attempts, reason, delay)
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        """One connection: birth, re-send the unacknowledged, then send as the spool fills."""
        offline = encode_status(GatewayStatus(self.community, self.gateway, False,
                                              datetime.now(UTC), SOFTWARE_VERSION))
        client = aiomqtt.Client(
            self.settings.host, self.settings.port,
            identifier=self.settings.client_id or None,
            username=self.settings.username, password=self.settings.password,
            tls_context=self.settings.tls.context() if self.settings.tls else None,
            logger=self._paho_lines,
            keepalive=self.settings.keepalive, clean_session=True,
            will=aiomqtt.Will(self.status_topic, offline, qos=1, retain=True),
            # one slot more than our window, so the offline status on stop is never queued
            # behind cancelled publishes
            max_inflight_messages=self.max_inflight + 1,
            timeout=_CONNECT_TIMEOUT,
        )
        # aiomqtt warns once the number of pending calls passes this; a full window is normal.
        client.pending_calls_threshold = self.max_inflight + 2
        async with contextlib.AsyncExitStack() as stack:
            await connect(stack, client, self._paho_lines)
            self._on_connected()
            try:
                await self._publish_status(client, online=True,
                                           wait=self.settings.publish_timeout)
                if self.on_connected is not None:
                    self.on_connected()
                await self._pump(client)
            except asyncio.CancelledError:
                await self._say_offline(client)
                raise
            finally:
                self._connected = False

    def _on_connected(self) -> None:
        self._connected = True
        self._session_start = asyncio.get_running_loop().time()
        if self._down_since is not None:
            down = asyncio.get_running_loop().time() - self._down_since
            log.info("uplink to %s is back after %.1f s (%d attempts); sending what the "
                     "spool holds (%d items)", self.endpoint, down, self._attempts,
                     self.spool.stats().items)
        else:
            log.info("uplink connected to %s as %s", self.endpoint, self.settings.client_id)
        self._down_since = None
        self._attempts = 0

    async def _pump(self, client: aiomqtt.Client) -> None:
        slots = asyncio.Semaphore(self.max_inflight)
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._watch(client))
                for old in self.spool.unacked():
                    await slots.acquire()
                    tasks.create_task(self._send(client, slots, old))
                while True:
                    # Take a slot before numbering a batch: items stay unnumbered (and can
                    # still be overtaken by alarms, or evicted) until they can really go.
                    await slots.acquire()
                    batch = self.spool.next_batch(self.batch_items)
                    while batch is None:
                        self.spool.ready.clear()
                        await self.spool.ready.wait()
                        batch = self.spool.next_batch(self.batch_items)
                    tasks.create_task(self._send(client, slots, batch))
        except* (aiomqtt.MqttError, UplinkLost) as group:
            raise UplinkLost(_first_message(group)) from None

    async def _send(self, client: aiomqtt.Client, slots: asyncio.Semaphore, batch: Batch) -> None:
        payload = encode_raw_items(self.community, self.gateway, batch.seq, datetime.now(UTC),
                                   batch.bodies)
        try:
            await client.publish(self._topics[batch.stream], payload, qos=1,
                                 timeout=self.settings.publish_timeout)
        except aiomqtt.MqttError as exc:
            raise UplinkLost(f"envelope {batch.seq} was not acknowledged: {exc}") from None
        self.spool.ack(batch.seq)
        self.acked += 1
        slots.release()

    @staticmethod
    async def _watch(client: aiomqtt.Client) -> None:
        """Raise as soon as the connection drops (aiomqtt's publish would only time out)."""
        try:
            async for _message in client.messages:
                pass  # nothing is subscribed; the iterator exists to report the disconnect
        except aiomqtt.MqttError as exc:
            raise UplinkLost(f"connection lost: {exc.__cause__ or exc}") from None
        raise UplinkLost("connection closed")

    async def _publish_status(self, client: aiomqtt.Client, *, online: bool,
                              wait: float) -> None:
        payload = encode_status(GatewayStatus(self.community, self.gateway, online,
                                              datetime.now(UTC), SOFTWARE_VERSION))
        await client.publish(self.status_topic, payload, qos=1, retain=True, timeout=wait)

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        """On a graceful stop the clean DISCONNECT suppresses the will, so say it ourselves."""
        try:
            async with asyncio.timeout(self.stop_timeout):
                await self._publish_status(client, online=False, wait=self.stop_timeout)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            log.warning("could not publish the offline status to %s on stop: %s",
                        self.endpoint, exc)


def _first_message(group: BaseExceptionGroup[BaseException]) -> str:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_message(exc)
        return str(exc) or type(exc).__name__
    return "the connection broke"
