"""A message that makes ingest's code fail is set aside; the database being away is waited out.

Faults of our own code are stood in for by patching one function to fail on one message:
the point is what the consumer does with any exception, whichever code raises it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest
from consumer_support import Running, count, settings, true
from ingest_support import Publisher, envelope, event, msg, reading, wait_until

import ingest.isolation
import ingest.messages
import ingest.writer
from ingest.isolation import PendingBatch, is_database_trouble, write_setting_aside_poison
from ingest.messages import Received
from ingest.writer import WriteResult
from scg.localsvc import Mosquitto
from telemetry import uplink_topic

TOPIC = uplink_topic("demo", "demo-gw1", "telemetry")


@pytest.mark.parametrize(("exc", "trouble"), [
    (ConnectionRefusedError(111, "refused"), True),
    (TimeoutError(), True),
    (asyncpg.exceptions.ConnectionDoesNotExistError("closed"), True),
    (asyncpg.exceptions.CannotConnectNowError("starting up"), True),
    (asyncpg.exceptions.UndefinedTableError("no readings"), True),      # fixed by migrating
    (asyncpg.exceptions.InsufficientPrivilegeError("denied"), True),    # fixed by a GRANT
    (asyncpg.exceptions.DeadlockDetectedError("deadlock"), True),
    (asyncpg.InterfaceError("connection is closed"), True),
    (asyncpg.exceptions.CharacterNotInRepertoireError("NUL"), False),
    (asyncpg.exceptions.UniqueViolationError("dup"), False),
    (asyncpg.exceptions.ProgramLimitExceededError("index row too big"), False),
    (asyncpg.exceptions._base.DataError("cannot encode"), False),
    (RecursionError("maximum recursion depth exceeded"), False),
    (OverflowError("date value out of range"), False),
    (TypeError("odd event"), False),
    (MemoryError(), False),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v))
def test_only_trouble_with_the_database_is_retried(exc: BaseException, trouble: bool) -> None:
    assert is_database_trouble(exc) is trouble


@pytest.mark.integration
async def test_a_message_the_decoder_fails_on_is_set_aside_and_the_stream_goes_on(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_decode = ingest.messages.decode

    def decode(payload: bytes, **kw: Any) -> Any:
        if b"poison" in payload:
            raise OverflowError("date value out of range")
        return real_decode(payload, **kw)

    monkeypatch.setattr(ingest.messages, "decode", decode)
    async with Running(settings(migrated, broker, batch_wait=0.3)) as consumer:
        for seq, device in enumerate(["light-001", "poison", "light-003"], 1):
            publisher.publish(TOPIC, envelope(seq, [reading(device)]))
        await wait_until(lambda: true(consumer.counters.acked == 3), what="3 acks")
        publisher.publish(TOPIC, envelope(4, [reading("light-004")]))
        await wait_until(lambda: true(consumer.counters.acked == 4), what="the 4th ack")
    devices = [r["device"] for r in await db.fetch("SELECT device FROM readings ORDER BY 1")]
    assert devices == ["light-001", "light-003", "light-004"]
    dead = await db.fetch("SELECT code, reason, gateway, details FROM dead_letters")
    assert [(d["code"], d["gateway"]) for d in dead] == [("internal_error", "demo-gw1")]
    assert dead[0]["reason"].startswith("internal_error: OverflowError: date value out of "
                                        "range (while decoding this message;")
    c = consumer.counters
    assert (c.written, c.dead_letters, c.db_errors) == (3, 1, 0)


@pytest.mark.integration
async def test_a_message_the_writer_fails_on_is_set_aside_and_its_batch_is_written(
        migrated: str, broker: Mosquitto, publisher: Publisher, db: asyncpg.Connection,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the alarm step for one odd event: the batch is written message by message
    and only the odd one becomes a dead letter."""
    real_record = ingest.writer.record_alarms

    async def record_alarms(conn: Any, events: Sequence[Any]) -> Any:
        if any(e.device == "odd-panel" for _, _, e in events):
            raise TypeError("'NoneType' object is not subscriptable")
        return await real_record(conn, events)

    monkeypatch.setattr(ingest.writer, "record_alarms", record_alarms)
    async with Running(settings(migrated, broker, batch_wait=0.3)) as consumer:
        publisher.publish(TOPIC, envelope(1, [event("light-001")]))
        publisher.publish(TOPIC, envelope(2, [event("odd-panel"), reading("light-002")]))
        publisher.publish(TOPIC, envelope(3, [reading("light-003")]))
        await wait_until(lambda: true(consumer.counters.acked == 3), what="3 acks")
    assert consumer.counters.batches == 1  # all three were one batch, and it did not stall
    assert [r["seq"] for r in await db.fetch("SELECT seq FROM received_envelopes ORDER BY 1")] \
        == [1, 3]
    assert await count(db, "alarms") == 1
    dead = await db.fetchrow("SELECT code, seq, reason, details, payload FROM dead_letters")
    assert (dead["code"], dead["seq"]) == ("internal_error", None)
    assert dead["reason"].startswith("internal_error: TypeError: 'NoneType' object is not "
                                     "subscriptable (while writing this message;")
    assert json.loads(dead["details"]) == {
        "stage": "writing", "exception": "TypeError",
        "message": "'NoneType' object is not subscriptable"}
    assert json.loads(dead["payload"])["seq"] == 2
    assert (consumer.counters.dead_letters, consumer.counters.db_errors) == (1, 0)


@pytest.mark.integration
async def test_database_lost_while_isolating_resumes_without_writing_anything_twice(
        migrated: str, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = ingest.writer.write_batch
    lost_once = [False]

    async def write_batch(conn: asyncpg.Connection, messages: Sequence[Received]) -> WriteResult:
        decoded = [m.decoded for m in messages if m.decoded]
        if any(d.envelope.seq == 2 for d in decoded):
            raise RecursionError("maximum recursion depth exceeded")
        if len(messages) == 1 and decoded and decoded[0].envelope.seq == 3 \
                and not lost_once[0]:
            lost_once[0] = True
            raise ConnectionResetError(104, "connection reset by peer")
        return await real_write(conn, messages)

    monkeypatch.setattr(ingest.isolation, "write_batch", write_batch)
    pending = PendingBatch([msg(envelope(seq, [reading(f"light-{seq:03d}")]))
                            for seq in (1, 2, 3)])
    pool = await asyncpg.create_pool(migrated, min_size=0, max_size=2)
    try:
        with pytest.raises(ConnectionResetError):
            await write_setting_aside_poison(pool, pending)
        assert [m.decoded.envelope.seq for m in pending.todo if m.decoded] == [3]
        result = await write_setting_aside_poison(pool, pending)
    finally:
        await pool.close()
    assert (result.messages, result.envelopes, result.dead_letters) == (3, 2, 1)
    assert await count(db, "received_envelopes") == 2
    dead = await db.fetch("SELECT code, reason FROM dead_letters")
    assert [d["code"] for d in dead] == ["internal_error"]
    assert dead[0]["reason"].startswith("internal_error: RecursionError: ")


@pytest.mark.integration
async def test_a_dead_letter_that_cannot_be_written_is_retried_not_dropped(
        migrated: str, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    async def write_batch(conn: asyncpg.Connection, messages: Sequence[Received]) -> WriteResult:
        raise KeyError("always")

    monkeypatch.setattr(ingest.isolation, "write_batch", write_batch)
    pending = PendingBatch([msg(envelope(1, [reading("light-001")]))])
    pool = await asyncpg.create_pool(migrated, min_size=0, max_size=2)
    try:
        with pytest.raises(KeyError):
            await asyncio.wait_for(write_setting_aside_poison(pool, pending), 10)
    finally:
        await pool.close()
    assert len(pending.todo) == 1  # kept, so the consumer retries and never acknowledges it
