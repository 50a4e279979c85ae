"""Ingest trusts the register, not the topic: a gateway's account lets it publish under its
own name, and the register says which devices that name may report."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncpg
from ingest_support import T0, envelope, event, msg, reading, state, status_msg
from register_support import REGISTER

from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from telemetry import DeviceState


async def count(conn: asyncpg.Connection, sql: str) -> int:
    return int(await conn.fetchval(sql))


async def dead_letters(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT code, gateway, seq, reason, details, item_index "
                            "FROM dead_letters ORDER BY id")


async def test_devices_of_another_gateway_are_dead_letters_naming_both_gateways(
        conn: asyncpg.Connection) -> None:
    # demo-gw2 (light-201 … 203) sends for demo-gw1's light-001 and light-002.
    payload = envelope(1, [reading("light-201"), state("light-001", DeviceState.ONLINE),
                           reading("light-002")], gateway="demo-gw2")
    result = await write_batch(conn, [msg(payload, gateway="demo-gw2")])
    assert (result.envelopes, result.readings, result.states, result.rejected_items,
            result.dead_letters) == (1, 1, 0, 2, 1)
    assert [r["device"] for r in await conn.fetch("SELECT device FROM readings")] == [
        "light-201"]
    assert await count(conn, "SELECT count(*) FROM device_status WHERE device <> 'light-201'") \
        == 0
    [dead] = await dead_letters(conn)
    details = json.loads(dead["details"])
    assert (dead["code"], dead["gateway"], dead["seq"], dead["item_index"]) == (
        "items_rejected", "demo-gw2", 1, 1)
    assert details["by_reason"] == [{"reason": "device_not_on_gateway", "count": 2}]
    assert [f["index"] for f in details["first"]] == [1, 2]
    assert details["first"][0]["reason"] == (
        "item 1: device_not_on_gateway: device 'light-001' is registered to gateway "
        "'demo-gw1', not 'demo-gw2'; only the gateway the inventory names may report a "
        "device (move it in the inventory if it really moved)")
    assert json.loads(details["first"][0]["item"])["state"] == "online"
    assert "the other 1 were stored" in dead["reason"]


async def test_an_unregistered_device_is_kept_apart_and_never_counted(
        conn: asyncpg.Connection) -> None:
    result = await write_batch(conn, [msg(envelope(1, [
        reading("light-001"), state("light-777", DeviceState.ONLINE), event("light-777")]))])
    assert (result.readings, result.states, result.events, result.rejected_items) == (
        1, 0, 0, 2)
    assert await count(conn, "SELECT count(*) FROM device_status WHERE device = 'light-777'") \
        == 0
    assert await count(conn, "SELECT count(*) FROM alarms") == 0
    [dead] = await dead_letters(conn)
    details = json.loads(dead["details"])
    assert details["by_reason"] == [{"reason": "unknown_device", "count": 2}]
    assert details["first"][0]["reason"].startswith(
        "item 1: unknown_device: device 'light-777' is not in community 'demo''s inventory "
        "(sent by gateway 'demo-gw1')")


async def test_a_device_registered_to_no_gateway_cannot_be_reported_by_one(
        conn: asyncpg.Connection) -> None:
    # light-101 is a plain light: the inventory gives it no gateway.
    await write_batch(conn, [msg(envelope(1, [state("light-101", DeviceState.ONLINE)]))])
    [dead] = await dead_letters(conn)
    first = json.loads(dead["details"])["first"][0]
    assert first["reason"].startswith("item 0: device_not_on_gateway: device 'light-101' is "
                                      "registered to no gateway")
    assert await count(conn, "SELECT count(*) FROM device_state_changes") == 0


async def test_a_gateway_the_inventory_does_not_list_is_refused_whole(
        conn: asyncpg.Connection) -> None:
    payload = envelope(5, [reading("light-001"), reading("demo-gw9")], gateway="demo-gw9")
    result = await write_batch(conn, [msg(payload, gateway="demo-gw9"),
                                      msg(envelope(1, [reading("light-002")]))])
    assert (result.envelopes, result.readings, result.dead_letters) == (1, 1, 1)
    [dead] = await dead_letters(conn)
    assert (dead["code"], dead["gateway"]) == ("unknown_gateway", "demo-gw9")
    assert dead["reason"] == (
        "unknown_gateway: gateway 'demo-gw9' is not in community 'demo''s inventory (it "
        "lists: demo-gw1, demo-gw2); name it on the devices it reports (`gateway:`), or under "
        "`gateways:` until they are registered, and import the inventory again")
    # Not claimed: once listed, the same envelope is taken.
    assert await count(conn, "SELECT count(*) FROM received_envelopes "
                             "WHERE gateway = 'demo-gw9'") == 0


async def test_the_birth_or_will_of_an_unlisted_gateway_marks_nothing(
        conn: asyncpg.Connection) -> None:
    result = await write_batch(conn, [status_msg(False, gateway="demo-gw9"),
                                      status_msg(True, gateway="demo-gw1")])
    assert (result.statuses, result.dead_letters) == (1, 1)
    assert [tuple(r) for r in await conn.fetch(
        "SELECT gateway, online FROM gateways ORDER BY 1")] == [("demo-gw1", True)]
    assert await count(conn, "SELECT count(*) FROM gateway_status_changes") == 1
    [dead] = await dead_letters(conn)
    assert (dead["code"], dead["gateway"]) == ("unknown_gateway", "demo-gw9")


async def test_a_community_without_inventory_takes_nothing(unregistered: str) -> None:
    conn = await asyncpg.connect(unregistered)
    try:
        result = await write_batch(conn, [msg(envelope(1, [reading("light-001")]))])
        assert (result.envelopes, result.readings, result.dead_letters) == (0, 0, 1)
        reason = await conn.fetchval("SELECT reason FROM dead_letters")
        assert reason.startswith("unknown_gateway: community 'demo' has no inventory, so no "
                                 "gateway may report for it")
    finally:
        await conn.close()


async def test_a_listed_gateway_reports_its_own_readings(conn: asyncpg.Connection) -> None:
    own = [reading("demo-gw1", metric="spool_items", value=3.0),
           reading("demo-gw2", metric="spool_items", value=9.0)]   # another gateway's
    result = await write_batch(conn, [msg(envelope(1, own))])
    assert (result.readings, result.rejected_items) == (1, 1)
    assert [tuple(r) for r in await conn.fetch("SELECT device, value FROM readings")] == [
        ("demo-gw1", 3.0)]


async def test_a_gateway_listed_before_its_devices_is_taken_for_its_own_readings(
        migrated: str, conn: asyncpg.Connection) -> None:
    listed = REGISTER.replace("devices:\n", "gateways: [demo-gw3]\ndevices:\n", 1)
    await import_inventory(conn, parse_inventory(listed, "listed.yaml"))
    result = await write_batch(conn, [msg(envelope(1, [
        reading("demo-gw3", metric="uplink_connected", value=1.0), reading("light-001")],
        gateway="demo-gw3"), gateway="demo-gw3")])
    assert (result.envelopes, result.readings, result.rejected_items) == (1, 1, 1)


async def test_an_import_that_moves_a_device_is_seen_by_the_next_batch(
        conn: asyncpg.Connection) -> None:
    before = await write_batch(conn, [msg(envelope(1, [reading("light-001")],
                                                   gateway="demo-gw2"), gateway="demo-gw2")])
    assert before.readings == 0
    moved = REGISTER.replace("""  - id: light-001
    kind: light
    compound: north
    gateway: demo-gw1""", """  - id: light-001
    kind: light
    compound: north
    gateway: demo-gw2""")
    assert moved != REGISTER
    await import_inventory(conn, parse_inventory(moved, "moved.yaml"))
    after = await write_batch(conn, [
        msg(envelope(2, [reading("light-001", T0 + timedelta(minutes=1))],
                     gateway="demo-gw2"), gateway="demo-gw2"),
        msg(envelope(3, [reading("light-001", T0 + timedelta(minutes=1))]))])
    assert (after.readings, after.rejected_items) == (1, 1)
    assert await conn.fetchval("SELECT gateway FROM readings") == "demo-gw2"


async def test_items_keep_their_index_as_sent_beside_items_the_decoder_rejected(
        conn: asyncpg.Connection) -> None:
    raw = json.dumps({"v": 1, "community": "demo", "gateway": "demo-gw1", "seq": 4,
                      "sent_at": "2026-11-23T08:00:00Z", "items": [
                          {"kind": "reading"},                              # 0: malformed
                          {"kind": "reading", "device": "light-001", "metric": "power_w",
                           "time": "2026-11-23T08:00:00Z", "value": 1},      # 1: stored
                          {"kind": "reading", "device": "light-201", "metric": "power_w",
                           "time": "2026-11-23T08:00:00Z", "value": 1}]}).encode()
    result = await write_batch(conn, [msg(raw)])
    assert (result.readings, result.rejected_items) == (1, 2)
    [dead] = await dead_letters(conn)
    details = json.loads(dead["details"])
    assert [f["index"] for f in details["first"]] == [0, 2]
    assert {r["reason"] for r in details["by_reason"]} >= {"device_not_on_gateway"}
    assert await count(conn, "SELECT items FROM received_envelopes") == 1
    assert await count(conn, "SELECT rejected FROM received_envelopes") == 2
