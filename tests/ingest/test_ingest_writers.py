"""Two batches committed at once: a batch whose commit waits does not hold back the next
one's, yet no message is acknowledged before every message received before it is
committed."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from broker_support import login_args
from consumer_support import Running, eq, settings, true
from ingest_support import Publisher, envelope, reading, wait_until

from ingest.consumer import WRITERS
from scg.localsvc import Mosquitto
from telemetry import uplink_topic

pytestmark = pytest.mark.integration
TOPIC = uplink_topic("demo", "demo-gw1", "telemetry")
OTHER_TOPIC = uplink_topic("demo", "demo-gw2", "telemetry")


async def _readings_of(db: asyncpg.Connection, device: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM readings WHERE device = $1", device))


async def _waiting_on_a_lock(db: asyncpg.Connection) -> bool:
    return bool(await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"))


async def test_a_later_batch_commits_while_an_earlier_one_waits_but_is_acked_after_it(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection,
        ) -> None:
    assert WRITERS >= 2
    async with Running(settings(migrated, broker)) as consumer:
        acks: list[list[int]] = []
        client: Any = consumer._client
        real_ack_many = client.ack_many
        client.ack_many = lambda mids: (acks.append(list(mids)), real_ack_many(mids))
        await asyncio.to_thread(publisher.publish, TOPIC,
                                envelope(1, [reading("light-001")]))
        await wait_until(lambda: true(consumer.counters.acked == 1), what="the first ack")
        # Hold light-001's latest-value row: the next batch that reports it must wait.
        blocker = await asyncpg.connect(migrated)
        try:
            held = blocker.transaction()
            await held.start()
            await blocker.execute("SELECT 1 FROM device_status WHERE device = 'light-001' "
                                  "FOR UPDATE")
            await asyncio.to_thread(publisher.publish, TOPIC,
                                    envelope(2, [reading("light-001")]))
            await wait_until(lambda: _waiting_on_a_lock(db), what="a writer held by the lock")
            # Another gateway's envelope (the two share no row): the other writer commits
            # it meanwhile, and acknowledges nothing yet.
            other = Publisher(broker.host, broker.port, "test-publisher-2",
                              **login_args(broker, "demo/demo-gw2"))
            try:
                await asyncio.to_thread(other.publish, OTHER_TOPIC, envelope(
                    1, [reading("light-201")], gateway="demo-gw2"))
            finally:
                other.close()
            await wait_until(lambda: eq(_readings_of(db, "light-201"), 1),
                             what="the other gateway's envelope committed")
            assert await _readings_of(db, "light-001") == 1
            assert consumer.counters.acked == 1
            await held.rollback()
        finally:
            await blocker.close()
        await wait_until(lambda: true(consumer.counters.acked == 3), what="all three acked")
    assert await _readings_of(db, "light-001") == 2
    # One PUBACK write per batch, in the order the messages came.
    assert [len(group) for group in acks] == [1, 1, 1]
    assert [group[0] for group in acks] == sorted(group[0] for group in acks)
