"""The decoder's fast paths agree with the general ones on any input: the reading fast path
builds the same reading or leaves the item to the checks that explain it, the JSON parser
returns what json.loads returns and fails as it fails, the UTF-8 shortcut decodes as
json.detect_encoding would, the UTC shortcut of parse_time gives the same instant,
remembered ids never let an invalid one through, and whole messages (the fuzzer's mix of
valid, hostile and mangled ones) decode to the same envelope or the same error with every
fast path taken out."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scripts.fuzz_telemetry import ENVELOPE_TOPIC, STATUS_TOPIC, envelope_input, status_input
from telemetry import (
    DEFAULT_LIMITS,
    EnvelopeError,
    Limits,
    Topic,
    decode,
    decode_status,
    parse_time,
)
from telemetry.codec import _decode_item, _parse_json, _reading
from telemetry.jsonbound import decode_text
from telemetry.topics import TopicError, check_id

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

# A valid reading, or one with one field spoiled: about half the readings drawn are valid,
# so the fast path is taken often, on both sides of every limit (max_id_length 3 and 128).
valid_ids = st.sampled_from(["m1", "abc", "abcd", "meter-07", "x" * 128, "x" * 129]) \
    | st.text(st.characters(max_codepoint=127), min_size=1, max_size=5)
ids = (valid_ids | st.sampled_from(["é", "\x00", ""]) | st.text(max_size=6)
       | st.text(st.characters(categories=["Cs"]), max_size=2)
       | st.text(min_size=126, max_size=130) | st.integers() | st.none())
valid_stamps = st.sampled_from([
    "2026-11-23T07:59:00.123Z", "2026-11-23T07:59:00Z", "2026-11-23T07:59:00+00:00",
    "2026-11-23T07:59:00-00:00", "2026-11-23T15:59:00+08:00", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z", "2026-11-23T07:59:00.123456Z"])
stamps = (valid_stamps | st.sampled_from(["0001-01-01T00:00:00+01:00", "2026-11-23T08:00:00",
                                          "2026-13-01", "9999-12-31T23:59:59-01:00"])
          | st.text(max_size=5) | st.integers())
valid_values = (st.floats(allow_nan=False, allow_infinity=False)
                | st.integers(min_value=-(2**1023), max_value=2**1023)
                | st.sampled_from([1.7976931348623157e308, -0.0, 5e-324]))
values = (valid_values | st.floats() | st.sampled_from([float("nan"), float("inf")])
          | st.integers(min_value=-(10**400), max_value=10**400) | st.booleans()
          | st.sampled_from([2**1024 - 1, -(2**1024), "1"]) | st.none())
valid_reading = st.fixed_dictionaries(
    {"kind": st.just("reading"), "device": valid_ids, "metric": valid_ids,
     "time": valid_stamps, "value": valid_values})
spoilers = {"kind": st.sampled_from(["event", "Reading", None]), "device": ids, "metric": ids,
            "time": stamps, "value": values}
spoiled_reading = st.one_of(*[
    st.tuples(valid_reading, spoiler).map(lambda pair, key=key: {**pair[0], key: pair[1]})
    for key, spoiler in spoilers.items()])
readings = valid_reading | spoiled_reading
raws = readings | st.lists(readings, max_size=1) | st.none() | st.text(max_size=3)


def _decoded(raw: Any, limits: Limits) -> Any:
    try:
        return _decode_item(raw, limits)
    except ValueError as exc:
        return ("rejected", str(exc))


@settings(max_examples=3000)
@given(raw=raws, max_id=st.sampled_from([DEFAULT_LIMITS.max_id_length, 3]))
def test_the_reading_fast_path_builds_what_the_general_path_builds(raw: Any,
                                                                    max_id: int) -> None:
    limits = Limits(max_id_length=max_id)
    fast = _reading(raw, limits, {})
    if fast is not None:
        assert _decoded(raw, limits) == fast
        # A time read before (another item of the message) gives the same reading.
        assert _reading(raw, limits, {raw["time"]: fast.time}) == fast


def test_the_reading_fast_path_takes_the_common_reading() -> None:
    raw = {"kind": "reading", "device": "m1", "metric": "energy_kwh",
           "time": "2026-11-23T07:59:00.123Z", "value": 12}
    fast = _reading(raw, DEFAULT_LIMITS, {})
    assert fast is not None and fast == _decode_item(raw, DEFAULT_LIMITS)
    assert type(fast.value) is float and fast.time.tzinfo is UTC


def _outcome(parse: Any, text: str) -> Any:
    try:
        value = parse(text)
    except (ValueError, RecursionError) as exc:
        return type(exc), str(exc)
    return "ok", json.dumps(value, allow_nan=True, sort_keys=True)


json_texts = (st.recursive(st.none() | st.booleans() | st.floats() | st.integers()
                           | st.text(max_size=4),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                           max_leaves=8).map(json.dumps)
              | st.text(alphabet=' \t\n\r{}[]":,0123456789.eE+-truefalsnNI\\', max_size=20))


@settings(max_examples=3000)
@given(text=json_texts, before=st.sampled_from(["", " ", "\n\t", "\ufeff", "\ufeff{"]),
       after=st.sampled_from(["", " ", "\r\n", " x", "{}"]))
def test_json_is_parsed_as_json_loads_parses_it(text: str, before: str, after: str) -> None:
    text = before + text + after
    assert _outcome(_parse_json, text) == _outcome(json.loads, text)


def _text_of(decode_payload: Any, payload: bytes) -> Any:
    try:
        return decode_payload(payload)
    except UnicodeDecodeError as exc:
        return "refused", exc.encoding, exc.start


@settings(max_examples=2000)
@given(payload=st.binary(max_size=8) | st.binary(max_size=6).map(lambda b: b"{" + b)
       | st.sampled_from(["{}", '{"a":"é"}']).flatmap(
           lambda t: st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-32-le",
                                      "utf-8-sig"]).map(t.encode)))
def test_payload_text_is_decoded_as_json_detects_its_encoding(payload: bytes) -> None:
    assert _text_of(decode_text, payload) == _text_of(
        lambda p: p.decode(json.detect_encoding(p), "surrogatepass"), payload)


@pytest.mark.parametrize("text", ["2026-11-23T07:59:00.123Z", "2026-11-23T07:59:00+00:00",
                                  "2026-11-23T15:59:00.123+08:00", "0001-01-01T00:00:00Z",
                                  "9999-12-31T23:59:59.999-00:00"])
def test_times_in_utc_are_read_as_the_same_instant_in_utc(text: str) -> None:
    t = parse_time(text, "time")
    assert t == datetime.fromisoformat(text).astimezone(UTC)
    assert t.tzinfo is UTC


def _envelope(community: Any, gateway: Any) -> bytes:
    return json.dumps({"v": 1, "community": community, "gateway": gateway, "seq": 1,
                       "sent_at": "2026-11-23T07:59:00Z", "items": []}).encode()


def test_remembered_ids_never_let_an_invalid_one_through() -> None:
    for n in range(12_000):  # more ids than are remembered
        env = decode(_envelope(f"c{n}", "gw1"), now=NOW).envelope
        assert (env.community, env.gateway) == (f"c{n}", "gw1")
    for community, gateway in (("bad id", "gw1"), ("c1", ["gw1"]), ("c1", None),
                               ("c1", "gw1\n")):
        with pytest.raises(EnvelopeError) as caught:
            decode(_envelope(community, gateway), now=NOW)
        assert caught.value.code == "malformed"
    with pytest.raises(EnvelopeError) as caught:
        decode(_envelope("c1", "gw1"), topic=Topic("c1", "gw2", "telemetry"), now=NOW)
    assert caught.value.code == "topic_mismatch"


def test_a_value_past_the_float_range_is_explained_not_taken() -> None:
    raw = {"kind": "reading", "device": "m1", "metric": "p", "time": "2026-11-23T07:59:00Z",
           "value": 2**1024}
    assert _reading(raw, DEFAULT_LIMITS, {}) is None
    with pytest.raises(ValueError, match="beyond the range of a 64-bit float"):
        _decode_item(raw, DEFAULT_LIMITS)


# ---------------------------------------------------------------- whole messages

def _slow_parse_time(value: Any, what: str) -> datetime:
    """parse_time as it was before its UTC shortcut: every zone converted."""
    if isinstance(value, str):
        try:
            t = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if t.tzinfo is not None:
                try:
                    return t.astimezone(UTC)
                except OverflowError:
                    pass
    return parse_time(value, what)  # its refusals, word for word


def _slow_nests_deeper_than(text: str, limit: int) -> bool:
    """The depth check as it was before it dropped empty strings in one pass."""
    raw = text.encode("utf-8", "surrogatepass")
    raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(raw.split(b'"')[::2])
    brackets = outside.translate(bytes.maketrans(b"[]{}", b"()()"),
                                 bytes(b for b in range(256) if b not in b"[]{}"))
    passes = 0
    while passes <= limit:
        inner_removed = brackets.replace(b"()", b"")
        if len(inner_removed) == len(brackets):
            return passes + brackets.count(b"(") > limit
        brackets = inner_removed
        passes += 1
    return True


def _slow_envelope_ids(doc: dict[str, Any]) -> tuple[str, str]:
    try:
        return (check_id(doc.get("community"), "community"),  # type: ignore[arg-type]
                check_id(doc.get("gateway"), "gateway"))  # type: ignore[arg-type]
    except TopicError as exc:
        raise EnvelopeError("malformed", f"envelope: {exc}") from None


def _without_fast_paths() -> Any:
    return mock.patch.multiple(
        "telemetry.codec", _reading=lambda *args: None, _parse_json=json.loads,
        decode_text=lambda payload: payload.decode(json.detect_encoding(payload),
                                                   "surrogatepass"),
        nests_deeper_than=_slow_nests_deeper_than, parse_time=_slow_parse_time,
        _envelope_ids=_slow_envelope_ids)


def _message_outcome(decoder: Any, payload: bytes) -> Any:
    try:
        result = decoder(payload)
    except EnvelopeError as exc:
        return "refused", exc.code, str(exc)
    # repr: NaN inside a rejected item's raw value is never == itself.
    return "accepted", repr(result)


@pytest.mark.parametrize("seed", [1, 2])
def test_messages_decode_the_same_with_and_without_the_fast_paths(seed: int) -> None:
    rng = random.Random(f"fast-paths/{seed}")
    decoders = (
        (envelope_input, lambda p: decode(p, topic=ENVELOPE_TOPIC, now=NOW)),
        (status_input, lambda p: decode_status(p, STATUS_TOPIC)),
    )
    differing = []
    for _ in range(1500):
        for generate, decoder in decoders:
            payload = generate(rng)
            fast = _message_outcome(decoder, payload)
            with _without_fast_paths():
                slow = _message_outcome(decoder, payload)
            if fast != slow:
                differing.append((payload[:200], fast, slow))
    assert differing == []


def test_a_second_byte_order_mark_is_refused_in_json_loads_words() -> None:
    for payload in (b"\xef\xbb\xbf\xef\xbb\xbf{}", "\ufeff{}".encode("utf-16")):
        with pytest.raises(EnvelopeError) as caught:
            decode(payload, now=NOW)
        assert (caught.value.code, str(caught.value)) == (
            "malformed_json", "message is not valid UTF-8 JSON: Unexpected UTF-8 BOM "
            "(decode using utf-8-sig): line 1 column 1 (char 0)")
