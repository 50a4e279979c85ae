"""One dead-letter row per rejected message, saying why in words and in figures."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from ingest_support import T0, envelope, msg, reading

import ingest.messages
from ingest.dead_letters import reason_key, summarise_rejections
from ingest.messages import decode_message
from ingest.writer import write_batch
from telemetry import Decoded, ItemRejection, uplink_topic

TOPIC = uplink_topic("demo", "demo-gw1", "telemetry")


def raw_envelope(seq: int, items: list[Any], sent_at: str = "2026-11-23T08:00:00Z") -> bytes:
    return json.dumps({"v": 1, "community": "demo", "gateway": "demo-gw1", "seq": seq,
                       "sent_at": sent_at, "items": items}).encode()


def bad_time(n: int) -> dict[str, Any]:
    return {"kind": "reading", "device": f"light-{n:03d}", "metric": "power_w",
            "time": f"day {n}", "value": 1}


async def test_ten_thousand_bad_items_make_one_row_counting_them_by_reason(
        conn: asyncpg.Connection) -> None:
    items = [{} if n % 10 else bad_time(n) for n in range(10_000)]
    payload = raw_envelope(4, items)
    result = await write_batch(conn, [msg(payload)])
    assert (result.envelopes, result.readings, result.rejected_items, result.dead_letters) == (
        1, 0, 10_000, 1)
    rows = await conn.fetch("SELECT * FROM dead_letters")
    assert len(rows) == 1
    row = rows[0]
    assert (row["code"], row["seq"], row["item_index"], row["gateway"]) == (
        "items_rejected", 4, 0, "demo-gw1")
    assert row["reason"] == (
        "items_rejected: 10000 of 10000 items (device must be a non-empty string ×9000, "
        "time … is not an RFC 3339 time (e.g. …) ×1000); first: item 0: time 'day 0' is not "
        "an RFC 3339 time (e.g. 2026-11-23T08:00:00Z)")
    assert row["payload"] == payload
    details = json.loads(row["details"])
    assert details["by_reason"] == [
        {"reason": "device must be a non-empty string", "count": 9000},
        {"reason": "time … is not an RFC 3339 time (e.g. …)", "count": 1000}]
    assert (details["items"], details["rejected"]) == (10_000, 10_000)
    assert [(f["index"], f["item"]) for f in details["first"]] == [
        (0, json.dumps(bad_time(0), separators=(",", ":"))), (1, "{}"), (2, "{}"), (3, "{}"),
        (4, "{}")]
    assert details["first"][1]["reason"] == "item 1: device must be a non-empty string, got None"
    assert await conn.fetchval("SELECT rejected FROM received_envelopes") == 10_000


async def test_text_postgresql_cannot_store_is_escaped_on_the_dead_letter(
        conn: asyncpg.Connection) -> None:
    # Built by hand, whatever the decoder lets through: a NUL and a lone surrogate in a
    # rejected item and its reason must not stop its dead letter being written.
    good = msg(envelope(1, [reading("light-001")]))
    assert good.decoded is not None
    odd = {"kind": "\ud800", "device": "\x00"}
    rejection = ItemRejection(1, "item 1: kind \ud800 with \x00 is not one of reading", odd)
    received = replace(good, decoded=Decoded(good.decoded.envelope, (rejection,)))
    result = await write_batch(conn, [received])
    assert (result.readings, result.dead_letters) == (1, 1)
    row = await conn.fetchrow("SELECT reason, details FROM dead_letters")
    assert row["reason"].startswith("items_rejected: 1 of 2 items (kind \\ud800 with \\x00 "
                                    "is not one of reading ×1)")
    assert json.loads(row["details"])["first"][0]["item"] == \
        '{"kind":"\\ud800","device":"\\u0000"}'


def test_a_decoder_rejection_code_groups_items_when_the_decoder_gives_one() -> None:
    coded = SimpleNamespace(index=0, reason="item 0: value 1e999 is not finite", raw={},
                            code="bad_value")
    plain = ItemRejection(1, "item 1: device is 300 characters, more than 128", {})
    assert reason_key(coded) == "bad_value"  # type: ignore[arg-type]
    assert reason_key(plain) == "device is … characters, more than …"


def test_the_text_names_five_reasons_and_counts_the_rest() -> None:
    rejected = [ItemRejection(i, f"item {i}: value {i} is wrong", {}) for i in range(7)]
    reason, details = summarise_rejections(rejected, 9)
    assert reason == ("items_rejected: 7 of 9 items (value … is wrong ×7); first: item 0: "
                      "value 0 is wrong; the other 2 were stored")
    rejected = [ItemRejection(i, f"item {i}: reason {chr(97 + i)}", {}) for i in range(7)]
    reason, details = summarise_rejections(rejected, 7)
    assert reason == ("items_rejected: 7 of 7 items (reason a ×1, reason b ×1, reason c ×1, "
                      "reason d ×1, reason e ×1, and 2 more kinds); first: item 0: reason a")
    assert len(details["by_reason"]) == 7 and len(details["first"]) == 5


# ------------------------------------------------------------ decoder failures

def test_an_exception_in_the_decoder_becomes_an_internal_error_of_that_message(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(ingest.messages, "decode", explode)
    received = decode_message(TOPIC, envelope(1, [reading("light-001")]), now=T0)
    assert received.decoded is None and received.error is not None
    assert received.error.code == "internal_error"
    assert str(received.error).startswith(
        "internal_error: RecursionError: maximum recursion depth exceeded (while decoding "
        "this message; ")
    assert received.error.details == {  # type: ignore[attr-defined]
        "stage": "decoding", "exception": "RecursionError",
        "message": "maximum recursion depth exceeded"}
    assert received.parsed_topic is not None and received.parsed_topic.gateway == "demo-gw1"


# The payloads of the issue that stopped ingest. Whether the decoder rejects them itself or
# fails on them, decode_message returns: a whole-message error, or the item rejected.
POISON = {
    "deep_nesting": raw_envelope(1, ["NEST"]).replace(b'"NEST"',
                                                       b"[" * 100_000 + b"]" * 100_000),
    "year_one": raw_envelope(2, [], sent_at="0001-01-01T00:00:00+01:00"),
    "huge_integer": raw_envelope(3, [{"kind": "reading", "device": "light-001",
                                      "metric": "power_w", "time": "2026-11-23T08:00:00Z",
                                      "value": 10**400}]),
}


@pytest.mark.parametrize("name", sorted(POISON))
def test_poison_payloads_come_back_as_errors_not_exceptions(name: str) -> None:
    received = decode_message(TOPIC, POISON[name], now=datetime(2026, 11, 23, 8, tzinfo=UTC))
    if received.error is None:
        assert received.decoded is not None and len(received.decoded.rejected) == 1
        assert received.decoded.envelope.items == ()
    else:
        assert received.error.code != "internal_error" or str(received.error).startswith(
            ("internal_error: RecursionError: ", "internal_error: OverflowError: "))


async def test_an_internal_error_row_keeps_the_exception_in_its_details(
        conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(ingest.messages, "decode", explode)
    payload = raw_envelope(2, [], sent_at="0001-01-01T00:00:00+01:00")
    result = await write_batch(conn, [decode_message(TOPIC, payload, now=T0)])
    assert result.dead_letters == 1
    row = await conn.fetchrow("SELECT community, gateway, seq, code, reason, payload, details "
                              "FROM dead_letters")
    assert (row["community"], row["gateway"], row["seq"], row["code"]) == (
        "demo", "demo-gw1", None, "internal_error")
    assert row["reason"].startswith("internal_error: OverflowError: date value out of range")
    assert row["payload"] == payload
    assert json.loads(row["details"]) == {"stage": "decoding", "exception": "OverflowError",
                                          "message": "date value out of range"}
