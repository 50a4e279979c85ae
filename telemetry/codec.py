"""Encode and strictly decode envelopes (wire version 1).

An envelope is one JSON object per MQTT message:

    {"v": 1, "community": "demo", "gateway": "gw1", "seq": 42,
     "sent_at": "2026-11-23T08:00:00.000Z", "items": [ {...}, ... ]}

Decoding separates two kinds of badness. A fault in the envelope itself (not JSON,
unknown version, oversize, topic naming another community or gateway) rejects the
whole message with `EnvelopeError`. A fault in one item (missing field, time far in
the future) rejects only that item: the valid neighbours are kept, and the rejects
come back with their index and reason so the receiver can dead-letter them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from telemetry.items import DeviceState, Event, Item, Probe, Reading, Severity, StateChange
from telemetry.topics import STATUS, Topic, TopicError, check_id

WIRE_VERSION: Final = 1


class EnvelopeError(ValueError):
    """The message as a whole cannot be accepted. `code` is a short machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds a receiver enforces; the defaults suit one edge gateway's uplink."""

    max_bytes: int = 1_048_576
    max_items: int = 10_000
    max_future: timedelta = timedelta(minutes=5)
    max_id_length: int = 128


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


# ---------------------------------------------------------------- time

def format_time(t: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and a `Z`, e.g. 2026-11-23T08:00:00.123Z."""
    if t.tzinfo is None:
        raise ValueError(f"time {t!r} has no timezone; wire times must be timezone-aware")
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(value: Any, what: str) -> datetime:
    """Parse an RFC 3339 time that carries a zone; raise ValueError naming `what`."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be an RFC 3339 string, got {type(value).__name__}")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{what} {value!r} is not an RFC 3339 time (e.g. 2026-11-23T08:00:00Z)"
        ) from None
    if t.tzinfo is None:
        raise ValueError(f"{what} {value!r} has no timezone offset; add 'Z' or '+08:00'")
    return t.astimezone(UTC)


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
    return _dumps(item_to_dict(item))


def encode(envelope: Envelope) -> bytes:
    """The envelope as compact UTF-8 JSON."""
    return _dumps({
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
    head = _dumps({"v": WIRE_VERSION, "community": community, "gateway": gateway,
                   "seq": seq, "sent_at": format_time(sent_at)})
    return head[:-1] + b',"items":[' + b",".join(items) + b"]}"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


# ---------------------------------------------------------------- decode

def decode(payload: bytes, *, topic: Topic | None = None, now: datetime | None = None,
           limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """Decode and validate one envelope received on `topic`.

    Raises EnvelopeError when the message as a whole is unacceptable; otherwise returns
    the envelope with its valid items and the list of rejected items.
    """
    if len(payload) > limits.max_bytes:
        raise EnvelopeError("oversize", f"message is {len(payload)} bytes, more than the "
                            f"limit of {limits.max_bytes}; send smaller batches")
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError("malformed_json", f"message is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise EnvelopeError("malformed", f"envelope must be a JSON object, got {_jtype(doc)}")
    v = doc.get("v")
    if v != WIRE_VERSION:
        raise EnvelopeError("unknown_version",
                            f"envelope version {v!r} is not supported (this receiver speaks "
                            f"v{WIRE_VERSION}); upgrade the receiver or the gateway")
    try:
        community = check_id(doc.get("community"), "community")  # type: ignore[arg-type]
        gateway = check_id(doc.get("gateway"), "gateway")  # type: ignore[arg-type]
    except TopicError as exc:
        raise EnvelopeError("malformed", f"envelope: {exc}") from None
    if topic is not None and (topic.community, topic.gateway) != (community, gateway):
        raise EnvelopeError("topic_mismatch",
                            f"topic {topic} names community {topic.community!r} / gateway "
                            f"{topic.gateway!r} but the envelope says {community!r} / "
                            f"{gateway!r}; a gateway may only publish under its own ids")
    seq = doc.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise EnvelopeError("malformed", f"envelope seq must be a non-negative integer, "
                            f"got {seq!r}")
    try:
        sent_at = parse_time(doc.get("sent_at"), "envelope sent_at")
    except ValueError as exc:
        raise EnvelopeError("malformed", str(exc)) from None
    raw_items = doc.get("items")
    if not isinstance(raw_items, list):
        raise EnvelopeError("malformed", f"envelope items must be a list, got "
                            f"{_jtype(raw_items)}")
    if len(raw_items) > limits.max_items:
        raise EnvelopeError("oversize", f"envelope has {len(raw_items)} items, more than the "
                            f"limit of {limits.max_items}")
    horizon = (now or datetime.now(UTC)) + limits.max_future
    items: list[Item] = []
    rejected: list[ItemRejection] = []
    for index, raw in enumerate(raw_items):
        try:
            item = _decode_item(raw, limits)
            t = item.since if isinstance(item, StateChange) else item.time
            if t > horizon:
                raise ValueError(f"time {format_time(t)} is more than "
                                 f"{limits.max_future} in the future; check the device clock")
        except ValueError as exc:
            rejected.append(ItemRejection(index, f"item {index}: {exc}", raw))
            continue
        items.append(item)
    env = Envelope(community, gateway, seq, sent_at, tuple(items))
    return Decoded(env, tuple(rejected))


def _decode_item(raw: Any, limits: Limits) -> Item:
    if not isinstance(raw, dict):
        raise ValueError(f"must be a JSON object, got {_jtype(raw)}")
    kind = raw.get("kind")
    device = _ident(raw, "device", limits)
    if kind == "reading":
        value = raw.get("value")
        if isinstance(value, bool):
            value = float(value)
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"reading value must be a finite number, got {value!r}")
        return Reading(device, _ident(raw, "metric", limits), parse_time(raw.get("time"), "time"),
                       float(value))
    if kind == "event":
        sev = raw.get("severity")
        try:
            severity = Severity(str(sev))
        except ValueError:
            raise ValueError(f"event severity {sev!r} is not one of "
                             f"{', '.join(s.value for s in Severity)}") from None
        active = raw.get("active")
        if active is not None and not isinstance(active, bool):
            raise ValueError(f"event active must be true, false or absent, got {active!r}")
        return Event(device, _ident(raw, "type", limits), severity,
                     parse_time(raw.get("time"), "time"), active, _obj(raw, "data"))
    if kind == "state":
        st = raw.get("state")
        try:
            state = DeviceState(str(st))
        except ValueError:
            raise ValueError(f"state {st!r} is not one of "
                             f"{', '.join(s.value for s in DeviceState)}") from None
        return StateChange(device, state, parse_time(raw.get("since"), "since"),
                           _text(raw, "reason"))
    if kind == "probe":
        ok = raw.get("ok")
        if not isinstance(ok, bool):
            raise ValueError(f"probe ok must be true or false, got {ok!r}")
        return Probe(device, parse_time(raw.get("time"), "time"), ok, _text(raw, "reason"),
                     _obj(raw, "data"))
    raise ValueError(f"kind {kind!r} is not one of reading, event, state, probe")


def _ident(raw: dict[str, Any], key: str, limits: Limits) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string, got {value!r}")
    if len(value) > limits.max_id_length:
        raise ValueError(f"{key} is {len(value)} characters, more than {limits.max_id_length}")
    return value


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, got {_jtype(value)}")
    return value


def _obj(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be a JSON object, got {_jtype(value)}")
    return value


def _jtype(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            type(None): "null"}.get(type(value), "number")


# ---------------------------------------------------------------- gateway status

@dataclass(frozen=True, slots=True)
class GatewayStatus:
    """Birth (`online`) or last-will (`offline`) message of a gateway, retained."""

    community: str
    gateway: str
    online: bool
    time: datetime


def encode_status(status: GatewayStatus) -> bytes:
    return _dumps({"v": WIRE_VERSION, "community": status.community, "gateway": status.gateway,
                   "status": "online" if status.online else "offline",
                   "time": format_time(status.time)})


def decode_status(payload: bytes, topic: Topic) -> GatewayStatus:
    """Decode a status message; raise EnvelopeError when it is malformed or misaddressed."""
    if topic.stream != STATUS:
        raise EnvelopeError("malformed", f"topic {topic} is not a status topic")
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError("malformed_json", f"status is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("v") != WIRE_VERSION:
        raise EnvelopeError("unknown_version", "status message must be a v1 JSON object")
    if (doc.get("community"), doc.get("gateway")) != (topic.community, topic.gateway):
        raise EnvelopeError("topic_mismatch", f"status on {topic} names "
                            f"{doc.get('community')!r} / {doc.get('gateway')!r}")
    if doc.get("status") not in ("online", "offline"):
        raise EnvelopeError("malformed", f"status must be 'online' or 'offline', got "
                            f"{doc.get('status')!r}")
    try:
        t = parse_time(doc.get("time"), "status time")
    except ValueError as exc:
        raise EnvelopeError("malformed", str(exc)) from None
    return GatewayStatus(topic.community, topic.gateway, doc["status"] == "online", t)
