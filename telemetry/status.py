"""Gateway status messages: the retained birth (`online`) and last will (`offline`) a gateway
publishes on `scg/v1/{community}/{gateway}/status`.

They share the envelope's bounds and error type, so a receiver handles a bad status
message exactly like a bad envelope: an `EnvelopeError` with a code, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telemetry.codec import (
    DEFAULT_LIMITS,
    WIRE_VERSION,
    EnvelopeError,
    Limits,
    dump_json,
    format_time,
    load_json,
    parse_time,
)
from telemetry.jsonbound import show
from telemetry.topics import STATUS, Topic


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    """Birth (`online`) or last-will (`offline`) message of a gateway, retained."""

    community: str
    gateway: str
    online: bool
    time: datetime


def encode_status(status: GatewayStatus) -> bytes:
    return dump_json({"v": WIRE_VERSION, "community": status.community,
                      "gateway": status.gateway,
                      "status": "online" if status.online else "offline",
                      "time": format_time(status.time)})


def decode_status(payload: bytes, topic: Topic, *,
                  limits: Limits = DEFAULT_LIMITS) -> GatewayStatus:
    """Decode a status message; raise EnvelopeError when it is malformed or misaddressed."""
    if topic.stream != STATUS:
        raise EnvelopeError("malformed", f"topic {topic} is not a status topic")
    doc = load_json(payload, limits, "status")
    if not isinstance(doc, dict) or doc.get("v") != WIRE_VERSION:
        raise EnvelopeError("unknown_version", "status message must be a v1 JSON object, "
                            f"e.g. {{\"v\": {WIRE_VERSION}, \"community\": ..., "
                            "\"gateway\": ..., \"status\": \"online\", \"time\": ...}")
    if (doc.get("community"), doc.get("gateway")) != (topic.community, topic.gateway):
        raise EnvelopeError("topic_mismatch", f"status on {topic} names "
                            f"{show(doc.get('community'))} / {show(doc.get('gateway'))}; a "
                            "gateway may only publish its status under its own ids")
    status = doc.get("status")
    if status not in ("online", "offline"):
        raise EnvelopeError("malformed", f"status must be 'online' or 'offline', got "
                            f"{show(status)}")
    try:
        t = parse_time(doc.get("time"), "status time")
    except ValueError as exc:
        raise EnvelopeError("malformed", str(exc)) from None
    return GatewayStatus(topic.community, topic.gateway, status == "online", t)
