"""Fuzz inputs for the telemetry decoders: envelopes and gateway status messages.

Inputs are a mix: random bytes and JSON-punctuation soup (the parser's own checks),
valid messages generated from the wire contract with edge-of-range values (the item
checks), the same messages with one to three values replaced by something hostile
(NaN, 10**400, years 1 and 9999 with offsets, lone surrogates, deep nesting, huge
strings, wrong types), and byte-level mutations of valid messages (flips, truncation,
splices with another message). Documents may hold `Raw` pieces of JSON text, spliced in
after `json.dumps`, for what it cannot write: literals with thousands of digits, NaN
next to deep or unterminated nesting.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from scripts.fuzzkit import FuzzTarget, mutate_bytes, random_bytes, soup
from telemetry import (
    Decoded,
    Envelope,
    EnvelopeError,
    GatewayStatus,
    StateChange,
    Topic,
    decode,
    decode_status,
    encode,
    encode_status,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ENVELOPE_TOPIC = Topic("demo", "gw1", "telemetry")
STATUS_TOPIC = Topic("demo", "gw1", "status")


def decode_envelope(payload: bytes) -> Decoded:
    """Decode, then check that what was accepted can be sent again and reads the same."""
    decoded = decode(payload, topic=ENVELOPE_TOPIC, now=NOW)
    again = decode(encode(decoded.envelope), topic=ENVELOPE_TOPIC, now=NOW)
    if again != Decoded(to_milliseconds(decoded.envelope)):
        raise AssertionError(f"re-encoding changed the envelope: {decoded} became {again}")
    return decoded


def decode_gateway_status(payload: bytes) -> GatewayStatus:
    status = decode_status(payload, STATUS_TOPIC)
    again = decode_status(encode_status(status), STATUS_TOPIC)
    if again != replace(status, time=_ms(status.time)):
        raise AssertionError(f"re-encoding changed the status: {status} became {again}")
    return status


def to_milliseconds(envelope: Envelope) -> Envelope:
    """`envelope` as it reads after a trip over the wire, which carries milliseconds."""
    items = tuple(replace(i, since=_ms(i.since)) if isinstance(i, StateChange)
                  else replace(i, time=_ms(i.time)) for i in envelope.items)
    return replace(envelope, sent_at=_ms(envelope.sent_at), items=items)


def _ms(t: datetime) -> datetime:
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Raw:
    """JSON text written verbatim: NaN, 1e999, 5000-digit integers, deep or broken nesting."""

    text: str


def write_json(value: Any, rng: random.Random) -> str:
    """JSON text of `value` (which may contain Raw), with random spacing and escaping.

    json.dumps writes everything but the Raw pieces, which it hands to `default`: they go
    in as numbered placeholders and are swapped for their text afterwards.
    """
    raws: list[str] = []

    def placeholder(o: object) -> str:
        if not isinstance(o, Raw):
            raise TypeError(f"cannot write {type(o).__name__} as JSON")
        raws.append(o.text)
        return f"\x00raw{len(raws) - 1}\x00"

    ascii_only = rng.random() < 0.3
    text = json.dumps(value, default=placeholder, ensure_ascii=ascii_only,
                      separators=rng.choice(((",", ":"), (", ", ": "), (" ,\n", ":"))))
    for i, raw in enumerate(raws):
        text = text.replace(f'"\\u0000raw{i}\\u0000"', raw, 1)
    return text


def to_bytes(text: str, rng: random.Random) -> bytes:
    """Mostly UTF-8 (lone surrogates as raw bytes), sometimes another encoding json accepts."""
    roll = rng.random()
    if roll < 0.97:
        return text.encode("utf-8", "surrogatepass")
    if roll < 0.98:
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    return text.encode(rng.choice(("utf-16", "utf-16-le", "utf-32-be")), "surrogatepass")


# ---------------------------------------------------------------- values

ODD_TIMES = (
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z", "0999-06-01T00:00:00Z", "2026-02-30T00:00:00Z",
    "2026-11-23T08:00:00+24:00", "2026-11-23T08:00:00+23:59", "2026-11-23T08:00:00-23:59:59",
    "2026-11-23", "20261123T080000Z", "2026-W01-1T00:00Z", "2026-11-23T08:00:00.1234567Z",
    "2026-11-23T08:00:00,5Z", "2026-11-23 08:00:00Z", "2026-11-23T08:00:00", "", "T",
    "2026-11-23T08:00:00\ud800Z", "２０２６-11-23T08:00:00Z", "2026-11-23T24:00:00Z",
    "1970-01-01T00:00:00Z", "2026-11-23T08:05:01Z", "2038-01-19T03:14:08Z",
)
DEEP = (3, 28, 29, 30, 31, 32, 33, 64, 999, 1000, 5000, 100_000)


def deep_nesting(rng: random.Random) -> Raw:
    depth = rng.choice(DEEP)
    shape = rng.randrange(4)
    if shape == 0:
        return Raw("[" * depth + "]" * depth)
    if shape == 1:
        return Raw('{"a":' * depth + "1" + "}" * depth)
    if shape == 2:
        return Raw("[" * depth)  # never closed
    return Raw('["[[[[' * depth + '"]')  # brackets inside a string do not nest


def odd_number(rng: random.Random) -> Any:
    return rng.choice((
        Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e999"), Raw("-1e400"),
        Raw("1E+309"), Raw("1" * rng.choice((309, 400, 4300, 4301, 6000))),
        Raw("-" + "9" * 4301), Raw("0." + "0" * 400 + "1"), Raw("1e-400"),
        10**308, 10**309, -(10**400), 2**63, 2**63 - 1, 2**64, -1, -0.0, 0.0, 5e-324,
        1.7976931348623157e308, -1.7976931348623157e308, True, False, 0, 1,
    ))


def odd_text(rng: random.Random) -> str:
    return rng.choice((
        "", " ", "\x00", "\ud800", "\udfff", "a\ud83dz", "\u202eevil", "💡", "光照", "gw1\n",
        "demo ", "a/b", "+", "#", "x" * 128, "x" * 129, "é" * 64,
        "x" * rng.choice((1000, 65_536)), "\\", '"', "\u0085", "\ufeff",
    ))


def odd_value(rng: random.Random) -> Any:
    roll = rng.randrange(10)
    if roll < 3:
        return odd_number(rng)
    if roll < 5:
        return odd_text(rng)
    if roll < 7:
        return rng.choice(ODD_TIMES)
    if roll < 8:
        return deep_nesting(rng)
    return rng.choice((None, [], {}, [1, "a", None], {"": {"": []}}, True, "online"))


def json_value(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value, shallow and mostly small."""
    roll = rng.randrange(10 if depth < 4 else 7)
    if roll < 2:
        return rng.uniform(-1e6, 1e6)
    if roll < 3:
        return rng.randint(-(2**70), 2**70)
    if roll < 5:
        return rng.choice(("ok", "码流", "", "a" * rng.randint(1, 40)))
    if roll < 6:
        return rng.choice((True, False, None))
    if roll < 7:
        return odd_value(rng) if rng.random() < 0.2 else rng.random()
    if roll < 8:
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(("mean", "std", "code", "zone", "", "键")) + str(i):
            json_value(rng, depth + 1) for i in range(rng.randint(0, 4))}


# ---------------------------------------------------------------- valid messages

DEVICES = ("light-001", "cam-7", "meter.3f", "光-1", "d", "x" * 128)


def wire_time(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.85:
        stamp = NOW.timestamp() - rng.uniform(-200, 86400 * 30)
        t = datetime.fromtimestamp(stamp, UTC)
    else:
        t = datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28),
                     rng.randrange(24), rng.randrange(60), rng.randrange(60),
                     rng.randrange(1_000_000), tzinfo=UTC)
    text = t.isoformat(timespec=rng.choice(("seconds", "milliseconds", "microseconds")))
    return text.replace("+00:00", "Z") if rng.random() < 0.5 else text


def valid_item(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(("reading", "reading", "event", "state", "probe"))
    item: dict[str, Any] = {"kind": kind, "device": rng.choice(DEVICES)}
    if kind == "reading":
        item |= {"metric": rng.choice(("power_w", "temp_c", "m")), "time": wire_time(rng),
                 "value": rng.choice((rng.uniform(-1e9, 1e9), rng.randint(-(2**53), 2**53),
                                      -0.0, 5e-324, 1.7976931348623157e308, True))}
    elif kind == "event":
        item |= {"type": rng.choice(("lamp_fault", "sos", "ebike_detected")),
                 "severity": rng.choice(("info", "warning", "alarm", "critical")),
                 "time": wire_time(rng)}
        if rng.random() < 0.7:
            item["active"] = rng.choice((True, False, None))
        if rng.random() < 0.7:
            item["data"] = json_value(rng, 3) if rng.random() < 0.2 else {"code": rng.randint(
                0, 99), "zone": json_value(rng, 2)}
    elif kind == "state":
        item |= {"state": rng.choice(("online", "degraded", "offline", "unknown")),
                 "since": wire_time(rng), "reason": rng.choice(("", "no answer for 31 s", "坏"))}
    else:
        item |= {"time": wire_time(rng), "ok": rng.random() < 0.5,
                 "reason": rng.choice(("", "black frame")),
                 "data": {"mean": rng.uniform(0, 255), "std": rng.random()}}
    return item


def valid_envelope(rng: random.Random) -> dict[str, Any]:
    n = rng.choice((0, 1, 1, 2, 3, 5, 8, 20))
    doc = {"v": 1, "community": "demo", "gateway": "gw1",
           "seq": rng.choice((0, rng.randrange(2**31), rng.randrange(2**63))),
           "sent_at": wire_time(rng), "items": [valid_item(rng) for _ in range(n)]}
    if rng.random() < 0.05:
        doc["gateway"] = "gw2"  # topic mismatch
    if rng.random() < 0.1:
        doc["extra"] = json_value(rng)
    return doc


def valid_status(rng: random.Random) -> dict[str, Any]:
    doc = {"v": 1, "community": "demo", "gateway": "gw1",
           "status": rng.choice(("online", "offline")), "time": wire_time(rng)}
    if rng.random() < 0.1:
        doc[rng.choice(("community", "gateway"))] = rng.choice(("demo2", "gw2", "gw1\n"))
    return doc


# ---------------------------------------------------------------- mutations

def places(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in `doc`, to pick a value to replace."""
    found: list[tuple[Any, Any]] = []
    pending = [doc]
    while pending:
        node = pending.pop()
        keys: Iterable[Any] = node.keys() if isinstance(node, dict) else range(len(node))
        for key in keys:
            found.append((node, key))
            if isinstance(node[key], dict | list):
                pending.append(node[key])
    return found


def mutate_doc(doc: dict[str, Any], rng: random.Random) -> Any:
    for _ in range(rng.randint(1, 3)):
        spots = places(doc)
        if not spots:
            break
        node, key = rng.choice(spots)
        roll = rng.randrange(10)
        if roll < 7:
            node[key] = odd_value(rng)
        elif roll < 8 and isinstance(node, dict):
            del node[key]
        elif roll < 9:
            node[key] = rng.choice(([node[key]], {"x": node[key]}, str(node[key])))
        elif isinstance(node, list):
            node.extend(node[key] for _ in range(rng.randint(1, 3)))
        else:
            node[odd_text(rng)] = odd_value(rng)
    return doc if rng.random() < 0.97 else rng.choice(([doc], doc.get("items"), odd_value(rng)))


JSON_TOKENS = (b"NaN", b"-Infinity", b"1e999", b"[", b"{", b"]", b"}", b'"', b"\\", b'"\\ud800"',
               b",", b":", b"null", b"true", b"\xed\xa0\x80", b"\xff", b"\x00", b"[" * 40,
               b"9" * 400, b"-0.0", b'"0001-01-01T00:00:00+01:00"', b"\\u0000", b"\xef\xbb\xbf")
JSON_ALPHABET = b'{}[]",:0123456789-+eE.truefalsnNIiy \\u\n'


def message_input(rng: random.Random, valid: Any, generic: Any = None) -> bytes:
    """One fuzz input for a decoder of JSON messages, built around `valid(rng)`."""
    roll = rng.random()
    if roll < 0.08:
        return random_bytes(rng)
    if roll < 0.15:
        return soup(rng, JSON_ALPHABET)
    if roll < 0.20:
        return to_bytes(write_json(json_value(rng), rng), rng)
    if roll < 0.45:
        return to_bytes(write_json(valid(rng), rng), rng)
    if roll < 0.80:
        return to_bytes(write_json(mutate_doc(valid(rng), rng), rng), rng)
    data = to_bytes(write_json(valid(rng), rng), rng)
    partner = to_bytes(write_json(valid(rng), rng), rng)
    return mutate_bytes(data, rng, JSON_TOKENS, partner)


def envelope_input(rng: random.Random) -> bytes:
    return message_input(rng, valid_envelope)


def status_input(rng: random.Random) -> bytes:
    return message_input(rng, valid_status)


def item_rejections(result: object) -> Iterable[str]:
    """What kind of item was rejected inside an accepted envelope, for the summary."""
    assert isinstance(result, Decoded)
    for rejection in result.rejected:
        reason = rejection.reason.split(": ", 1)[-1]
        yield _VALUES.sub("…", reason)[:40]


# Quoted values, numbers and times in a reason, so that reasons count by kind.
_VALUES = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[-+]?\d[\w:.+-]*")


ENVELOPE = FuzzTarget(
    name="envelope", description="telemetry.decode on scg/v1/demo/gw1/telemetry, then encode and "
    "decode again what it accepted",
    decode=decode_envelope, expected=(EnvelopeError,), generate=envelope_input,
    default_count=1_000_000, notes=item_rejections)

STATUS = FuzzTarget(
    name="status", description="telemetry.decode_status on scg/v1/demo/gw1/status, then "
    "encode_status and decode again",
    decode=decode_gateway_status, expected=(EnvelopeError,), generate=status_input,
    default_count=200_000)
