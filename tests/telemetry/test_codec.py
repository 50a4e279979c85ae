from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry import (
    DeviceState,
    Envelope,
    EnvelopeError,
    Event,
    GatewayStatus,
    Limits,
    Probe,
    Reading,
    Severity,
    StateChange,
    Topic,
    decode,
    decode_status,
    encode,
    encode_item,
    encode_raw_items,
    encode_status,
    format_time,
    parse_topic,
)

T0 = datetime(2026, 11, 23, 8, 0, 0, 123000, tzinfo=UTC)
TOPIC = Topic("demo", "gw1", "telemetry")


def envelope(*items: object, seq: int = 7) -> Envelope:
    return Envelope("demo", "gw1", seq, T0, tuple(items))  # type: ignore[arg-type]


def raw(doc: dict[str, object]) -> bytes:
    return json.dumps(doc).encode()


def test_every_item_kind_survives_a_round_trip() -> None:
    items = (
        Reading("light-001", "power_w", T0, 72.5),
        Event("light-001", "lamp_fault", Severity.ALARM, T0, True, {"code": 3}),
        Event("gate-1", "pass", Severity.INFO, T0),
        StateChange("light-002", DeviceState.OFFLINE, T0, "no answer for 31 s"),
        Probe("cam-1", T0, False, "black frame", {"mean": 4.2}),
    )
    decoded = decode(encode(envelope(*items)), topic=TOPIC, now=T0)
    assert decoded.rejected == ()
    assert decoded.envelope == envelope(*items)


def test_times_are_written_in_utc_with_milliseconds() -> None:
    t = datetime(2026, 11, 23, 16, 0, 0, 5000, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert format_time(t) == "2026-11-23T16:00:00.005Z"


def test_raw_items_build_the_same_envelope_as_encode() -> None:
    items = [Reading("d", "m", T0, 1.0), Reading("d", "m", T0 + timedelta(seconds=1), 2.0)]
    assert encode_raw_items("demo", "gw1", 7, T0, [encode_item(i) for i in items]) == \
        encode(envelope(*items))


@pytest.mark.parametrize(("payload", "code", "words"), [
    (b"{not json", "malformed_json", "not valid UTF-8 JSON"),
    (b"\xff\xfe", "malformed_json", "not valid UTF-8 JSON"),
    (b"[1,2]", "malformed", "must be a JSON object, got array"),
    (raw({"v": 2, "community": "demo", "gateway": "gw1", "seq": 1,
          "sent_at": "2026-11-23T08:00:00Z", "items": []}), "unknown_version", "version 2"),
    (raw({"v": 1, "community": "demo", "gateway": "gw1", "seq": -1,
          "sent_at": "2026-11-23T08:00:00Z", "items": []}), "malformed", "seq"),
    (raw({"v": 1, "community": "demo", "gateway": "gw1", "seq": 1,
          "sent_at": "2026-11-23T08:00:00", "items": []}), "malformed", "no timezone"),
    (raw({"v": 1, "community": "demo", "gateway": "gw1", "seq": 1,
          "sent_at": "2026-11-23T08:00:00Z", "items": {}}), "malformed", "items must be a list"),
    (raw({"v": 1, "community": "a/b", "gateway": "gw1", "seq": 1,
          "sent_at": "2026-11-23T08:00:00Z", "items": []}), "malformed", "community id"),
])
def test_whole_message_faults_are_rejected_with_a_reason(payload: bytes, code: str,
                                                         words: str) -> None:
    with pytest.raises(EnvelopeError) as err:
        decode(payload, topic=TOPIC, now=T0)
    assert err.value.code == code
    assert words in str(err.value)


def test_topic_naming_another_community_rejects_the_message() -> None:
    with pytest.raises(EnvelopeError) as err:
        decode(encode(envelope(Reading("d", "m", T0, 1.0))),
               topic=Topic("other", "gw1", "telemetry"), now=T0)
    assert err.value.code == "topic_mismatch"
    assert "'other'" in str(err.value) and "'demo'" in str(err.value)


def test_oversize_messages_are_rejected_before_parsing() -> None:
    payload = encode(envelope(*[Reading("d", "m", T0, float(i)) for i in range(100)]))
    with pytest.raises(EnvelopeError) as err:
        decode(payload, topic=TOPIC, now=T0, limits=Limits(max_bytes=1000))
    assert err.value.code == "oversize"
    assert f"{len(payload)} bytes" in str(err.value)


def test_a_bad_item_is_rejected_alone_and_its_neighbours_are_kept() -> None:
    good = [Reading("d", "m", T0, 1.0), Reading("d", "m", T0 + timedelta(seconds=1), 2.0)]
    doc = json.loads(encode(envelope(*good)))
    doc["items"].insert(1, {"kind": "reading", "device": "d", "metric": "m",
                            "time": "2026-11-23T08:00:00Z", "value": "hot"})
    doc["items"].append({"kind": "gossip", "device": "d"})
    doc["items"].append({"kind": "reading", "device": "d", "metric": "m",
                         "time": "2026-11-23T09:00:00Z", "value": 3})
    decoded = decode(raw(doc), topic=TOPIC, now=T0)
    assert decoded.envelope.items == tuple(good)
    assert [(r.index, r.reason.split(":")[0]) for r in decoded.rejected] == [
        (1, "item 1"), (3, "item 3"), (4, "item 4")]
    assert "finite number" in decoded.rejected[0].reason
    assert "'gossip'" in decoded.rejected[1].reason
    assert "in the future; check the device clock" in decoded.rejected[2].reason


def test_status_messages_round_trip_and_must_match_their_topic() -> None:
    status = GatewayStatus("demo", "gw1", False, T0)
    topic = parse_topic("scg/v1/demo/gw1/status")
    assert decode_status(encode_status(status), topic) == status
    with pytest.raises(EnvelopeError, match=r"names 'demo' / 'gw1'"):
        decode_status(encode_status(status), parse_topic("scg/v1/demo/gw2/status"))



def test_a_status_may_name_the_gateways_release_and_a_bad_one_is_refused() -> None:
    topic = parse_topic("scg/v1/demo/gw1/status")
    status = GatewayStatus("demo", "gw1", True, T0, "0.1.0")
    assert decode_status(encode_status(status), topic).version == "0.1.0"
    assert b'"version"' not in encode_status(GatewayStatus("demo", "gw1", True, T0))
    for bad, shown in ((7, "7"), ("", "''"), ("x" * 65, "'xxxx"), ("版本", "'版本'")):
        payload = (b'{"v":1,"community":"demo","gateway":"gw1","status":"online",'
                   b'"time":"2026-01-01T00:00:00Z","version":'
                   + json.dumps(bad).encode() + b"}")
        with pytest.raises(EnvelopeError, match="status version must be printable ASCII") as e:
            decode_status(payload, topic)
        assert shown in str(e.value)


ident = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                max_size=40)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1),
                     timezones=st.just(UTC)).map(lambda t: t.replace(
                         microsecond=t.microsecond // 1000 * 1000))


@given(st.lists(st.builds(Reading, ident, ident, times,
                          st.floats(allow_nan=False, allow_infinity=False)), max_size=20),
       st.integers(min_value=0, max_value=2**62))
def test_any_valid_readings_round_trip(readings: list[Reading], seq: int) -> None:
    env = Envelope("demo", "gw1", seq, T0, tuple(readings))
    decoded = decode(encode(env), topic=TOPIC, now=datetime(2031, 1, 1, tzinfo=UTC))
    assert decoded.rejected == ()
    assert decoded.envelope == env


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_anything_but_envelope_error(data: bytes) -> None:
    with contextlib.suppress(EnvelopeError):
        decode(data, topic=TOPIC, now=T0)
