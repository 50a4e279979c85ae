"""The consumer against a real mosquitto and PostgreSQL: every envelope stored exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import asyncpg
import pytest
from broker_support import login_args, login_env
from consumer_support import Running, at_least, count, eq, settings, true
from ingest_support import Publisher, envelope, reading, wait_until

from scg.localsvc import Mosquitto
from scg.localsvc.process import spawn, stop
from telemetry import uplink_topic

pytestmark = pytest.mark.integration
TOPIC = uplink_topic("demo", "demo-gw1", "telemetry")
REPO = Path(__file__).resolve().parents[2]


async def test_published_envelopes_are_written_and_counted(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection) -> None:
    async with Running(settings(migrated, broker)) as consumer:
        for seq in range(1, 21):
            await asyncio.to_thread(publisher.publish, TOPIC,
                                    envelope(seq, [reading("light-001"), reading("light-002")]))
        await wait_until(lambda: eq(count(db, "received_envelopes"), 20), what="20 envelopes")
        await wait_until(lambda: true(consumer.counters.acked == 20), what="20 acks")
    assert await count(db, "readings") == 40
    c = consumer.counters
    assert (c.received, c.written, c.duplicates, c.dead_letters, c.items) == (20, 20, 0, 0, 40)


async def test_topic_naming_another_community_is_dead_lettered_and_neighbours_kept(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection) -> None:
    async with Running(settings(migrated, broker)) as consumer:
        publisher.publish(TOPIC, envelope(1, [reading("light-001")]))
        publisher.publish(TOPIC, envelope(2, [reading("light-002")], community="elsewhere"))
        publisher.publish(TOPIC, envelope(3, [reading("light-003")]))
        await wait_until(lambda: true(consumer.counters.acked == 3), what="3 acks")
    devices = [r["device"] for r in await db.fetch("SELECT device FROM readings ORDER BY 1")]
    assert devices == ["light-001", "light-003"]
    dead = await db.fetchrow("SELECT topic, code, payload FROM dead_letters")
    assert (dead["topic"], dead["code"]) == (TOPIC, "topic_mismatch")
    assert json.loads(dead["payload"])["community"] == "elsewhere"
    assert consumer.counters.dead_letters == 1


async def test_database_refusing_writes_delays_but_loses_nothing(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection) -> None:
    await db.execute("ALTER TABLE readings RENAME TO readings_away")
    async with Running(settings(migrated, broker)) as consumer:
        for seq in (1, 2, 3):
            publisher.publish(TOPIC, envelope(seq, [reading("light-001")]))
        await wait_until(lambda: true(consumer.counters.db_errors >= 2), what="failed writes")
        assert consumer.counters.acked == 0
        assert await count(db, "received_envelopes") == 0  # rolled back as a whole
        await db.execute("ALTER TABLE readings_away RENAME TO readings")
        await wait_until(lambda: true(consumer.counters.acked == 3), what="3 acks after repair")
    assert await count(db, "readings") == 3
    assert await count(db, "dead_letters") == 0  # waited out, not set aside


async def test_a_value_the_database_refuses_becomes_a_dead_letter_not_a_stall(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection) -> None:
    async with Running(settings(migrated, broker, batch_wait=0.3)) as consumer:
        publisher.publish(TOPIC, envelope(1, [reading("light-001")]))
        # A registered device, a metric name PostgreSQL cannot store (text has no NUL).
        publisher.publish(TOPIC, envelope(2, [reading("light-002", metric="power-\x00-w")]))
        publisher.publish(TOPIC, envelope(3, [reading("light-003")]))
        await wait_until(lambda: true(consumer.counters.acked == 3), what="3 acks")
    devices = [r["device"] for r in await db.fetch("SELECT device FROM readings ORDER BY 1")]
    assert devices == ["light-001", "light-003"]
    dead = await db.fetchrow("SELECT code, reason FROM dead_letters")
    assert dead["code"] == "db_rejected"
    assert dead["reason"].startswith("the database refused this message: ")


async def test_after_a_graceful_stop_nothing_is_redelivered(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection) -> None:
    s = settings(migrated, broker, client_id="graceful")
    async with Running(s) as first:
        for seq in range(1, 11):
            publisher.publish(TOPIC, envelope(seq, [reading("light-001")]))
        await wait_until(lambda: true(first.counters.acked == 10), what="10 acks")
    async with Running(s) as second:
        # The broker delivers a session's backlog before new messages: once the marker is
        # in, any unacknowledged message would have come back as a duplicate.
        publisher.publish(TOPIC, envelope(11, [reading("marker")]))
        await wait_until(lambda: eq(count(db, "received_envelopes"), 11), what="the marker")
    assert second.counters.duplicates == 0
    assert second.counters.received == 1


async def test_messages_published_while_ingest_is_stopped_arrive_on_restart(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection) -> None:
    s = settings(migrated, broker, client_id="persistent")
    async with Running(s):
        pass
    for seq in range(1, 31):
        publisher.publish(TOPIC, envelope(seq, [reading("light-001")]))
    async with Running(s):
        await wait_until(lambda: eq(count(db, "received_envelopes"), 30), what="30 envelopes")


async def test_consumer_rides_out_a_broker_restart(
        migrated: str, broker: Mosquitto, db: asyncpg.Connection) -> None:
    async with Running(settings(migrated, broker, client_id="survivor")) as consumer:
        before = Publisher(broker.host, broker.port, **login_args(broker, "demo/demo-gw1"))
        before.publish(TOPIC, envelope(1, [reading("light-001")]))
        before.close()
        await wait_until(lambda: true(consumer.counters.acked == 1), what="the first ack")
        await asyncio.to_thread(broker.restart)
        # Published before ingest is back: the broker restored ingest's session from disk
        # and queues for it.
        after = Publisher(broker.host, broker.port, **login_args(broker, "demo/demo-gw1"))
        after.publish(TOPIC, envelope(2, [reading("light-001")]))
        after.close()
        await wait_until(lambda: eq(count(db, "received_envelopes"), 2), within=15,
                         what="the envelope published across the restart")
    assert consumer.counters.duplicates == 0


# ------------------------------------------------------------ crash and restart

def _start_ingest(dsn: str, broker: Mosquitto, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = dict(login_env(broker, "scg-ingest"), PYTHONUNBUFFERED="1")
    return spawn([sys.executable, "-m", "scg.cli", "ingest", "run", "--database-url", dsn,
                  "--broker", f"{broker.host}:{broker.port}", "--client-id", "crash-test",
                  "--batch-size", "50", "--batch-ms", "20", *extra],
                 log=log, env=env, cwd=REPO)


def _log_position(log: Path, text: str, proc: subprocess.Popen[bytes], after: int) -> int:
    """End of the first `text` in `log` past `after`, or 0; fails if ingest has exited."""
    if proc.poll() is not None:
        raise AssertionError(f"ingest exited with {proc.returncode}:\n{log.read_text()}")
    data = log.read_bytes() if log.exists() else b""
    pos = data.find(text.encode(), after)
    return pos + len(text) if pos >= 0 else 0


async def _wait_log(log: Path, text: str, proc: subprocess.Popen[bytes], after: int = 0) -> int:
    async def seen() -> int:
        return _log_position(log, text, proc, after)
    return int(await wait_until(seen, what=f"{text!r} in {log}"))


@pytest.mark.parametrize("shared", [False, True], ids=["plain", "shared"])
async def test_killed_ingest_restarted_stores_every_envelope_exactly_once(
        shared: bool, migrated: str, broker: Mosquitto, publisher: Publisher,
        db: asyncpg.Connection, tmp_path: Path) -> None:
    per, while_down = 5, 200
    extra = ("--shared",) if shared else ()
    log = tmp_path / "ingest.log"
    sent = [0]
    halt = threading.Event()

    def publish_one() -> None:
        sent[0] += 1
        publisher.publish(TOPIC, envelope(sent[0], [reading(f"light-{i:03d}")
                                                    for i in range(per)]))

    def feed_until_halted() -> None:
        while not halt.is_set():
            publish_one()

    proc = _start_ingest(migrated, broker, log, *extra)
    try:
        mark = await _wait_log(log, "subscribed", proc)
        feeder = threading.Thread(target=feed_until_halted)
        feeder.start()
        try:
            await wait_until(lambda: at_least(count(db, "received_envelopes"), 100),
                             what="100 envelopes before the crash")
            proc.send_signal(signal.SIGKILL)  # mid-stream: no flush, no acks for what is in hand
            proc.wait(5)
        finally:
            halt.set()
            await asyncio.to_thread(feeder.join, 30)
        for _ in range(while_down):
            await asyncio.to_thread(publish_one)
        total = sent[0]
        proc = _start_ingest(migrated, broker, log, *extra)
        await _wait_log(log, "subscribed", proc, after=mark)
        await wait_until(lambda: eq(count(db, "received_envelopes"), total), within=20,
                         what=f"{total} envelopes after the restart")
    finally:
        stop(proc)
    assert await count(db, "readings") == total * per
