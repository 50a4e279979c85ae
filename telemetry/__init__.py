"""The wire contract shared by the edge gateway and ingest: envelope, items, topics, codec.

Pure standard library, so both sides (and third-party gateways) can depend on it.
"""

from telemetry.codec import (
    DEFAULT_LIMITS,
    WIRE_VERSION,
    Decoded,
    Envelope,
    EnvelopeError,
    ItemRejection,
    Limits,
    decode,
    encode,
    encode_item,
    encode_raw_items,
    format_time,
    item_to_dict,
    parse_time,
)
from telemetry.items import (
    ITEM_KINDS,
    DeviceState,
    Event,
    Item,
    Probe,
    Reading,
    Severity,
    StateChange,
)
from telemetry.status import GatewayStatus, decode_status, encode_status
from telemetry.topics import (
    STATUS,
    STREAMS,
    UPLINK_FILTER,
    Topic,
    TopicError,
    command_topic,
    parse_topic,
    status_topic,
    uplink_topic,
)

__all__ = [
    "DEFAULT_LIMITS", "ITEM_KINDS", "STATUS", "STREAMS", "UPLINK_FILTER", "WIRE_VERSION",
    "Decoded", "DeviceState", "Envelope", "EnvelopeError", "Event", "GatewayStatus", "Item",
    "ItemRejection", "Limits", "Probe", "Reading", "Severity", "StateChange", "Topic",
    "TopicError", "command_topic", "decode", "decode_status", "encode", "encode_item",
    "encode_raw_items", "encode_status", "format_time", "item_to_dict", "parse_time",
    "parse_topic", "status_topic", "stream_for", "uplink_topic",
]


def stream_for(item: Item) -> str:
    """The uplink stream an item travels on: events, state, or telemetry (readings, probes)."""
    if isinstance(item, Event):
        return "events"
    if isinstance(item, StateChange):
        return "state"
    return "telemetry"
