"""Batches whose outcome depends on the order of commits are written alone: an alarm's
clearing event that arrives after its opening event clears it even when the opening batch
is held up in the database, where two writers would otherwise commit the clear first and
leave the alarm open for good. Which batches those are is decided from what they hold."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from consumer_support import Running, eq, settings, true
from ingest_support import (
    T0,
    Publisher,
    envelope,
    event,
    msg,
    reading,
    state,
    status_msg,
    wait_until,
)

from ingest.writer import depends_on_arrival_order
from scg.localsvc import Mosquitto
from telemetry import DeviceState, Event, Severity, uplink_topic

TOPIC = uplink_topic("demo", "demo-gw1", "telemetry")


def _clearing(device: str, t: Any) -> Event:
    return Event(device, "lamp_fault", Severity.INFO, t, False, {"flag": "lamp"})


def test_births_wills_and_alarm_events_are_the_batches_that_depend_on_arrival_order() -> None:
    plain = [msg(envelope(1, [reading("light-001"), state("light-002", DeviceState.OFFLINE)])),
             msg(envelope(2, [Event("light-001", "door_open", Severity.INFO, T0, None, {})])),
             msg(b"not json")]
    assert not depends_on_arrival_order(plain)
    assert not depends_on_arrival_order([])
    assert depends_on_arrival_order([*plain, status_msg(True)])
    assert depends_on_arrival_order([*plain, msg(envelope(3, [event("light-001")]))])
    assert depends_on_arrival_order(
        [msg(envelope(4, [reading("light-001"), _clearing("light-001", T0)]))])


async def _lock_waits(db: asyncpg.Connection) -> int:
    return int(await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"))


@pytest.mark.integration
async def test_a_clear_arriving_after_its_alarm_clears_it_though_the_alarm_commit_waits(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection,
        ) -> None:
    async with Running(settings(migrated, broker)) as consumer:
        blocker = await asyncpg.connect(migrated)
        try:
            # Claim seq 1 first in an open transaction: the batch bringing the alarm waits
            # on that key until the transaction ends.
            held = blocker.transaction()
            await held.start()
            await blocker.execute(
                "INSERT INTO received_envelopes (community, gateway, seq, sent_at, items) "
                "VALUES ('demo', 'demo-gw1', 1, $1, 1)", T0)
            await asyncio.to_thread(publisher.publish, TOPIC,
                                    envelope(1, [event("light-001")]))
            await wait_until(lambda: _lock_waits(db), what="the alarm's batch held by the lock")
            await asyncio.to_thread(publisher.publish, TOPIC, envelope(
                2, [_clearing("light-001", T0 + timedelta(minutes=1))]))
            await wait_until(lambda: true(consumer.counters.received == 2),
                             what="the clearing message received")
            await held.rollback()
        finally:
            await blocker.close()
        await wait_until(lambda: true(consumer.counters.acked == 2), what="both acked")
    alarms = await db.fetch("SELECT raised_at, cleared_at FROM alarms WHERE device = "
                            "'light-001' AND type = 'lamp_fault'")
    assert [(a["raised_at"], a["cleared_at"]) for a in alarms] == [
        (T0, T0 + timedelta(minutes=1))]
    changes = await db.fetch("SELECT change FROM alarm_changes ORDER BY id")
    assert [c["change"] for c in changes] == ["opened", "cleared"]
    assert await eq(db.fetchval("SELECT count(*) FROM events WHERE device = 'light-001'"), 2)
