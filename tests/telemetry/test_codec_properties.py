"""Properties of the envelope and status decoders over any input: every byte string ends
in a decoded message or an EnvelopeError with a known code and a reason, and whatever
was accepted can be encoded and reads back the same."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry import (
    Decoded,
    DeviceState,
    Envelope,
    EnvelopeError,
    Event,
    GatewayStatus,
    Item,
    Limits,
    Probe,
    Reading,
    Severity,
    StateChange,
    Topic,
    decode,
    decode_status,
    encode,
    encode_status,
)
from telemetry.jsonbound import nests_deeper_than

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TOPIC = Topic("demo", "gw1", "telemetry")
STATUS_TOPIC = Topic("demo", "gw1", "status")
CODES = {"oversize", "malformed_json", "too_deep", "malformed", "unknown_version",
         "topic_mismatch"}

# ---------------------------------------------------------------- hostile documents

any_text = st.text() | st.text(st.characters(categories=["Cs"]) | st.characters(),
                               max_size=8)
times_text = st.sampled_from([
    "2026-11-23T07:59:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "2026-11-23T08:00:00",
    "2026-11-23", "20261123T080000Z", "2026-11-23T08:00:00+23:59"]) | any_text
numbers = (st.integers() | st.integers(min_value=-(10**400), max_value=10**400)
           | st.floats() | st.sampled_from([10**400, -(10**309), 2**63, -0.0, 5e-324]))
scalars = st.none() | st.booleans() | numbers | any_text | times_text
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(any_text, inner, max_size=4), max_leaves=20)


good_time = st.sampled_from(["2026-11-23T07:59:00Z", "2026-11-23T15:59:00.123+08:00"])
maybe_time = st.one_of(good_time, times_text)
item_docs = st.one_of(
    st.fixed_dictionaries({"kind": st.just("reading"), "device": any_text, "metric": any_text,
                           "time": maybe_time, "value": numbers}),
    st.fixed_dictionaries({"kind": st.just("event"), "device": any_text, "type": any_text,
                           "severity": st.sampled_from(["info", "alarm", "loud"]),
                           "time": maybe_time},
                          optional={"active": st.booleans() | st.none(),
                                    "data": st.dictionaries(any_text, json_values)}),
    st.fixed_dictionaries({"kind": st.just("state"), "device": any_text,
                           "state": st.sampled_from(["online", "offline", "asleep"]),
                           "since": maybe_time}, optional={"reason": any_text}),
    st.fixed_dictionaries({"kind": st.just("probe"), "device": any_text, "time": maybe_time,
                           "ok": st.booleans()},
                          optional={"reason": any_text,
                                    "data": st.dictionaries(any_text, json_values)}))
envelope_docs = st.fixed_dictionaries({
    "v": st.just(1), "community": st.just("demo"), "gateway": st.just("gw1"),
    "seq": st.integers(min_value=0, max_value=2**63 - 1), "sent_at": good_time,
    "items": st.lists(item_docs, max_size=6)})
status_docs = st.fixed_dictionaries({
    "v": st.just(1), "community": st.just("demo"), "gateway": st.just("gw1"),
    "status": st.sampled_from(["online", "offline"]), "time": good_time})

DELETE = object()
ITEM_FIELDS = ["kind", "device", "metric", "type", "severity", "state", "time", "since",
               "value", "active", "ok", "reason", "data"]
corruptions = st.lists(st.tuples(
    st.sampled_from(["v", "community", "gateway", "seq", "sent_at", "status", "time",
                     "items", *(f"items.{f}" for f in ITEM_FIELDS)]),
    st.integers(min_value=0, max_value=5), st.just(DELETE) | json_values), max_size=3)


def corrupt(doc: dict[str, Any], changes: list[tuple[str, int, Any]]) -> dict[str, Any]:
    """`doc` with a few fields (of the message or of one of its items) replaced by any JSON
    value or deleted: most of each document stays valid, so the checks deep inside the
    decoder are reached."""
    for where, index, value in changes:
        target, key = doc, where
        if where.startswith("items."):
            if not isinstance(doc.get("items"), list) or not doc["items"] or \
                    not isinstance(doc["items"][index % len(doc["items"])], dict):
                continue
            target, key = doc["items"][index % len(doc["items"])], where[6:]
        if value is DELETE:
            target.pop(key, None)
        else:
            target[key] = value
    return doc


def to_bytes(doc: Any, ascii_only: bool) -> bytes:
    """JSON text as a hostile sender may write it: NaN and Infinity included, lone
    surrogates either escaped or as raw (invalid UTF-8) bytes."""
    return json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def to_milliseconds(t: datetime) -> datetime:
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def over_the_wire(env: Envelope) -> Envelope:
    """`env` as it reads after encode and decode: the wire carries milliseconds."""
    items = tuple(replace(i, since=to_milliseconds(i.since)) if isinstance(i, StateChange)
                  else replace(i, time=to_milliseconds(i.time)) for i in env.items)
    return replace(env, sent_at=to_milliseconds(env.sent_at), items=items)


def check_envelope_outcome(payload: bytes) -> None:
    """The contract every payload must meet, whatever it holds."""
    try:
        decoded = decode(payload, topic=TOPIC, now=NOW)
    except EnvelopeError as exc:
        assert exc.code in CODES
        assert str(exc)
        return
    assert all(r.reason.startswith(f"item {r.index}: ") for r in decoded.rejected)
    assert len(decoded.envelope.items) + len(decoded.rejected) == \
        len(json.loads(payload)["items"])
    again = decode(encode(decoded.envelope), topic=TOPIC, now=NOW)
    assert again == Decoded(over_the_wire(decoded.envelope))


def check_status_outcome(payload: bytes) -> None:
    try:
        status = decode_status(payload, STATUS_TOPIC)
    except EnvelopeError as exc:
        assert exc.code in CODES
        assert str(exc)
        return
    again = decode_status(encode_status(status), STATUS_TOPIC)
    assert again == replace(status, time=to_milliseconds(status.time))


@given(st.binary(max_size=400))
def test_any_bytes_decode_or_raise_envelope_error(data: bytes) -> None:
    check_envelope_outcome(data)
    check_status_outcome(data)


@given(json_values, st.booleans())
def test_any_json_document_decodes_or_raises_envelope_error(doc: Any, ascii_only: bool) -> None:
    check_envelope_outcome(to_bytes(doc, ascii_only))
    check_status_outcome(to_bytes(doc, ascii_only))


@settings(max_examples=300)
@given(envelope_docs, corruptions, st.booleans())
def test_envelopes_with_any_values_in_any_field_meet_the_contract(
        doc: dict[str, Any], changes: list[tuple[str, int, Any]], ascii_only: bool) -> None:
    check_envelope_outcome(to_bytes(corrupt(doc, changes), ascii_only))


@settings(max_examples=300)
@given(status_docs, corruptions, st.booleans())
def test_status_messages_with_any_values_in_any_field_meet_the_contract(
        doc: dict[str, Any], changes: list[tuple[str, int, Any]], ascii_only: bool) -> None:
    check_status_outcome(to_bytes(corrupt(doc, changes), ascii_only))


@given(st.integers(min_value=1, max_value=3000), st.sampled_from(["[", '{"a":']),
       st.booleans())
def test_any_nesting_depth_decodes_or_is_refused_as_too_deep(depth: int, opener: str,
                                                             closed: bool) -> None:
    closer = {"[": "]", '{"a":': "}"}[opener]
    inner = opener * depth + ("1" if opener != "[" else "") + (closer * depth if closed else "")
    payload = (f'{{"v":1,"community":"demo","gateway":"gw1","seq":1,'
               f'"sent_at":"2026-11-23T08:00:00Z","items":[{{"kind":"event","device":"d",'
               f'"type":"t","severity":"info","time":"2026-11-23T08:00:00Z",'
               f'"data":{{"x":{inner}}}}}]}}').encode()
    try:
        decoded = decode(payload, topic=TOPIC, now=NOW)
    except EnvelopeError as exc:
        assert exc.code == "too_deep" if depth > 28 else exc.code == "malformed_json"
        return
    assert closed and depth <= 28
    assert decoded.envelope.items[0].data["x"] is not None  # type: ignore[union-attr]


# ---------------------------------------------------------------- valid envelopes

ids = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=128)
any_time = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                        timezones=st.just(UTC)).map(to_milliseconds)
finite = st.floats(allow_nan=False, allow_infinity=False)
portable = st.recursive(
    st.none() | st.booleans() | finite | st.integers(min_value=-(2**1000), max_value=2**1000)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), inner, max_size=3),
    max_leaves=12)
data = st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), portable, max_size=4)
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)
items: st.SearchStrategy[Item] = st.one_of(
    st.builds(Reading, ids, ids, any_time, finite),
    st.builds(Event, ids, ids, st.sampled_from(Severity), any_time,
              st.sampled_from([True, False, None]), data),
    st.builds(StateChange, ids, st.sampled_from(DeviceState), any_time, text),
    st.builds(Probe, ids, any_time, st.booleans(), text, data))


@given(st.lists(items, max_size=12), st.integers(min_value=0, max_value=2**63 - 1), any_time)
def test_every_valid_envelope_survives_a_round_trip(items_: list[Item], seq: int,
                                                    sent_at: datetime) -> None:
    env = Envelope("demo", "gw1", seq, sent_at, tuple(items_))
    decoded = decode(encode(env), topic=TOPIC, now=datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
                     limits=Limits(earliest=datetime(1, 1, 1, tzinfo=UTC)))
    assert decoded.rejected == ()
    assert decoded.envelope == env


@given(st.booleans(), any_time)
def test_every_valid_status_survives_a_round_trip(online: bool, t: datetime) -> None:
    status = GatewayStatus("demo", "gw1", online, t)
    assert decode_status(encode_status(status), STATUS_TOPIC) == status


# ---------------------------------------------------------------- the depth bound

def depth_as_the_parser_reads(text: str) -> int:
    """Deepest bracket level outside strings, read one character at a time (the reference
    that the fast, pass-based bound in telemetry.jsonbound must agree with)."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


bracket_text = st.text(st.sampled_from('[]{}"\\\\ a:,'), max_size=60)


@given(json_values | st.lists(st.lists(st.lists(bracket_text))), st.integers(0, 80),
       st.integers(0, 6))
def test_the_depth_bound_is_exact_for_json_and_never_low_for_a_cut_off_message(
        doc: Any, cut: int, limit: int) -> None:
    text = json.dumps(doc, ensure_ascii=False)
    assert nests_deeper_than(text, limit) == (depth_as_the_parser_reads(text) > limit)
    if depth_as_the_parser_reads(text[:cut]) > limit:
        assert nests_deeper_than(text[:cut], limit)


@given(st.text(st.sampled_from('[]{}" a:,'), max_size=80), st.integers(0, 6))
def test_the_depth_bound_is_never_low_for_any_text(text: str, limit: int) -> None:
    if depth_as_the_parser_reads(text) > limit:
        assert nests_deeper_than(text, limit)
