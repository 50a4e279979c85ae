from __future__ import annotations

import json
from datetime import timedelta

import asyncpg
from ingest_support import T0, envelope, event, msg, reading, state, status_msg

from ingest.messages import decode_message
from ingest.writer import write_batch
from telemetry import DeviceState, Probe, uplink_topic


async def count(conn: asyncpg.Connection, table: str) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))


async def test_an_envelope_written_twice_is_stored_once(conn: asyncpg.Connection) -> None:
    payload = envelope(7, [reading("light-001"), reading("light-002"),
                           event("light-001"), state("light-001", DeviceState.ONLINE)])
    first = await write_batch(conn, [msg(payload)])
    again = await write_batch(conn, [msg(payload), msg(payload)])
    assert (first.envelopes, first.duplicates, first.readings, first.events, first.states) == (
        1, 0, 2, 1, 1)
    assert (again.envelopes, again.duplicates, again.readings) == (0, 2, 0)
    assert await count(conn, "readings") == 2
    assert await count(conn, "events") == 1
    assert await count(conn, "device_state_changes") == 1
    assert await count(conn, "received_envelopes") == 1


async def test_same_seq_from_another_gateway_is_not_a_duplicate(
        conn: asyncpg.Connection) -> None:
    result = await write_batch(conn, [
        msg(envelope(1, [reading("light-001")])),
        msg(envelope(1, [reading("light-201")], gateway="demo-gw2"), gateway="demo-gw2"),
    ])
    assert (result.envelopes, result.duplicates) == (2, 0)
    assert await count(conn, "readings") == 2


async def test_a_bad_item_is_dead_lettered_and_its_neighbours_are_stored(
        conn: asyncpg.Connection) -> None:
    doc = json.loads(envelope(3, [reading("light-001"), reading("light-002")]))
    doc["items"].insert(1, {"kind": "reading", "device": "light-009", "metric": "power_w",
                            "time": "2026-11-23T08:00:00Z", "value": "high"})
    payload = json.dumps(doc).encode()
    result = await write_batch(conn, [msg(payload)])
    assert (result.readings, result.rejected_items, result.dead_letters) == (2, 1, 1)
    devices = [r["device"] for r in await conn.fetch("SELECT device FROM readings ORDER BY 1")]
    assert devices == ["light-001", "light-002"]
    dead = await conn.fetchrow("SELECT * FROM dead_letters")
    assert (dead["code"], dead["item_index"], dead["seq"]) == ("items_rejected", 1, 3)
    assert dead["reason"] == (
        "items_rejected: 1 of 3 items (reading value must be a finite number ×1); first: "
        "item 1: reading value must be a finite number, got 'high'; the other 2 were stored")
    assert dead["payload"] == payload  # the message as received
    assert json.loads(dead["details"]) == {
        "items": 3, "rejected": 1,
        "by_reason": [{"reason": "reading value must be a finite number", "count": 1}],
        "first": [{"index": 1,
                   "reason": "item 1: reading value must be a finite number, got 'high'",
                   "item": '{"kind":"reading","device":"light-009","metric":"power_w",'
                           '"time":"2026-11-23T08:00:00Z","value":"high"}'}]}
    assert await conn.fetchval("SELECT rejected FROM received_envelopes") == 1


async def test_whole_message_rejections_keep_code_reason_topic_and_payload(
        conn: asyncpg.Connection) -> None:
    good = msg(envelope(1, [reading("light-001")]))
    mismatch = msg(envelope(2, [reading("light-002")], community="other"))
    garbage = decode_message("scg/v1/demo/demo-gw1/telemetry", b"{not json", now=T0)
    bad_topic = decode_message("scg/v2/demo/x/telemetry", b"{}", now=T0)
    result = await write_batch(conn, [good, mismatch, garbage, bad_topic])
    assert (result.envelopes, result.readings, result.dead_letters) == (1, 1, 3)
    rows = await conn.fetch("SELECT topic, community, gateway, code, reason, payload, "
                            "item_index FROM dead_letters ORDER BY id")
    assert [r["code"] for r in rows] == ["topic_mismatch", "malformed_json", "bad_topic"]
    assert rows[0]["topic"] == uplink_topic("demo", "demo-gw1", "telemetry")
    assert (rows[0]["community"], rows[0]["gateway"]) == ("demo", "demo-gw1")
    assert rows[0]["reason"].startswith("topic scg/v1/demo/demo-gw1/telemetry names community "
                                        "'demo' / gateway 'demo-gw1' but the envelope says "
                                        "'other' / 'demo-gw1'")
    assert rows[0]["payload"] == mismatch.payload
    assert rows[1]["payload"] == b"{not json"
    assert rows[2]["community"] is None
    assert all(r["item_index"] is None for r in rows)
    assert await conn.fetchval("SELECT count(*) FROM dead_letters WHERE details IS NULL") == 3


async def test_last_seen_never_moves_backwards(conn: asyncpg.Connection) -> None:
    late = T0 + timedelta(minutes=10)
    await write_batch(conn, [msg(envelope(2, [reading("light-001", late)]))])
    await write_batch(conn, [msg(envelope(1, [reading("light-001", T0)]))])  # arrives late
    assert await conn.fetchval("SELECT last_seen FROM device_status") == late
    await write_batch(conn, [msg(envelope(3, [reading("light-001", late + timedelta(1))]))])
    assert await conn.fetchval("SELECT last_seen FROM device_status") == late + timedelta(1)


async def test_device_state_follows_the_newest_since_not_arrival_order(
        conn: asyncpg.Connection) -> None:
    t1 = T0 + timedelta(minutes=5)
    await write_batch(conn, [msg(envelope(2, [state("light-001", DeviceState.OFFLINE, t1,
                                                    "no status for 3 periods")]))])
    await write_batch(conn, [msg(envelope(1, [state("light-001", DeviceState.ONLINE, T0)]))])
    row = await conn.fetchrow("SELECT state, since, reason, last_seen FROM device_status")
    assert dict(row) == {"state": "offline", "since": t1, "reason": "no status for 3 periods",
                         "last_seen": T0}  # the online state at T0 still says it was seen
    # a later reading keeps the state and moves last_seen only
    await write_batch(conn, [msg(envelope(3, [reading("light-001", t1)]))])
    row = await conn.fetchrow("SELECT state, since, last_seen FROM device_status")
    assert (row["state"], row["since"], row["last_seen"]) == ("offline", t1, t1)


async def test_offline_state_does_not_count_as_seen(conn: asyncpg.Connection) -> None:
    await write_batch(conn, [msg(envelope(1, [state("x", DeviceState.OFFLINE)]))])
    assert await conn.fetchval("SELECT last_seen FROM device_status") is None


async def test_probes_are_stored_with_their_statistics(conn: asyncpg.Connection) -> None:
    probe = Probe("cam-01", T0, False, "black picture", {"mean": 3.2})
    result = await write_batch(conn, [msg(envelope(1, [probe]))])
    assert result.probes == 1
    row = await conn.fetchrow("SELECT device, ok, reason, data FROM probes")
    assert (row["device"], row["ok"], row["reason"], json.loads(row["data"])) == (
        "cam-01", False, "black picture", {"mean": 3.2})


async def test_gateway_status_follows_arrival_order_and_since_marks_the_flip(
        conn: asyncpg.Connection) -> None:
    birth = status_msg(True, t=T0 + timedelta(seconds=5))
    # The last will was composed at connect time, so it carries the older time.
    will = status_msg(False, t=T0)
    will = type(will)(will.topic, will.payload, T0 + timedelta(minutes=9), status=will.status,
                      parsed_topic=will.parsed_topic)
    await write_batch(conn, [birth])
    await write_batch(conn, [will])
    row = await conn.fetchrow("SELECT online, since FROM gateways")
    assert (row["online"], row["since"]) == (False, T0 + timedelta(minutes=9))
    await write_batch(conn, [will])  # the retained will again: nothing flips
    assert await conn.fetchval("SELECT since FROM gateways") == T0 + timedelta(minutes=9)


async def test_the_gateways_release_is_kept_from_its_latest_status_that_names_one(
        conn: asyncpg.Connection) -> None:
    await write_batch(conn, [status_msg(True, version="0.1.0")])
    assert await conn.fetchval("SELECT version FROM gateways") == "0.1.0"
    await write_batch(conn, [status_msg(False, t=T0 + timedelta(minutes=1), version="0.2.0")])
    assert await conn.fetchval("SELECT version FROM gateways") == "0.2.0"
    # A status that names none (an older release's will) leaves the known one.
    await write_batch(conn, [status_msg(True, t=T0 + timedelta(minutes=2))])
    assert await conn.fetchval("SELECT version FROM gateways") == "0.2.0"
