"""Encode and strictly decode envelopes (wire version 1).

An envelope is one JSON object per MQTT message:

    {"v": 1, "community": "demo", "gateway": "gw1", "seq": 42,
     "sent_at": "2026-11-23T08:00:00.000Z", "items": [ {...}, ... ]}

Decoding separates two kinds of badness. A fault in the envelope itself (not JSON,
nested too deep, unknown version, oversize, topic naming another community or gateway)
rejects the whole message with `EnvelopeError`. A fault in one item (missing field, time
far in the future, before 2000 or outside the calendar, a number that is not finite)
rejects only that item: the valid neighbours are kept, and the rejects come back with their
index and reason so the receiver can dead-letter them. No input makes the decoders raise
anything else: what they accept, `encode` can write back.
"""

from __future__ import annotations

import json
import json.scanner
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from telemetry.items import DeviceState, Event, Item, Probe, Reading, Severity, StateChange
from telemetry.jsonbound import (
    DEPTH_CEILING,
    FLOAT_MAX,
    check_number,
    check_portable,
    check_text,
    decode_text,
    json_type,
    nests_deeper_than,
    show,
)
from telemetry.topics import Topic, TopicError, check_id
from telemetry.wiretime import format_time as format_time  # re-exported: callers find
from telemetry.wiretime import parse_time as parse_time  # them in the codec

WIRE_VERSION: Final = 1

#: `seq` is stored as a signed 64-bit integer by the gateway spool and by ingest.
SEQ_MAX: Final = 2**63 - 1


class EnvelopeError(ValueError):
    """The message as a whole cannot be accepted. `code` is a short machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds a receiver enforces; the defaults suit one edge gateway's uplink.

    `max_depth` counts every array and object level of the whole message: an envelope uses
    three (envelope, items, item), so the default leaves event and probe data 29 levels.
    """

    max_bytes: int = 1_048_576
    max_items: int = 10_000
    max_future: timedelta = timedelta(minutes=5)
    #: Item times before this are a clock that was never set (1970-01-01 after a reset, or
    #: year 1), not a measurement; the local-day arithmetic of energy counters also needs
    #: the day before a time to exist.
    earliest: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    max_id_length: int = 128
    max_depth: int = 32

    def __post_init__(self) -> None:
        if not 3 <= self.max_depth <= DEPTH_CEILING:
            raise ValueError(f"Limits.max_depth is {self.max_depth}; it must be between 3 (an "
                             f"envelope needs that) and {DEPTH_CEILING} (the JSON parser "
                             "recurses once per level)")


DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True)
class Envelope:
    """One uplink message. `(community, gateway, seq)` identifies it for de-duplication."""

    community: str
    gateway: str
    seq: int
    sent_at: datetime
    items: tuple[Item, ...]
    v: int = WIRE_VERSION


@dataclass(frozen=True, slots=True)
class ItemRejection:
    """An item that was dropped from an otherwise valid envelope, and why."""

    index: int
    reason: str
    raw: Any


@dataclass(frozen=True, slots=True)
class Decoded:
    envelope: Envelope
    rejected: tuple[ItemRejection, ...] = field(default=())


# ---------------------------------------------------------------- encode

def item_to_dict(item: Item) -> dict[str, Any]:
    """The wire form of one item."""
    if isinstance(item, Reading):
        return {"kind": "reading", "device": item.device, "metric": item.metric,
                "time": format_time(item.time), "value": item.value}
    if isinstance(item, Event):
        d: dict[str, Any] = {"kind": "event", "device": item.device, "type": item.type,
                             "severity": item.severity.value, "time": format_time(item.time)}
        if item.active is not None:
            d["active"] = item.active
        if item.data:
            d["data"] = item.data
        return d
    if isinstance(item, StateChange):
        return {"kind": "state", "device": item.device, "state": item.state.value,
                "since": format_time(item.since), "reason": item.reason}
    return {"kind": "probe", "device": item.device, "time": format_time(item.time),
            "ok": item.ok, "reason": item.reason, "data": item.data}


def encode_item(item: Item) -> bytes:
    """One item as compact JSON (the gateway spool stores items in this form)."""
    return dump_json(item_to_dict(item))


def encode(envelope: Envelope) -> bytes:
    """The envelope as compact UTF-8 JSON."""
    return dump_json({
        "v": envelope.v,
        "community": envelope.community,
        "gateway": envelope.gateway,
        "seq": envelope.seq,
        "sent_at": format_time(envelope.sent_at),
        "items": [item_to_dict(i) for i in envelope.items],
    })


def encode_raw_items(community: str, gateway: str, seq: int, sent_at: datetime,
                     items: list[bytes]) -> bytes:
    """Envelope from items already encoded with `encode_item`, without re-parsing them."""
    head = dump_json({"v": WIRE_VERSION, "community": community, "gateway": gateway,
                      "seq": seq, "sent_at": format_time(sent_at)})
    return head[:-1] + b',"items":[' + b",".join(items) + b"]}"


def dump_json(obj: Any) -> bytes:
    """Compact UTF-8 JSON, refusing NaN and Infinity (which are not JSON)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


# ---------------------------------------------------------------- decode

def decode(payload: bytes, *, topic: Topic | None = None, now: datetime | None = None,
           limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """Decode and validate one envelope received on `topic`.

    Raises EnvelopeError when the message as a whole is unacceptable; otherwise returns
    the envelope with its valid items and the list of rejected items.
    """
    doc = load_json(payload, limits, "message")
    if not isinstance(doc, dict):
        raise EnvelopeError("malformed", f"envelope must be a JSON object, got {json_type(doc)}")
    v = doc.get("v")
    if v != WIRE_VERSION:
        raise EnvelopeError("unknown_version",
                            f"envelope version {show(v)} is not supported (this receiver speaks "
                            f"v{WIRE_VERSION}); upgrade the receiver or the gateway")
    community, gateway = _envelope_ids(doc)
    if topic is not None and (topic.community, topic.gateway) != (community, gateway):
        raise EnvelopeError("topic_mismatch",
                            f"topic {topic} names community {topic.community!r} / gateway "
                            f"{topic.gateway!r} but the envelope says {community!r} / "
                            f"{gateway!r}; a gateway may only publish under its own ids")
    seq = doc.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= SEQ_MAX:
        raise EnvelopeError("malformed", f"envelope seq must be an integer from 0 to 2**63-1 "
                            f"(it is stored as a 64-bit integer), got {show(seq)}")
    try:
        sent_at = parse_time(doc.get("sent_at"), "envelope sent_at")
    except ValueError as exc:
        raise EnvelopeError("malformed", str(exc)) from None
    raw_items = doc.get("items")
    if not isinstance(raw_items, list):
        raise EnvelopeError("malformed", f"envelope items must be a list, got "
                            f"{json_type(raw_items)}")
    if len(raw_items) > limits.max_items:
        raise EnvelopeError("oversize", f"envelope has {len(raw_items)} items, more than the "
                            f"limit of {limits.max_items}")
    horizon = (now or datetime.now(UTC)) + limits.max_future
    items: list[Item] = []
    rejected: list[ItemRejection] = []
    times: dict[str, datetime] = {}  # the items of one poll often share their time
    for index, raw in enumerate(raw_items):
        try:
            item = _reading(raw, limits, times) or _decode_item(raw, limits)
            t = item.since if isinstance(item, StateChange) else item.time
            if t > horizon:
                raise ValueError(f"time {format_time(t)} is more than "
                                 f"{limits.max_future} in the future; check the device clock")
            if t < limits.earliest:
                raise ValueError(f"time {format_time(t)} is before "
                                 f"{format_time(limits.earliest)}, so no measurement; check "
                                 "the device clock (one never set often reads 1970-01-01)")
        except ValueError as exc:
            rejected.append(ItemRejection(index, f"item {index}: {exc}", raw))
            continue
        items.append(item)
    env = Envelope(community, gateway, seq, sent_at, tuple(items))
    return Decoded(env, tuple(rejected))


def load_json(payload: bytes, limits: Limits, what: str) -> Any:
    """Parse one message's JSON within `limits`; raise EnvelopeError for anything else.

    The size and the nesting depth are checked before the parser runs, because the parser
    itself is what a hostile message attacks (RecursionError on deep nesting).
    """
    if len(payload) > limits.max_bytes:
        raise EnvelopeError("oversize", f"{what} is {len(payload)} bytes, more than the "
                            f"limit of {limits.max_bytes}; send smaller batches")
    try:
        text = decode_text(payload)
    except UnicodeDecodeError as exc:
        raise EnvelopeError("malformed_json", f"{what} is not valid UTF-8 JSON: {exc}") from None
    if nests_deeper_than(text, limits.max_depth):
        raise EnvelopeError("too_deep", f"{what} nests arrays and objects more than the limit "
                            f"of {limits.max_depth} levels deep; send flatter JSON (an "
                            f"envelope takes 3 levels, leaving {limits.max_depth - 3} for "
                            "event and probe data)")
    try:
        return _parse_json(text)
    except json.JSONDecodeError as exc:
        raise EnvelopeError("malformed_json", f"{what} is not valid UTF-8 JSON: {exc}") from None
    except ValueError:
        # The one other ValueError json.loads raises: an integer literal longer than the
        # interpreter converts (sys.get_int_max_str_digits(), 4300 digits by default).
        raise EnvelopeError("malformed", f"{what} holds an integer of more than "
                            f"{sys.get_int_max_str_digits()} digits; send numbers within the "
                            "range of a 64-bit float (about ±1.8e308)") from None


def _reading(raw: Any, limits: Limits, times: dict[str, datetime]) -> Reading | None:
    """The common item, a well-formed reading, decoded with the fewest checks that accept
    exactly what `_decode_item` accepts and build the same value; None for anything else
    (including every fault), which `_decode_item` then decodes or explains."""
    if type(raw) is not dict or raw.get("kind") != "reading":
        return None
    device = raw.get("device")
    metric = raw.get("metric")
    value = raw.get("value")
    stamp = raw.get("time")
    longest = limits.max_id_length
    if not (type(device) is str and type(metric) is str and type(stamp) is str
            and 0 < len(device) <= longest and 0 < len(metric) <= longest
            and device.isascii() and metric.isascii()):
        return None
    if type(value) is float or type(value) is int:
        # Beyond ±FLOAT_MAX, and NaN, fails the comparison: check_number then explains.
        if not -FLOAT_MAX <= value <= FLOAT_MAX:
            return None
        value = float(value)
    else:
        return None
    t = times.get(stamp)
    if t is None:
        try:
            t = parse_time(stamp, "time")
        except ValueError:
            return None
        times[stamp] = t
    return Reading(device, metric, t, value)


#: What json.loads runs inside its Python-level wrapper: (text, index) -> (value, end).
_scan_json: Final[Callable[[str, int], tuple[Any, int]]] = \
    json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_SPACE: Final = re.compile(r"[ \t\n\r]*")  # JSON's whitespace


def _after_space(text: str, pos: int) -> int:
    found = _SPACE.match(text, pos)
    return found.end() if found else pos


def _parse_json(text: str) -> Any:
    """`json.loads(text)`, same values and errors, without its Python-level wrapper's
    whitespace matching when the text starts with its value (a message's "{")."""
    if text[:1] == "{":
        start = 0
    elif text[:1] == "\ufeff":
        # json.loads refuses a str that starts with a byte-order mark in its own words
        # (one is left when a payload carries two: decoding strips only the first).
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    else:
        start = _after_space(text, 0)
    try:
        doc, end = _scan_json(text, start)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    if end != len(text):
        end = _after_space(text, end)
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    return doc


def _decode_item(raw: Any, limits: Limits) -> Item:
    if not isinstance(raw, dict):
        raise ValueError(f"must be a JSON object, got {json_type(raw)}")
    kind = raw.get("kind")
    device = _ident(raw, "device", limits)
    if kind == "reading":
        value = raw.get("value")
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, int | float):
            raise ValueError(f"reading value must be a finite number, got {show(value)}")
        return Reading(device, _ident(raw, "metric", limits), parse_time(raw.get("time"), "time"),
                       check_number(value, "reading value"))
    if kind == "event":
        sev = raw.get("severity")
        try:
            severity = Severity(str(sev))
        except ValueError:
            raise ValueError(f"event severity {show(sev)} is not one of "
                             f"{', '.join(s.value for s in Severity)}") from None
        active = raw.get("active")
        if active is not None and not isinstance(active, bool):
            raise ValueError(f"event active must be true, false or absent, got {show(active)}")
        return Event(device, _ident(raw, "type", limits), severity,
                     parse_time(raw.get("time"), "time"), active, _obj(raw, "data"))
    if kind == "state":
        st = raw.get("state")
        try:
            state = DeviceState(str(st))
        except ValueError:
            raise ValueError(f"state {show(st)} is not one of "
                             f"{', '.join(s.value for s in DeviceState)}") from None
        return StateChange(device, state, parse_time(raw.get("since"), "since"),
                           _text(raw, "reason"))
    if kind == "probe":
        ok = raw.get("ok")
        if not isinstance(ok, bool):
            raise ValueError(f"probe ok must be true or false, got {show(ok)}")
        return Probe(device, parse_time(raw.get("time"), "time"), ok, _text(raw, "reason"),
                     _obj(raw, "data"))
    raise ValueError(f"kind {show(kind)} is not one of reading, event, state, probe")


#: Community and gateway ids that passed `check_id` (a few thousand in a county): an
#: envelope's ids are checked against this set first, not the pattern.
_VALID_IDS: set[str] = set()
_VALID_IDS_KEPT: Final = 10_000


def _envelope_ids(doc: dict[str, Any]) -> tuple[str, str]:
    """The envelope's community and gateway ids; EnvelopeError when one is not valid."""
    community, gateway = doc.get("community"), doc.get("gateway")
    if type(community) is str and type(gateway) is str and community in _VALID_IDS \
            and gateway in _VALID_IDS:
        return community, gateway
    try:
        ids = check_id(community, "community"), check_id(gateway, "gateway")  # type: ignore[arg-type]
    except TopicError as exc:
        raise EnvelopeError("malformed", f"envelope: {exc}") from None
    if len(_VALID_IDS) >= _VALID_IDS_KEPT:
        _VALID_IDS.clear()  # many ids or a flood of made-up ones: start again
    _VALID_IDS.update(ids)
    return ids


def _ident(raw: dict[str, Any], key: str, limits: Limits) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string, got {show(value)}")
    if len(value) > limits.max_id_length:
        raise ValueError(f"{key} is {len(value)} characters, more than {limits.max_id_length}")
    return check_text(value, key)


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, got {json_type(value)}")
    return check_text(value, key)


def _obj(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be a JSON object, got {json_type(value)}")
    check_portable(value, key)
    return value
