"""The MQTT consumer: receive uplink messages, write them in batches, acknowledge after commit.

paho-mqtt runs its network loop in its own thread with manual acknowledgements and a
persistent MQTT v5 session, so the broker keeps (and redelivers) everything not yet
acknowledged while ingest is down, restarting or failing to write. paho's thread reads
the connection in large chunks and hands over the publishes of each chunk as one group
(`ingest.mqtt_client`); they cross to asyncio through an `Inbox` that wakes the loop once
per batch, not once per message; a batcher groups and decodes them while the previous
batch is being committed, two writers commit batches (`write_batch`), each on its own
connection, and only then are their PUBACKs sent, in the order the messages came, a
batch's as one write (`ingest.commit_order`, which also writes alone a batch whose result
could depend on the order of commits). A duplicate redelivery is dropped by
`(gateway, seq)`.

No message content can stop it: whatever fails while decoding or writing one message sets
that message aside in `dead_letters`, acknowledged like the rest (`ingest.isolation`); only
an unreachable or failing database is waited out, and a lost broker is reconnected by paho.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import sys
import time
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

import asyncpg
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.commit_order import WRITERS, OrderedCommits
from ingest.consumer_settings import ConsumerError, ConsumerSettings, Counters
from ingest.gc_tuning import young_objects_collected_less_often
from ingest.handoff import Inbox
from ingest.isolation import PendingBatch, is_database_trouble, write_setting_aside_poison
from ingest.messages import decode_message
from ingest.metrics import IngestMetrics
from ingest.mqtt_client import IngestClient, Publish
from ingest.schema.dsn import redact
from ingest.schema.migrate import pending
from ingest.writer import depends_on_arrival_order
from telemetry.tls import TlsNames, TlsSetupError, client_context, explain_failure

__all__ = ["WRITERS", "Consumer", "ConsumerError", "ConsumerSettings", "Counters"]

log = logging.getLogger(__name__)
TLS_NAMES: Final = TlsNames("--tls-ca-file", "--tls-cert-file", "--tls-key-file")

#: Messages decoded between two yields to the event loop (see `Consumer._decode`).
DECODE_SLICE: Final = 50
#: Longest wait on stopping for the last PUBACKs to leave: paho may close the connection
#: with them still queued, and the broker would then send those messages again.
ACK_FLUSH_WAIT: Final = 1.0


class _Delivery(NamedTuple):
    """One message as paho handed it over, with the connection it came on and when (a
    tuple: built once per message on paho's thread, where every microsecond counts)."""

    generation: int
    received_at: datetime
    publish: Publish


_new_delivery: Final = tuple.__new__  # NamedTuple's own __new__ is a Python-level call


class _Batch(NamedTuple):
    """Deliveries and what decoding made of them, on their way to a writer."""

    deliveries: list[_Delivery]
    pending: PendingBatch


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
        self._inbox: Inbox[_Delivery] = Inbox()
        self._stopping = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._client: IngestClient | None = None
        # Bumped on every connect and disconnect: a PUBACK is only sent on the connection
        # that delivered the message, never for a packet id the broker may have reused.
        self._generation = 0
        self._broker_up: bool | None = None
        self._db_failing = False
        self._last_stats = time.monotonic()
        #: Prometheus metrics, read from `counters` (`ingest.metrics`; served by the command).
        self.metrics = IngestMetrics(self)

    @property
    def broker_connected(self) -> bool:
        return self._broker_up is True

    @property
    def database_writing(self) -> bool:
        return not self._db_failing

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Connect, consume until stop(), then flush and disconnect cleanly."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._inbox.bind(loop)
        tls = self._tls_context()  # a bad certificate file is a ConsumerError, at once
        pool = await self._open_pool()
        client = self._client = self._make_client(tls)
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
            with young_objects_collected_less_often():
                await self._consume(pool)
        finally:
            self._generation += 1
            await loop.run_in_executor(None, client.wait_written, ACK_FLUSH_WAIT)
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
            self._inbox.wake()

    async def wait_subscribed(self) -> None:
        """Return once the broker has acknowledged the subscription (wrap in a timeout)."""
        await self._subscribed.wait()

    async def _open_pool(self) -> asyncpg.Pool:
        url = self.settings.database_url
        # min_size=0: no background reconnect attempts (and their tracebacks) while the
        # database is away; the write loop retries on its own schedule. command_timeout
        # turns a hung connection into an error that is retried.
        pool = await asyncpg.create_pool(url, min_size=0, max_size=WRITERS, timeout=10,
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

    def _tls_context(self) -> ssl.SSLContext | None:
        s = self.settings
        if s.tls_ca_file is None:
            return None
        try:
            return client_context(s.tls_ca_file, s.tls_cert_file, s.tls_key_file, TLS_NAMES)
        except TlsSetupError as exc:
            raise ConsumerError(str(exc)) from None

    def _make_client(self, tls: ssl.SSLContext | None) -> IngestClient:
        s = self.settings
        client = IngestClient(CallbackAPIVersion.VERSION2, client_id=s.client_id,
                              protocol=mqtt.MQTTv5, manual_ack=True)
        if s.username:
            client.username_pw_set(s.username, s.password)
        if tls is not None:
            client.tls_set_context(tls)
        client.on_connect_fail = self._on_connect_fail
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_publishes = self._on_publishes
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

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        """paho calls this inside its `except OSError` around connecting (refused, TLS
        handshake failed): say why, once per outage, with the setting to change."""
        exc = sys.exc_info()[1]
        if self._broker_up is not False:
            text = str(exc) if exc is not None else "connection failed"
            log.warning("cannot connect to the broker %s:%d: %s; retrying",
                        self.settings.broker_host, self.settings.broker_port,
                        explain_failure(text, TLS_NAMES) or text)
        self._broker_up = False

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self._generation += 1
        if self._broker_up is None and self.settings.tls_ca_file is not None:
            # A TLS 1.3 broker refuses a client certificate just after the handshake.
            log.warning("the broker %s:%d closed the connection before accepting it (%s); "
                        "if it requires a client certificate, set --tls-cert-file and "
                        "--tls-key-file", self.settings.broker_host,
                        self.settings.broker_port, reason)
            self._broker_up = False
        if self._broker_up and not self._stopping.is_set():
            log.warning("lost the broker %s:%d (%s); reconnecting, unacknowledged messages "
                        "will be redelivered", self.settings.broker_host,
                        self.settings.broker_port, reason)
            self._broker_up = False

    def _on_publishes(self, publishes: list[Publish]) -> None:
        """The publishes of one read from the socket: one time and one generation for all."""
        stamp = (self._generation, datetime.now(UTC))
        self._inbox.put_many([_new_delivery(_Delivery, (*stamp, p)) for p in publishes])

    # ------------------------------------------------------------ asyncio side

    async def _consume(self, pool: asyncpg.Pool) -> None:
        """Batch and decode here, commit on the other side of a one-slot handoff with
        `WRITERS` transactions at once: the next batch is decoded while the database
        commits the last ones, and each batch is acknowledged only after it and every
        batch received before it were committed (`ingest.commit_order`)."""

        async def commit(batch: _Batch) -> bool:
            written = await self._write(pool, batch.deliveries, batch.pending)
            if time.monotonic() - self._last_stats >= self.settings.stats_every:
                self._log_stats()
            return written

        async with OrderedCommits(commit, lambda b: self._ack(b.deliveries)) as commits:
            while commits.running:
                batch, stop = await self._inbox.next_batch(
                    self.settings.batch_max, self.settings.batch_wait, self._stopping)
                if batch:
                    decoded = await self._decode(batch)
                    await commits.submit(_Batch(batch, decoded),
                                         ordered=depends_on_arrival_order(decoded.todo))
                if stop:
                    break

    async def _decode(self, batch: list[_Delivery]) -> PendingBatch:
        """Decode in slices, yielding to the loop between them: the writer's database
        round trips for the previous batch are answered between slices instead of after
        the whole batch, so decoding and committing overlap."""
        self.counters.received += len(batch)
        lim = self.settings.limits
        decoded = []
        for start in range(0, len(batch), DECODE_SLICE):
            # decode_message never raises: a decoder failure comes back as the message's
            # error.
            decoded += [decode_message(d.publish.topic, d.publish.payload, now=d.received_at,
                                       limits=lim)
                        for d in batch[start:start + DECODE_SLICE]]
            await asyncio.sleep(0)
        return PendingBatch(decoded)

    async def _write(self, pool: asyncpg.Pool, batch: list[_Delivery],
                     pending: PendingBatch) -> bool:
        """Commit the batch, retrying with backoff on database trouble; False if stopped.

        A message whose content makes decoding or writing fail is set aside as a dead
        letter (`ingest.isolation`) and acknowledged with the rest; only trouble with the
        database itself keeps the batch unacknowledged.
        """
        delay = self.settings.retry_min
        while True:
            try:
                started = time.perf_counter()
                result = await write_setting_aside_poison(pool, pending)
                self.metrics.batch_written(time.perf_counter() - started)
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
        generation = self._generation
        # An older generation's packet id may already name another message: leave it,
        # the broker redelivers and the duplicate is dropped by seq.
        mids = [d.publish.mid for d in batch
                if d.publish.qos > 0 and d.generation == generation]
        client.ack_many(mids)
        self.counters.acked += len(mids)

    def _log_stats(self) -> None:
        self._last_stats = time.monotonic()
        c = self.counters
        log.info("ingest totals: received %d messages, wrote %d envelopes (%d items), "
                 "%d duplicates, %d dead letters, %d gateway statuses, %d alarms opened, "
                 "%d database errors", c.received, c.written, c.items, c.duplicates,
                 c.dead_letters, c.statuses, c.totals.alarms_opened, c.db_errors)
