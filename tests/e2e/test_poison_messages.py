"""No message content stops ingest: poison on a registered gateway's own topic is set aside.

Each of these payloads once stopped ingest, and stopped it again at every restart because
the broker redelivered it, so every good message queued behind it was never stored. Now
each becomes one dead-letter row, is acknowledged, and the stream behind it flows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from e2e_support import wait_until
from ingest_support import T0, Publisher, envelope, reading

from scg.scenario import CommunityScenario
from scg.stack import Stack, psql_rows
from telemetry import uplink_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COMMUNITY, GATEWAY = "e2e", "e2e-gw1"
TOPIC = uplink_topic(COMMUNITY, GATEWAY, "telemetry")
GOOD_SEQS = range(101, 201)


def raw_envelope(seq: int, items: str, sent_at: str = "2026-11-23T08:00:00Z") -> bytes:
    """JSON text written by hand: no encoder of ours would produce these messages."""
    return (f'{{"v":1,"community":"{COMMUNITY}","gateway":"{GATEWAY}","seq":{seq},'
            f'"sent_at":"{sent_at}","items":{items}}}').encode()


READING = ('{"kind":"reading","device":"light-001","metric":"power_w",'
           '"time":"2026-11-23T08:00:00Z","value":%s}')
POISON = {
    "deep_nesting": raw_envelope(1, "[" + "[" * 100_000 + "]" * 100_000 + "]"),
    "year_one_sent_at": raw_envelope(2, "[" + READING % "1" + "]",
                                     sent_at="0001-01-01T00:00:00+01:00"),
    "integer_10_400": raw_envelope(3, "[" + READING % str(10**400) + "]"),
    "ten_thousand_bad_items": raw_envelope(4, "[" + ",".join(["{}"] * 10_000) + "]"),
}
#: What the first three may become: the decoder's own rejection (its reason naming one of
#: the words) or, where the decoder fails on them, ingest's `internal_error`.
EXPECTED = {
    "deep_nesting": ("RecursionError", ("deep", "nest")),
    "year_one_sent_at": ("OverflowError", ("sent_at",)),
    "integer_10_400": ("OverflowError", ("value", "number")),
}


@pytest.fixture
def ingest_only(e2e_root: Path) -> Iterator[Stack]:
    """A broker, PostgreSQL holding a community whose gateway `e2e-gw1` is registered, and
    `scg ingest run`; no gateway process, so every message on its topic is the test's."""
    stack = Stack(e2e_root, durable=False)
    try:
        stack.start_infra()
        scenario = CommunityScenario(community=COMMUNITY, gateway=GATEWAY, lights=4,
                                     controllers=4)
        inventory, _ = scenario.write(e2e_root / "community",
                                      stack.uplink(COMMUNITY, GATEWAY), stack.devices())
        stack.migrate()  # as the owner; ingest and the API run as the runtime role
        stack.run("inventory", "import", str(inventory), env=stack.owner_env())
        stack.start("ingest", "ingest", "run", "--batch-ms", "50", env=stack.login_env())
        stack.wait_for_log("ingest", "subscribed", timeout=30)
        yield stack
    finally:
        stack.stop_all()


def scalar(stack: Stack, sql: str) -> int:
    return int(psql_rows(stack, sql)[0][0])


def good_envelopes(stack: Stack, last: int = GOOD_SEQS[-1]) -> int:
    return scalar(stack, f"SELECT count(*) FROM received_envelopes WHERE gateway = '{GATEWAY}' "
                         f"AND seq BETWEEN {GOOD_SEQS[0]} AND {last}")


def test_poison_messages_become_dead_letters_and_the_stream_behind_them_is_stored(
        ingest_only: Stack) -> None:
    stack = ingest_only
    login = stack.broker.login(f"{COMMUNITY}/{GATEWAY}")  # it plays the gateway
    publisher = Publisher(stack.broker.host, stack.broker.port, username=login.username,
                          password=login.password)
    try:
        for payload in POISON.values():
            publisher.publish(TOPIC, payload)
        for seq in GOOD_SEQS:
            t = T0 + timedelta(seconds=seq)
            publisher.publish(TOPIC, envelope(seq, [reading("light-001", t, value=seq),
                                                    reading("light-002", t, value=-seq)],
                                              community=COMMUNITY, gateway=GATEWAY))
        wait_until(lambda: good_envelopes(stack) == 100, "the 100 valid envelopes stored")
        wait_until(lambda: scalar(stack, "SELECT count(*) FROM dead_letters") >= 4,
                   "the four dead letters")
        assert stack.procs["ingest"].poll() is None, "ingest exited"

        # Stored exactly once: one envelope row per seq, two readings per envelope.
        envelopes = psql_rows(stack, f"""
            SELECT count(*), count(DISTINCT seq), sum(items), sum(rejected)
            FROM received_envelopes
            WHERE gateway = '{GATEWAY}' AND seq BETWEEN {GOOD_SEQS[0]} AND {GOOD_SEQS[-1]}""")
        assert envelopes == [["100", "100", "200", "0"]]
        readings = psql_rows(stack, f"""
            SELECT count(*), count(DISTINCT (device, time)), sum(value)
            FROM readings WHERE gateway = '{GATEWAY}' AND metric = 'power_w'""")
        assert readings == [["200", "200", "0"]]  # seq and -seq for each of the 100
        assert scalar(stack, "SELECT count(*) FROM readings WHERE time = "
                             "'2026-11-23T08:00:00Z'") == 0  # nothing of the poison

        rows = psql_rows(stack, "SELECT md5(payload), code, reason, "
                                "coalesce(details::text, 'null'), gateway "
                                "FROM dead_letters ORDER BY id")
        by_md5 = {hashlib.md5(p).hexdigest(): name for name, p in POISON.items()}
        letters = {by_md5[r[0]]: (r[1], r[2], json.loads(r[3]), r[4]) for r in rows}
        assert len(rows) == 4 and set(letters) == set(POISON)  # one row per message
        assert {gw for *_, gw in letters.values()} == {GATEWAY}
        seen = {}
        for name, (exception, words) in EXPECTED.items():
            code, reason, details, _ = letters[name]
            if code == "internal_error":
                assert reason.startswith(f"internal_error: {exception}: "), reason
                assert details["exception"] == exception
            else:
                assert any(w in reason for w in words), (name, code, reason)
            seen[name] = code
        print("poison outcomes:", seen)  # which layer caught them (see -s)

        code, reason, details, _ = letters["ten_thousand_bad_items"]
        assert code == "items_rejected"
        assert reason.startswith("items_rejected: 10000 of 10000 items (device must be a "
                                 "non-empty string ×10000); first: item 0: ")
        assert (details["items"], details["rejected"]) == (10_000, 10_000)
        assert details["by_reason"] == [{"reason": "device must be a non-empty string",
                                         "count": 10_000}]
        assert [(f["index"], f["item"]) for f in details["first"]] == [
            (i, "{}") for i in range(5)]

        # Every one was acknowledged: after a restart nothing comes back a second time.
        stack.stop("ingest")
        stack.start("ingest", "ingest", "run", "--batch-ms", "50", env=stack.login_env())
        stack.wait_for_log("ingest", "subscribed", timeout=30)  # this run's line
        publisher.publish(TOPIC, envelope(201, [reading("light-003")], community=COMMUNITY,
                                          gateway=GATEWAY))
        wait_until(lambda: good_envelopes(stack, 201) == 101, "the envelope after the restart")
        assert scalar(stack, "SELECT count(*) FROM dead_letters") == 4
        assert stack.procs["ingest"].poll() is None, "ingest exited after the restart"
    finally:
        publisher.close()
