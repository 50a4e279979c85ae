"""Gateway status messages: the retained birth (`online`) and last will (`offline`) a gateway
publishes on `scg/v1/{community}/{gateway}/status`.

A status may name the gateway's software `version` (optional, so that a gateway of an
older release still speaks v1): operations staff see which edge boxes run which release.

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
    #: The gateway's software release, e.g. "0.1.0"; None when it did not say.
    version: str | None = None


#: A release string is short printable ASCII ("0.1.0", "1.2.0rc1+deb12").
MAX_VERSION_CHARS = 64


def encode_status(status: GatewayStatus) -> bytes:
    doc = {"v": WIRE_VERSION, "community": status.community, "gateway": status.gateway,
           "status": "online" if status.online else "offline",
           "time": format_time(status.time)}
    if status.version is not None:
        doc["version"] = status.version
    return dump_json(doc)


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
    version = doc.get("version")
    if version is not None and not (
            isinstance(version, str) and 0 < len(version) <= MAX_VERSION_CHARS
            and version.isascii() and version.isprintable()):
        raise EnvelopeError("malformed", "status version must be printable ASCII of 1 to "
                            f"{MAX_VERSION_CHARS} characters, e.g. \"0.1.0\", got "
                            f"{show(version)}")
    return GatewayStatus(topic.community, topic.gateway, status == "online", t, version)
