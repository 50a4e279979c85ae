"""The MQTT consumer: receive uplink messages, write them in batches, acknowledge after commit.

paho-mqtt runs its network loop in its own thread with manual acknowledgements and a
persistent MQTT v5 session, so the broker keeps (and redelivers) everything not yet
acknowledged while ingest is down, restarting or failing to write. Messages cross to
asyncio with `call_soon_threadsafe`; a batcher groups them, `write_batch` commits them,
and only then are their PUBACKs sent. A duplicate redelivery is dropped by `(gateway, seq)`.

No message content can stop it: whatever fails while decoding or writing one message sets
that message aside in `dead_letters`, acknowledged like the rest (`ingest.isolation`); only
an unreachable or failing database is waited out, and a lost broker is reconnected by paho.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.isolation import PendingBatch, is_database_trouble, write_setting_aside_poison
from ingest.messages import decode_message
from ingest.schema.dsn import redact
from ingest.schema.migrate import pending
from ingest.writer import WriteResult
from telemetry import DEFAULT_LIMITS, UPLINK_FILTER, Limits

log = logging.getLogger(__name__)

_STOP: Final = object()  # queue sentinel that wakes the batcher when stop() is called


class ConsumerError(RuntimeError):
    """The consumer cannot start (database unreachable or not migrated); the message says why."""


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    database_url: str
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    #: Fixed, so the broker recognises the session after a restart and replays its queue.
    client_id: str = "scg-ingest"
    #: Subscribe as `$share/{shared_group}/...` so that several workers split the stream.
    shared: bool = False
    shared_group: str = "scg-ingest"
    username: str | None = None
    password: str | None = None
    keepalive: int = 30
    batch_max: int = 500
    batch_wait: float = 0.2
    #: Unacknowledged messages the broker may have in flight to us: room to form batches.
    receive_maximum: int = 1000
    #: How long the broker keeps our session (and queues for it) while we are away.
    session_expiry: int = 30 * 24 * 3600
    retry_min: float = 0.5
    retry_max: float = 30.0
    stats_every: float = 60.0
    limits: Limits = DEFAULT_LIMITS

    @property
    def topic_filter(self) -> str:
        if self.shared:
            return f"$share/{self.shared_group}/{UPLINK_FILTER}"
        return UPLINK_FILTER


@dataclass(slots=True)
class Counters:
    """Running totals since start; `written` counts fresh envelopes committed."""

    received: int = 0
    written: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    statuses: int = 0
    items: int = 0
    acked: int = 0
    batches: int = 0
    db_errors: int = 0
    totals: WriteResult = field(default_factory=WriteResult)


@dataclass(frozen=True, slots=True)
class _Delivery:
    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: datetime


class Consumer:
    """One ingest worker. `await run()` until `stop()`; `subscribed` is set once subscribed.

    In-process use (tests, demo):

        consumer = Consumer(ConsumerSettings(database_url=dsn, broker_port=port))
        task = asyncio.create_task(consumer.run())
        async with asyncio.timeout(10):
            await consumer.wait_subscribed()
        ...
        consumer.stop(); await task
    """

    def __init__(self, settings: ConsumerSettings) -> None:
        self.settings = settings
        self.counters = Counters()
        self._loop: asyncio.AbstractEventLoop | None = None
        # asyncio primitives bind to the running loop on first use, so they can live here.
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._stopping = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._client: mqtt.Client | None = None
        # Bumped on every connect and disconnect: a PUBACK is only sent on the connection
        # that delivered the message, never for a packet id the broker may have reused.
        self._generation = 0
        self._broker_up: bool | None = None
        self._db_failing = False

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Connect, consume until stop(), then flush and disconnect cleanly."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        pool = await self._open_pool()
        client = self._client = self._make_client()
        s = self.settings
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = s.session_expiry
        props.ReceiveMaximum = s.receive_maximum
        client.connect_async(s.broker_host, s.broker_port, keepalive=s.keepalive,
                             clean_start=False, properties=props)
        client.loop_start()
        log.info("ingest consuming %s from %s:%d as %r (batches of up to %d / %.0f ms)",
                 s.topic_filter, s.broker_host, s.broker_port, s.client_id, s.batch_max,
                 s.batch_wait * 1000)
        try:
            await self._consume(pool)
        finally:
            self._generation += 1
            client.disconnect()
            await loop.run_in_executor(None, client.loop_stop)
            await pool.close()
            self._log_stats()

    def stop(self) -> None:
        """Ask run() to finish the batch in hand, acknowledge it and return. Thread-safe."""
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._request_stop)

    def _request_stop(self) -> None:
        if not self._stopping.is_set():
            self._stopping.set()
            self._queue.put_nowait(_STOP)

    async def wait_subscribed(self) -> None:
        """Return once the broker has acknowledged the subscription (wrap in a timeout)."""
        await self._subscribed.wait()

    async def _open_pool(self) -> asyncpg.Pool:
        url = self.settings.database_url
        # min_size=0: no background reconnect attempts (and their tracebacks) while the
        # database is away; the write loop retries on its own schedule. command_timeout
        # turns a hung connection into an error that is retried.
        pool = await asyncpg.create_pool(url, min_size=0, max_size=2, timeout=10,
                                         command_timeout=60)
        try:
            async with pool.acquire() as conn:
                missing = await pending(conn)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            await pool.close()
            raise ConsumerError(f"cannot reach the database at {redact(url)}: {exc}; check "
                                "the URL and that PostgreSQL is running") from None
        if missing:
            await pool.close()
            raise ConsumerError(f"the database at {redact(url)} lacks migrations "
                                f"{', '.join(missing)}; run `scg db migrate` first")
        return pool

    # ------------------------------------------------------------ paho thread

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=s.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        if s.username:
            client.username_pw_set(s.username, s.password)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            if self._broker_up is not False:
                log.warning("broker %s:%d refused the connection: %s", self.settings.broker_host,
                            self.settings.broker_port, reason)
            self._broker_up = False
            return
        self._generation += 1
        if self._broker_up is False:
            log.info("broker %s:%d reachable again", self.settings.broker_host,
                     self.settings.broker_port)
        self._broker_up = True
        if not flags.session_present:
            log.info("broker has no session for %r: starting a new one (messages published "
                     "while no session existed were not queued for ingest)",
                     self.settings.client_id)
        client.subscribe(self.settings.topic_filter, options=SubscribeOptions(qos=1))

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any,
                      properties: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            log.error("broker refused the subscription to %s: %s (check the ACL for this "
                      "user)", self.settings.topic_filter, failed[0])
            return
        log.info("subscribed to %s (QoS 1, client id %r)", self.settings.topic_filter,
                 self.settings.client_id)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._subscribed.set)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self._generation += 1
        if self._broker_up and not self._stopping.is_set():
            log.warning("lost the broker %s:%d (%s); reconnecting, unacknowledged messages "
                        "will be redelivered", self.settings.broker_host,
                        self.settings.broker_port, reason)
            self._broker_up = False

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        delivery = _Delivery(self._generation, msg.mid, msg.qos, msg.topic, bytes(msg.payload),
                             datetime.now(UTC))
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, delivery)

    # ------------------------------------------------------------ asyncio side

    async def _consume(self, pool: asyncpg.Pool) -> None:
        last_stats = time.monotonic()
        while True:
            batch, stop = await self._next_batch()
            if batch and await self._write(pool, batch):
                self._ack(batch)
            if time.monotonic() - last_stats >= self.settings.stats_every:
                self._log_stats()
                last_stats = time.monotonic()
            if stop:
                return

    async def _next_batch(self) -> tuple[list[_Delivery], bool]:
        """Up to batch_max deliveries, waiting at most batch_wait after the first one."""
        assert self._loop is not None
        s = self.settings
        first = await self._queue.get()
        if first is _STOP:
            return [], True
        batch: list[_Delivery] = [first]
        deadline = self._loop.time() + s.batch_wait
        while len(batch) < s.batch_max:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - self._loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    async def _write(self, pool: asyncpg.Pool, batch: list[_Delivery]) -> bool:
        """Commit the batch, retrying with backoff on database trouble; False if stopped.

        A message whose content makes decoding or writing fail is set aside as a dead
        letter (`ingest.isolation`) and acknowledged with the rest; only trouble with the
        database itself keeps the batch unacknowledged.
        """
        self.counters.received += len(batch)
        lim = self.settings.limits
        # decode_message never raises: a decoder failure comes back as the message's error.
        pending = PendingBatch([decode_message(d.topic, d.payload, now=d.received_at,
                                               limits=lim) for d in batch])
        delay = self.settings.retry_min
        while True:
            try:
                result = await write_setting_aside_poison(pool, pending)
                break
            except Exception as exc:
                self.counters.db_errors += 1
                if not self._db_failing:
                    log.error("database write failed (%s: %s); keeping %d messages "
                              "unacknowledged and retrying", type(exc).__name__, exc,
                              len(pending.todo), exc_info=not is_database_trouble(exc))
                    self._db_failing = True
                if self._stopping.is_set():
                    log.warning("stopping with %d messages unwritten; the broker redelivers "
                                "them on the next start", len(pending.todo))
                    return False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, self.settings.retry_max)
        if self._db_failing:
            log.info("database writes succeed again")
            self._db_failing = False
        c = self.counters
        c.batches += 1
        c.written += result.envelopes
        c.duplicates += result.duplicates
        c.dead_letters += result.dead_letters
        c.statuses += result.statuses
        c.items += result.readings + result.events + result.states + result.probes
        c.totals.add(result)
        return True

    def _ack(self, batch: list[_Delivery]) -> None:
        client = self._client
        assert client is not None
        for d in batch:
            # An older generation's packet id may already name another message: leave it,
            # the broker redelivers and the duplicate is dropped by seq.
            if d.qos > 0 and d.generation == self._generation:
                client.ack(d.mid, d.qos)
                self.counters.acked += 1

    def _log_stats(self) -> None:
        c = self.counters
        log.info("ingest totals: received %d messages, wrote %d envelopes (%d items), "
                 "%d duplicates, %d dead letters, %d gateway statuses, %d alarms opened, "
                 "%d database errors", c.received, c.written, c.items, c.duplicates,
                 c.dead_letters, c.statuses, c.totals.alarms_opened, c.db_errors)
