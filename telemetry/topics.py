"""MQTT topic names of the wire contract, version 1.

    scg/v1/{community}/{gateway}/{stream}        stream: telemetry | events | state | meta
    scg/v1/{community}/{gateway}/status          gateway birth / last will (retained)
    scg/v1/{community}/{gateway}/cmd/{device}    downlink commands
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from telemetry.jsonbound import show

PREFIX: Final = "scg/v1"
STREAMS: Final[tuple[str, ...]] = ("telemetry", "events", "state", "meta")
STATUS: Final = "status"

# Identifiers that appear as topic levels: no MQTT wildcards or separators, short.
_ID_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

#: What ingest subscribes to: every uplink stream and the gateway status topics.
UPLINK_FILTER: Final = f"{PREFIX}/+/+/+"


class TopicError(ValueError):
    """A topic or topic-level identifier that does not follow the contract."""


def check_id(value: str, what: str) -> str:
    """Return `value` if it may be used as a community or gateway id, else raise TopicError."""
    # fullmatch: with match, `$` would also accept a trailing newline ("gw1\n").
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise TopicError(
            f"{what} id {show(value)} is not valid: use 1-64 characters of letters, digits, "
            "'_', '.', '-', starting with a letter or digit"
        )
    return value


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed uplink topic. `stream` is one of STREAMS or STATUS."""

    community: str
    gateway: str
    stream: str

    def __str__(self) -> str:
        return f"{PREFIX}/{self.community}/{self.gateway}/{self.stream}"


def uplink_topic(community: str, gateway: str, stream: str) -> str:
    """Topic a gateway publishes `stream` on."""
    if stream not in STREAMS:
        raise TopicError(f"stream {stream!r} is not one of {', '.join(STREAMS)}")
    return f"{PREFIX}/{check_id(community, 'community')}/{check_id(gateway, 'gateway')}/{stream}"


def status_topic(community: str, gateway: str) -> str:
    """Retained topic carrying the gateway's birth message and last will."""
    return f"{PREFIX}/{check_id(community, 'community')}/{check_id(gateway, 'gateway')}/{STATUS}"


def command_topic(community: str, gateway: str, device: str) -> str:
    """Downlink topic for commands to one device behind a gateway."""
    if not device or any(c in device for c in "/+#"):
        raise TopicError(f"device id {device!r} cannot be a topic level (no '/', '+', '#')")
    base = f"{PREFIX}/{check_id(community, 'community')}/{check_id(gateway, 'gateway')}"
    return f"{base}/cmd/{device}"


def parse_topic(topic: str) -> Topic:
    """Parse an uplink or status topic; raise TopicError naming what is wrong."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != PREFIX:
        raise TopicError(
            f"topic {topic!r} is not of the form {PREFIX}/{{community}}/{{gateway}}/{{stream}}"
        )
    community, gateway, stream = parts[2], parts[3], parts[4]
    check_id(community, "community")
    check_id(gateway, "gateway")
    if stream not in STREAMS and stream != STATUS:
        raise TopicError(f"topic {topic!r}: stream {stream!r} is not one of {', '.join(STREAMS)}")
    return Topic(community, gateway, stream)
