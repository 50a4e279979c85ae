"""Ingest's Prometheus metrics, read from the counts the consumer already keeps.

The consumer counts what it received, wrote, dropped as duplicate and set aside (its
`Counters`, which it also logs); a collector turns them into metrics when Prometheus
scrapes, so there is no second bookkeeping to drift from the first. Only the write
latency needs an observation per batch (`batch_written`). Labels are bounded: an outcome,
a dead-letter code, an item kind — never a community, a gateway or a device.

    scg_ingest_messages_received_total
    scg_ingest_messages_total{outcome="written|duplicate|status|dead_letter",reason}
    scg_ingest_items_total{kind}, scg_ingest_items_rejected_total
    scg_ingest_messages_acknowledged_total, scg_ingest_alarms_total{change}
    scg_ingest_database_errors_total, scg_ingest_database_writing (0 while writes fail)
    scg_ingest_batch_write_seconds (histogram), scg_ingest_broker_connected

A message whose items were partly rejected counts as `written` and as a `dead_letter`
with reason `items_rejected`: both happened to it.

`serve_metrics` answers GET /metrics on a thread of prometheus-client's own HTTP server
(`scg ingest run --metrics-port`); the collector only reads numbers the event loop writes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Final, Protocol
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.consumer_settings import Counters

log = logging.getLogger(__name__)

#: Every code a dead letter may carry today, shown from the start (at 0) so that
#: `increase()` sees the first one; a code added later appears when first counted.
DEAD_LETTER_REASONS: Final = (
    "malformed", "malformed_json", "too_deep", "oversize", "unknown_version",
    "topic_mismatch", "bad_topic", "unknown_gateway", "items_rejected", "internal_error",
    "db_rejected")
#: Seconds per batch commit: a few ms for a handful of messages, seconds for 500 under load.
WRITE_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class CountingConsumer(Protocol):
    """What the collector reads of the consumer."""

    counters: Counters

    @property
    def broker_connected(self) -> bool: ...

    @property
    def database_writing(self) -> bool: ...


class IngestMetrics:
    """The registry of one ingest worker."""

    def __init__(self, consumer: CountingConsumer) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.batch_write_seconds = Histogram(
            "scg_ingest_batch_write_seconds",
            "Time to commit one batch of messages (the attempt that succeeded).",
            buckets=WRITE_BUCKETS, registry=self.registry)
        self.registry.register(_ConsumerCollector(consumer))

    def batch_written(self, seconds: float) -> None:
        self.batch_write_seconds.observe(seconds)


class _ConsumerCollector(Collector):
    def __init__(self, consumer: CountingConsumer) -> None:
        self.consumer = consumer

    def collect(self) -> Iterator[Metric]:
        c = self.consumer.counters
        t = c.totals
        yield _counter("scg_ingest_messages_received", "MQTT messages received on the "
                       "uplink topics.", c.received)
        messages = CounterMetricFamily(
            "scg_ingest_messages", "Messages by what became of them: written (a fresh "
            "envelope), duplicate (its seq was stored before), status (a gateway's birth or "
            "last will), dead_letter (kept in dead_letters, by reason).",
            labels=["outcome", "reason"])
        messages.add_metric(["written", ""], c.written)
        messages.add_metric(["duplicate", ""], c.duplicates)
        messages.add_metric(["status", ""], c.statuses)
        codes = dict(t.dead_letter_codes)  # one C-level copy: the loop may replace it
        for reason in dict.fromkeys((*DEAD_LETTER_REASONS, *sorted(codes))):
            messages.add_metric(["dead_letter", reason], codes.get(reason, 0))
        yield messages
        items = CounterMetricFamily("scg_ingest_items", "Items stored, by kind.",
                                    labels=["kind"])
        for kind, count in (("reading", t.readings), ("event", t.events),
                            ("state", t.states), ("probe", t.probes)):
            items.add_metric([kind], count)
        yield items
        yield _counter("scg_ingest_items_rejected", "Items rejected inside otherwise valid "
                       "envelopes (summarised on the message's dead letter).", t.rejected_items)
        yield _counter("scg_ingest_messages_acknowledged", "Messages acknowledged to the "
                       "broker after their batch was committed.", c.acked)
        alarms = CounterMetricFamily("scg_ingest_alarms", "Alarms opened and cleared by "
                                     "the events written.", labels=["change"])
        alarms.add_metric(["opened"], t.alarms_opened)
        alarms.add_metric(["cleared"], t.alarms_cleared)
        yield alarms
        yield _counter("scg_ingest_database_errors", "Failed attempts to commit a batch "
                       "(each is retried).", c.db_errors)
        yield GaugeMetricFamily("scg_ingest_database_writing", "1 while batches commit, 0 "
                                "while writes fail and are retried.",
                                value=int(self.consumer.database_writing))
        yield GaugeMetricFamily("scg_ingest_broker_connected", "1 while connected to the "
                                "central broker.", value=int(self.consumer.broker_connected))


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


class MetricsServer:
    """prometheus-client's HTTP server on a thread of its own, answering GET /metrics."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> MetricsServer:
    """Answer GET /metrics on `host`:`port` (0: a free port); OSError when it cannot listen."""
    server, thread = start_http_server(port, host, registry)
    served = MetricsServer(server, thread)
    log.info("serving metrics at http://%s:%d/metrics", _url_host(host), served.port)
    return served


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
