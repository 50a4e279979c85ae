"""One MQTT message as ingest sees it: topic, raw payload, and what decoding made of it.

Decoding happens before the database write so that a bad message becomes a dead letter
in the same transaction as its good neighbours, never an exception that stalls a batch.
`decode_message` never raises: whatever the decoder throws on one message (a RecursionError
on deep nesting, an OverflowError on an absurd time or number, a bug) comes back as that
message's `error`, code `internal_error`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from ingest.dead_letters import InternalError, exception_text
from telemetry import (
    DEFAULT_LIMITS,
    STATUS,
    Decoded,
    EnvelopeError,
    GatewayStatus,
    Limits,
    Topic,
    TopicError,
    decode,
    decode_status,
    parse_topic,
)

log = logging.getLogger(__name__)

#: Exception types whose traceback was already logged: one is enough to find the bug, and
#: a gateway sending the same poison every second must not flood the log.
_TRACEBACKS_LOGGED: set[tuple[str, str]] = set()

#: Valid topics seen, parsed (five streams per gateway): parsed once, not per message.
_PARSED_TOPICS: dict[str, Topic] = {}
_PARSED_TOPICS_KEPT: Final = 50_000


@dataclass(frozen=True, slots=True)
class Received:
    """Exactly one of `decoded`, `status`, `error` is set."""

    topic: str
    payload: bytes
    received_at: datetime
    decoded: Decoded | None = None
    status: GatewayStatus | None = None
    error: EnvelopeError | None = None
    parsed_topic: Topic | None = None


def decode_message(topic: str, payload: bytes, *, now: datetime | None = None,
                   limits: Limits = DEFAULT_LIMITS) -> Received:
    """Decode an uplink or status message; whole-message faults come back in `.error`.

    MemoryError is set aside like any other exception: a message is at most
    `limits.max_bytes`, so running out of memory on one is most likely that message's doing,
    and exiting would only make the broker redeliver it at every restart. Its payload stays
    on the dead-letter row, so a message set aside wrongly can be replayed.
    """
    received_at = now or datetime.now(UTC)
    try:
        return _decode(topic, payload, received_at, limits)
    except Exception as exc:
        return set_aside(Received(topic, payload, received_at, parsed_topic=_topic_or_none(topic)),
                         exc, "decoding")


def set_aside(msg: Received, exc: BaseException, stage: str) -> Received:
    """`msg` as a dead letter `internal_error: <Type>: <text>`; logs the first traceback of
    each exception type and stage, one line for the rest."""
    key = (stage, type(exc).__name__)
    first = key not in _TRACEBACKS_LOGGED
    _TRACEBACKS_LOGGED.add(key)
    log.error("%s: %s on a message on %s while %s it; set aside as a dead letter "
              "(%d bytes)", type(exc).__name__, exception_text(exc)[:300], msg.topic, stage,
              len(msg.payload), exc_info=exc if first else None)
    return Received(msg.topic, msg.payload, msg.received_at, error=InternalError(exc, stage),
                    parsed_topic=msg.parsed_topic)


def _decode(topic: str, payload: bytes, received_at: datetime, limits: Limits) -> Received:
    parsed = _PARSED_TOPICS.get(topic)
    if parsed is None:
        try:
            parsed = parse_topic(topic)
        except TopicError as exc:
            return Received(topic, payload, received_at,
                            error=EnvelopeError("bad_topic", str(exc)))
        if len(_PARSED_TOPICS) >= _PARSED_TOPICS_KEPT:
            _PARSED_TOPICS.clear()  # more topics than gateways could explain: start again
        _PARSED_TOPICS[topic] = parsed
    try:
        if parsed.stream == STATUS:
            return Received(topic, payload, received_at, status=decode_status(payload, parsed),
                            parsed_topic=parsed)
        return Received(topic, payload, received_at,
                        decoded=decode(payload, topic=parsed, now=received_at, limits=limits),
                        parsed_topic=parsed)
    except EnvelopeError as exc:
        return Received(topic, payload, received_at, error=exc, parsed_topic=parsed)


def _topic_or_none(topic: str) -> Topic | None:
    try:
        return parse_topic(topic)
    except Exception:
        return None
