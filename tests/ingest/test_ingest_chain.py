"""The records are SM3 hash chains: a row changed, removed or slipped in by someone who may
lift the append-only triggers is named by `verify`; rows from before the chains are
chained by the migration."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import asyncpg
import pytest
from cryptography.hazmat.primitives import hashes
from ingest_support import T0
from migrate_support import migrate_until
from safety_support import AS_OF, ev, load_community, write

from ingest.schema.chain import append, canonical, genesis, log_operation, row_hash
from ingest.schema.chain_audit import heads, verify
from ingest.schema.migrate import migrate
from telemetry import Severity

AT = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)


def sm3(text: str) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(text.encode("utf-8"))
    return h.finalize().hex()


def test_the_canonical_form_is_sorted_compact_json_with_plain_numbers_and_utc_times() -> None:
    record = {"prev_hash": "ab" * 32, "id": 7, "at": AT.astimezone(timezone(timedelta(hours=8))),
              "actor": "王芳", "note": None, "ok": True,
              "details": {"z": [Decimal("72.50"), Decimal("1E+20"), Decimal("-0.0"),
                                Decimal("1e-7"), Decimal("100")], "a": "say \"hi\"\n"}}
    text = canonical(record)
    assert text == ('{"actor":"王芳","at":"2026-11-24T09:30:15.123456Z",'
                    '"details":{"a":"say \\"hi\\"\\n","z":[72.5,100000000000000000000,0,'
                    '0.0000001,100]},"id":7,"note":null,"ok":true,"prev_hash":"' + "ab" * 32
                    + '"}')
    assert row_hash(record) == sm3(text)


def test_a_chain_starts_from_its_own_fixed_genesis_value() -> None:
    assert genesis("operation_log") == sm3("scg audit chain genesis: operation_log")
    assert genesis("operation_log") != genesis("user_changes")


async def test_what_postgresql_stores_hashes_as_it_was_hashed_when_appended(
        conn: asyncpg.Connection) -> None:
    awkward = {"big": 1e20, "small": 1e-7, "negative_zero": -0.0, "scale": 2.50,
               "text": "é\n\"\\", "nested": {"b": [1, 2.5, None], "a": {}}, "": True}
    ids = [await log_operation(conn, at=AT, actor="wang.fang", action="test.awkward",
                               community="demo", target="x", note=None, details=awkward),
           await log_operation(conn, at=AT + timedelta(seconds=1), actor="王芳",
                               action="test.plain", community=None, target="y",
                               note="第二条")]
    states = {s.chain: s for s in await verify(conn)}
    log = states["operation_log"]
    assert (log.rows, log.head_id, log.broken) == (2, ids[1], None)
    rows = await conn.fetch("SELECT prev_hash, hash FROM operation_log ORDER BY id")
    assert rows[0]["prev_hash"] == genesis("operation_log")
    assert rows[1]["prev_hash"] == rows[0]["hash"] == rows[1]["prev_hash"]
    assert log.head == rows[1]["hash"]


async def test_a_row_rewritten_with_the_triggers_lifted_is_named(
        conn: asyncpg.Connection) -> None:
    for n in range(4):
        await log_operation(conn, at=AT + timedelta(seconds=n), actor="operator",
                            action="alarm.acknowledge", community="demo",
                            target=f"alarm:{n}")
    await conn.execute("ALTER TABLE operation_log DISABLE TRIGGER USER")
    await conn.execute("UPDATE operation_log SET actor = 'someone else' WHERE id = 3")
    await conn.execute("ALTER TABLE operation_log ENABLE TRIGGER USER")
    broken = {s.chain: s for s in await verify(conn)}["operation_log"].broken
    assert broken is not None
    assert (broken.row_id, broken.content_changed, broken.link_broken) == (3, True, False)
    stored = await conn.fetchval("SELECT hash FROM operation_log WHERE id = 3")
    assert broken.stored_hash == stored != broken.expected_hash
    assert broken.describe().startswith("operation_log: row id 3: row content changed: its "
                                        "content hashes to ")


async def test_a_row_removed_breaks_the_link_of_the_row_after_it(
        conn: asyncpg.Connection) -> None:
    for n in range(4):
        await append(conn, "user_changes", {"at": AT + timedelta(seconds=n), "actor": "admin",
                                            "action": "user.add", "user_name": f"u{n}"})
    await conn.execute("ALTER TABLE user_changes DISABLE TRIGGER USER; "
                       "DELETE FROM user_changes WHERE id = 2; "
                       "ALTER TABLE user_changes ENABLE TRIGGER USER")
    state = {s.chain: s for s in await verify(conn)}["user_changes"]
    assert state.rows == 3
    assert state.broken is not None
    assert (state.broken.row_id, state.broken.content_changed, state.broken.link_broken) == (
        3, False, True)
    assert "prev linkage broken" in state.broken.describe()


async def test_a_row_added_past_the_chain_is_refused(conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.NotNullViolationError):
        await conn.execute("INSERT INTO operation_log (at, actor, action, target) "
                           "VALUES (now(), 'intruder', 'x', 'y')")


async def test_appends_from_concurrent_transactions_make_one_chain(migrated: str) -> None:
    async def writer(name: str) -> None:
        c = await asyncpg.connect(migrated)
        try:
            for n in range(25):
                async with c.transaction():
                    await log_operation(c, at=AT, actor=name, action="test.race",
                                        community=None, target=str(n))
        finally:
            await c.close()

    await asyncio.gather(*(writer(f"w{i}") for i in range(4)))
    c = await asyncpg.connect(migrated)
    try:
        log = {s.chain: s for s in await verify(c)}["operation_log"]
    finally:
        await c.close()
    assert (log.rows, log.broken) == (100, None)


async def test_alarm_changes_from_the_writer_and_staff_are_one_chain(
        conn: asyncpg.Connection) -> None:
    from web.alarms.actions import apply_action

    await load_community(conn)
    t = AS_OF - timedelta(hours=2)
    await write(conn, ev("hz-n", "fire_lane_blocked", t, active=True),
                ev("fp-n", "zone_fire", t, active=True, severity=Severity.CRITICAL, zone=1))
    await write(conn, ev("hz-n", "fire_lane_blocked", t + timedelta(minutes=3), active=False))
    alarm = await conn.fetchval("SELECT id FROM alarms WHERE device = 'fp-n'")
    await apply_action(conn, alarm, "acknowledge", by="duty-officer", note="on my way",
                       at=t + timedelta(minutes=4))
    states = {s.chain: s for s in await verify(conn)}
    assert [(c, states[c].rows, states[c].broken) for c in ("alarm_changes",
                                                            "operation_log")] == [
        ("alarm_changes", 4, None), ("operation_log", 1, None)]
    assert {s.chain: (s.rows, s.head) for s in await heads(conn)} == {
        s.chain: (s.rows, s.head) for s in states.values()}


async def test_declared_values_are_chained_with_their_evidence(
        conn: asyncpg.Connection) -> None:
    await conn.execute("INSERT INTO evidence_files VALUES ($1, 10, 'application/pdf', now())",
                       "a" * 64)
    ident = await append(conn, "declarations", {
        "community": "demo", "tier": "growth", "row_id": "growth-01",
        "field_values": {"households": 3790}, "text": "", "entered_by": "王芳",
        "entered_at": AT, "evidence": [{"position": 0, "sha256": "a" * 64,
                                        "name": "光纤入户.pdf",
                                        "content_type": "application/pdf"}]})
    await conn.execute("INSERT INTO declaration_evidence VALUES ($1, 0, $2, $3, $4)",
                       ident, "a" * 64, "光纤入户.pdf", "application/pdf")
    assert {s.chain: s.broken for s in await verify(conn)}["declarations"] is None
    await conn.execute("ALTER TABLE declaration_evidence DISABLE TRIGGER USER; "
                       "UPDATE declaration_evidence SET name = 'other.pdf'; "
                       "ALTER TABLE declaration_evidence ENABLE TRIGGER USER")
    broken = {s.chain: s.broken for s in await verify(conn)}["declarations"]
    assert broken is not None and (broken.row_id, broken.content_changed) == (ident, True)




async def test_records_from_before_the_chains_are_chained_by_the_upgrade(
        database: str) -> None:
    await migrate_until(database, "0022_users_and_tokens")
    conn = await asyncpg.connect(database)
    try:
        for n in range(3):
            await conn.execute(
                "INSERT INTO operation_log (at, actor, action, community, target, details) "
                "VALUES ($1, 'old-admin', 'alarm.close', 'demo', $2, $3::jsonb)",
                T0 + timedelta(hours=n), f"alarm:{n}", json.dumps({"n": n, "w": 1.50}))
        await conn.execute("INSERT INTO user_changes (at, actor, action, user_name) "
                           "VALUES ($1, 'cli', 'user.add', 'admin')", T0)
        applied = await migrate(database)
        assert "0035_hash_chains" in applied
        states = {s.chain: s for s in await verify(conn)}
        assert {c: (s.rows, s.broken) for c, s in states.items()} == {
            "operation_log": (3, None), "user_changes": (1, None), "alarm_changes": (0, None),
            "declarations": (0, None)}
        # Appends go on from the sealed rows.
        await log_operation(conn, at=T0 + timedelta(days=1), actor="admin", action="x",
                            community=None, target="y")
        log = {s.chain: s for s in await verify(conn)}["operation_log"]
        assert (log.rows, log.broken) == (4, None)
    finally:
        await conn.close()
