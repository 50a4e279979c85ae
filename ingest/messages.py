"""One MQTT message as ingest sees it: topic, raw payload, and what decoding made of it.

Decoding happens before the database write so that a bad message becomes a dead letter
in the same transaction as its good neighbours, never an exception that stalls a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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
    """Decode an uplink or status message; whole-message faults come back in `.error`."""
    received_at = now or datetime.now(UTC)
    try:
        parsed = parse_topic(topic)
    except TopicError as exc:
        return Received(topic, payload, received_at, error=EnvelopeError("bad_topic", str(exc)))
    try:
        if parsed.stream == STATUS:
            return Received(topic, payload, received_at, status=decode_status(payload, parsed),
                            parsed_topic=parsed)
        return Received(topic, payload, received_at,
                        decoded=decode(payload, topic=parsed, now=received_at, limits=limits),
                        parsed_topic=parsed)
    except EnvelopeError as exc:
        return Received(topic, payload, received_at, error=exc, parsed_topic=parsed)
