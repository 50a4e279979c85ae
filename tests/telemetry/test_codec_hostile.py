"""Hostile messages the decoders once answered with something other than EnvelopeError
(RecursionError, OverflowError, ValueError), and what they answer now."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from telemetry import (
    Envelope,
    EnvelopeError,
    Limits,
    Reading,
    Topic,
    TopicError,
    decode,
    decode_status,
    encode,
    format_time,
    parse_topic,
)
from telemetry.jsonbound import nests_deeper_than

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TOPIC = Topic("demo", "gw1", "telemetry")
STATUS_TOPIC = Topic("demo", "gw1", "status")
GOOD = {"kind": "reading", "device": "light-001", "metric": "power_w",
        "time": "2026-11-23T07:59:00Z", "value": 72.5}


def envelope_text(items: str = "[]", **fields: str) -> bytes:
    head = {"v": "1", "community": '"demo"', "gateway": '"gw1"', "seq": "7",
            "sent_at": '"2026-11-23T08:00:00Z"'} | fields
    return ("{" + ",".join(f'"{k}":{v}' for k, v in head.items()) +
            f',"items":{items}}}').encode("utf-8", "surrogatepass")


def with_item(item_text: str) -> bytes:
    """An envelope holding GOOD, the item written as `item_text`, and GOOD again."""
    good = json.dumps(GOOD)
    return envelope_text(f"[{good},{item_text},{good}]")


def rejected_alone(payload: bytes) -> str:
    """Decode; assert that only the middle item was dropped; return its reason."""
    decoded = decode(payload, topic=TOPIC, now=NOW)
    assert len(decoded.envelope.items) == 2
    assert [r.index for r in decoded.rejected] == [1]
    return decoded.rejected[0].reason


@pytest.mark.parametrize("deep", [
    "[" * 100_000 + "]" * 100_000,
    "[" * 100_000,                       # never closed: the parser recursed all the same
    '{"a":' * 5_000 + "1" + "}" * 5_000,
])
def test_deep_nesting_is_refused_before_the_parser_recurses(deep: str) -> None:
    with pytest.raises(EnvelopeError) as err:
        decode(envelope_text(f"[{deep}]"), topic=TOPIC, now=NOW)
    assert err.value.code == "too_deep"
    assert "more than the limit of 32 levels deep" in str(err.value)
    with pytest.raises(EnvelopeError) as err:
        decode_status(deep.encode(), STATUS_TOPIC)
    assert err.value.code == "too_deep"


def test_event_data_may_nest_to_the_limit_and_not_one_level_more() -> None:
    def event_with_data_depth(levels: int) -> bytes:
        data = '{"a":' * levels + "1" + "}" * levels
        return envelope_text('[{"kind":"event","device":"d","type":"t","severity":"info",'
                             f'"time":"2026-11-23T07:59:00Z","data":{data}}}]')

    assert decode(event_with_data_depth(29), topic=TOPIC, now=NOW).envelope.items
    with pytest.raises(EnvelopeError, match="more than the limit of 32 levels deep"):
        decode(event_with_data_depth(30), topic=TOPIC, now=NOW)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    reason = json.dumps("[{" * 5_000 + '\\"' + "]" * 10)
    decoded = decode(envelope_text('[{"kind":"state","device":"d","state":"offline",'
                                   f'"since":"2026-11-23T07:59:00Z","reason":{reason}}}]'),
                     topic=TOPIC, now=NOW)
    assert decoded.envelope.items[0].reason.startswith("[{[{")  # type: ignore[union-attr]
    three_deep = '[["]]]", {"a": "\\"[[", "b": "\\\\"}]]'
    assert json.loads(three_deep) == [["]]]", {"a": '"[[', "b": "\\"}]]
    assert not nests_deeper_than(three_deep, 3)
    assert nests_deeper_than(f"[{three_deep}]", 3)
    assert not nests_deeper_than('[[["unterminated [[[[', 3)
    assert nests_deeper_than('[[[[ "unbalanced" ]', 3)


def test_a_sent_at_outside_the_calendar_in_utc_rejects_the_message() -> None:
    with pytest.raises(EnvelopeError) as err:
        decode(envelope_text(sent_at='"0001-01-01T00:00:00+01:00"'), topic=TOPIC, now=NOW)
    assert err.value.code == "malformed"
    assert "envelope sent_at '0001-01-01T00:00:00+01:00' falls outside years 1-9999" in \
        str(err.value)


@pytest.mark.parametrize("time", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_an_item_time_outside_the_calendar_rejects_only_that_item(time: str) -> None:
    item = json.dumps(GOOD | {"time": time})
    assert "once converted to UTC; check the device clock" in rejected_alone(with_item(item))


@pytest.mark.parametrize(("value", "words"), [
    ("1" + "0" * 400, "beyond the range of a 64-bit float"),
    ("-" + "9" * 309, "beyond the range of a 64-bit float"),
    ("1e999", "numbers must be finite"),
    ("NaN", "numbers must be finite"),
    ("-Infinity", "numbers must be finite"),
])
def test_a_reading_value_that_is_no_finite_float_rejects_only_that_item(value: str,
                                                                        words: str) -> None:
    item = json.dumps(GOOD).replace("72.5", value)
    reason = rejected_alone(with_item(item))
    assert reason.startswith("item 1: reading value")
    assert words in reason
    assert len(reason) < 300  # the 401-digit number is not repeated in full


def test_largest_float_and_negative_zero_are_still_readings() -> None:
    items = (f"[{json.dumps(GOOD | {'value': 1.7976931348623157e308})},"
             f"{json.dumps(GOOD | {'value': -0.0})},{json.dumps(GOOD | {'value': True})}]")
    values = [r.value for r in decode(envelope_text(items), topic=TOPIC, now=NOW)
              .envelope.items]  # type: ignore[union-attr]
    assert values == [1.7976931348623157e308, 0.0, 1.0]


@pytest.mark.parametrize(("data", "words"), [
    ('{"temp": NaN}', "data['temp'] is nan"),
    ('{"zones": [1, 2, 1e999]}', "data['zones'][2] is inf"),
    ('{"n": ' + "7" * 400 + "}", "data['n'] 777777777777… (400 digits) is beyond the range"),
    ('{"who": "\\udc80x"}', "data['who'] holds '\\udc80', half of a UTF-16 surrogate pair"),
    ('{"\\ud800": 1}', "a key in data holds '\\ud800'"),
])
def test_event_data_that_could_not_be_written_back_rejects_only_that_event(
        data: str, words: str) -> None:
    item = ('{"kind":"event","device":"d","type":"t","severity":"alarm",'
            f'"time":"2026-11-23T07:59:00Z","data":{data}}}')
    assert words in rejected_alone(with_item(item))


@pytest.mark.parametrize("device", ['"sos-\\ud83d"', '"sos-\ud83d"'])
def test_a_lone_surrogate_in_an_id_rejects_the_item(device: str) -> None:
    # Once as a JSON escape, once as raw (invalid UTF-8) surrogate bytes, which
    # json.loads(bytes) has always decoded with surrogatepass.
    item = json.dumps(GOOD).replace('"light-001"', device)
    assert "device holds '\\ud83d', half of a UTF-16 surrogate pair" in \
        rejected_alone(with_item(item))


def test_seq_must_fit_the_64_bit_column_it_is_stored_in() -> None:
    decoded = decode(envelope_text(seq=str(2**63 - 1)), topic=TOPIC, now=NOW)
    assert decoded.envelope.seq == 2**63 - 1
    with pytest.raises(EnvelopeError, match=r"seq must be an integer from 0 to 2\*\*63-1"):
        decode(envelope_text(seq=str(2**63)), topic=TOPIC, now=NOW)


def test_an_integer_longer_than_python_converts_rejects_the_message() -> None:
    for payload, decoder in ((envelope_text(seq="1" * 5000), "envelope"),
                             (b'{"v":' + b"9" * 4301 + b"}", "status")):
        with pytest.raises(EnvelopeError) as err:
            if decoder == "envelope":
                decode(payload, topic=TOPIC, now=NOW)
            else:
                decode_status(payload, STATUS_TOPIC)
        assert err.value.code == "malformed"
        assert "integer of more than 4300 digits" in str(err.value)


def test_status_time_outside_the_calendar_is_an_envelope_error() -> None:
    payload = (b'{"v":1,"community":"demo","gateway":"gw1","status":"online",'
               b'"time":"9999-12-31T23:59:59-01:00"}')
    with pytest.raises(EnvelopeError, match=r"status time .* falls outside years 1-9999"):
        decode_status(payload, STATUS_TOPIC)


def test_status_messages_have_the_same_size_limit_as_envelopes() -> None:
    with pytest.raises(EnvelopeError) as err:
        decode_status(b" " * 2000 + b"{}", STATUS_TOPIC, limits=Limits(max_bytes=1000))
    assert err.value.code == "oversize"


def test_times_before_year_1000_are_written_with_four_digit_years() -> None:
    t = datetime(1, 1, 1, 0, 0, 0, 5000, tzinfo=UTC)
    assert format_time(t) == "0001-01-01T00:00:00.005Z"
    env = Envelope("demo", "gw1", 1, t, (Reading("d", "m", datetime(999, 6, 1, tzinfo=UTC), 1.0),))
    anytime = Limits(earliest=datetime(1, 1, 1, tzinfo=UTC))
    assert decode(encode(env), topic=TOPIC, now=NOW, limits=anytime).envelope == env


@pytest.mark.parametrize("time", ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
                                  "1999-12-31T23:59:59.999Z"])
def test_an_item_time_before_2000_rejects_only_that_item(time: str) -> None:
    """A clock never set is no measurement; and year 1 has no local day before it."""
    item = json.dumps(GOOD | {"time": time})
    shown = time if "." in time else time.replace("Z", ".000Z")
    assert rejected_alone(with_item(item)).endswith(
        f"time {shown} is before 2000-01-01T00:00:00.000Z, so no measurement; check the "
        "device clock (one never set often reads 1970-01-01)")


def test_an_id_with_a_trailing_newline_is_not_an_id() -> None:
    with pytest.raises(TopicError, match="gateway id 'gw1\\\\n' is not valid"):
        parse_topic("scg/v1/demo/gw1\n/telemetry")
    with pytest.raises(EnvelopeError, match="community id"):
        decode(envelope_text(community='"demo\\n"'), now=NOW)


def test_a_depth_limit_the_parser_cannot_honour_is_refused() -> None:
    with pytest.raises(ValueError, match="max_depth is 5000"):
        Limits(max_depth=5000)
