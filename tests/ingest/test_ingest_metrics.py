"""Ingest's /metrics: served by `serve_metrics` beside a running consumer, accepted by
`promtool check metrics`, and moving with what the consumer counts — messages written,
duplicates, dead letters by reason, items by kind, batch write time, the broker link."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from broker_support import login_env
from consumer_support import Running, settings, true
from ingest_support import Publisher, envelope, reading, wait_until
from metrics_support import promtool_check, samples, value

from ingest.metrics import DEAD_LETTER_REASONS, serve_metrics
from scg.localsvc import Mosquitto
from telemetry import uplink_topic

pytestmark = pytest.mark.integration
TOPIC = uplink_topic("demo", "demo-gw1", "telemetry")
REPO = Path(__file__).resolve().parents[2]


def scrape(port: int) -> str:
    r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    r.raise_for_status()
    return r.text


async def test_metrics_follow_what_the_consumer_writes_and_sets_aside(
        migrated: str, broker: Mosquitto, publisher: Publisher,
        db: asyncpg.Connection) -> None:
    async with Running(settings(migrated, broker)) as consumer:
        server = serve_metrics(consumer.metrics.registry, "127.0.0.1", 0)
        try:
            before = samples(await asyncio.to_thread(scrape, server.port))
            good = envelope(1, [reading("light-001"), reading("light-002")])
            for payload in (good, good, b"{not json", envelope(2, [reading("light-001")])):
                await asyncio.to_thread(publisher.publish, TOPIC, payload)
            await wait_until(lambda: true(consumer.counters.acked == 4), what="4 acks")
            text = await asyncio.to_thread(scrape, server.port)
        finally:
            server.close()
    promtool_check(text, "ingest's /metrics")
    found = samples(text)
    for reason in DEAD_LETTER_REASONS:  # every reason is there from the start
        assert value(before, "scg_ingest_messages_total", outcome="dead_letter",
                     reason=reason) == 0
    assert value(before, "scg_ingest_broker_connected") == 1
    assert value(found, "scg_ingest_messages_received_total") == 4
    assert value(found, "scg_ingest_messages_total", outcome="written", reason="") == 2
    assert value(found, "scg_ingest_messages_total", outcome="duplicate", reason="") == 1
    assert value(found, "scg_ingest_messages_total", outcome="dead_letter",
                 reason="malformed_json") == 1
    assert value(found, "scg_ingest_items_total", kind="reading") == 3
    assert value(found, "scg_ingest_messages_acknowledged_total") == 4
    assert value(found, "scg_ingest_database_writing") == 1
    assert value(found, "scg_ingest_batch_write_seconds_count") >= 1
    assert value(found, "scg_ingest_batch_write_seconds_count") == \
        value(found, "scg_ingest_batch_write_seconds_bucket", le="+Inf")


async def test_the_broker_link_is_a_gauge(migrated: str, broker: Mosquitto) -> None:
    async with Running(settings(migrated, broker)) as consumer:
        broker.stop()
        await wait_until(lambda: true(not consumer.broker_connected), what="broker lost")
        assert value(samples(_text(consumer)), "scg_ingest_broker_connected") == 0
        broker.start()
        await wait_until(lambda: true(consumer.broker_connected), within=30,
                         what="broker back")
        assert value(samples(_text(consumer)), "scg_ingest_broker_connected") == 1


def _text(consumer: object) -> str:
    from prometheus_client import generate_latest

    return generate_latest(consumer.metrics.registry).decode()  # type: ignore[attr-defined]


def test_a_taken_metrics_port_is_a_clear_error(migrated: str, broker: Mosquitto) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "scg.cli", "ingest", "run", "--database-url", migrated,
             "--broker", f"{broker.host}:{broker.port}", "--metrics-port", str(port)],
            capture_output=True, text=True, timeout=60, cwd=REPO,
            env=login_env(broker, "scg-ingest"), check=False)
    assert proc.returncode == 2
    assert f"--metrics-host 127.0.0.1 --metrics-port {port}: cannot listen there" in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "scg.cli", "ingest", "run", "--metrics-port",
                          "http"], capture_output=True, text=True, timeout=60, cwd=REPO,
                         check=False)
    assert bad.returncode == 2
    assert "'http' is not a TCP port (1-65535), e.g. 9101" in bad.stderr
