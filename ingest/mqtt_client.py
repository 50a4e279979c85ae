"""paho's MQTT client with a receive path for thousands of small messages a second.

For each PUBLISH, paho reads the connection a few bytes at a time (the fixed header byte,
each byte of the remaining length, then the body), runs `select` in between, and builds
an `MQTTMessage` with its own `threading.Condition`, a `Properties` object and a topic
match before calling `on_message`; each manual PUBACK is a packet of its own, a write to
paho's wake-up socket and a `send` of four bytes. Measured on the ingest benchmark that
was about 37 µs of interpreter time per message, more than half of ingest's whole budget.

`IngestClient` keeps paho for everything else (connecting, TLS, keepalive, subscribing,
reconnecting, every other packet type) and changes two things:

- It reads the socket in chunks of up to 64 KiB and cuts them into packets itself. The
  QoS 0 and 1 PUBLISH packets of one chunk go to `on_publishes` as one list of `Publish`
  tuples; any other packet is handed to paho's own handling, in order (publishes received
  before it are handed over first).
- `ack_many` queues the PUBACKs of a whole batch as one write.

The fast path needs `manual_ack=True` (ingest acknowledges after commit) and an
`on_publishes` callback; without them the client is plain paho.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable
from typing import Any, Final, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket

#: Bytes asked of the kernel per read.
CHUNK: Final = 65536

_PUBLISH: Final = 0x30
_PUBACK: Final = 0x40
_PUBACK_PACKET: Final = struct.Struct("!BBH")  # type, remaining length 2, packet id


class Publish(NamedTuple):
    """One received PUBLISH: what ingest needs of it, nothing more."""

    mid: int
    qos: int
    topic: str
    payload: bytes


_new_publish: Final = tuple.__new__  # NamedTuple's own __new__ is a Python-level call


class MalformedPacketError(ValueError):
    """The broker sent bytes that are not a well-formed MQTT packet."""


def split_packets(data: bytes) -> tuple[list[tuple[int, bytes]], int, int]:
    """Cut `data` into whole MQTT packets: `(packets, used, needed)`.

    `packets` holds `(first byte, body)` for each complete packet, `used` how many bytes
    they took; the rest is the start of the next packet, which is complete once `needed`
    bytes (counted from `used`) are there (0 while its length itself is incomplete).
    Raises MalformedPacketError for a remaining length of more than four bytes.
    """
    packets: list[tuple[int, bytes]] = []
    append = packets.append
    pos = 0
    size = len(data)
    while size - pos >= 2:
        length = 0
        shift = 0
        i = pos + 1
        while True:
            if i >= size:
                return packets, pos, 0
            byte = data[i]
            length |= (byte & 0x7F) << shift
            i += 1
            if not byte & 0x80:
                break
            shift += 7
            if shift == 28:
                raise MalformedPacketError("remaining length longer than 4 bytes")
        end = i + length
        if end > size:
            return packets, pos, end - pos
        append((data[pos], data[i:end]))
        pos = end
    return packets, pos, 0


def parse_publish(first: int, body: bytes, v5: bool) -> Publish:
    """The topic, packet id and payload of a PUBLISH body (MQTT 3.1.1 or 5 layout)."""
    qos = (first >> 1) & 3
    try:
        topic_end = 2 + ((body[0] << 8) | body[1])
        # Topics are UTF-8 by the protocol; a broker that lets another through gets it
        # refused later as a bad topic, with the character replaced, not a crash here.
        topic = body[2:topic_end].decode("utf-8", "replace")
        pos = topic_end
        mid = 0
        if qos:
            mid = (body[pos] << 8) | body[pos + 1]
            pos += 2
        if v5:
            # Properties (message expiry, user properties, …) are not used by ingest: skip.
            # Topic aliases among them never come: the client announces no Topic Alias
            # Maximum, so the broker may not use them (an empty topic would be refused).
            plen = 0
            shift = 0
            while True:
                byte = body[pos]
                pos += 1
                plen |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
                shift += 7
                if shift == 28:
                    raise MalformedPacketError("property length longer than 4 bytes")
            pos += plen
        if pos > len(body) or topic_end > len(body):
            raise MalformedPacketError("PUBLISH shorter than its header says")
    except IndexError:
        raise MalformedPacketError("PUBLISH shorter than its header says") from None
    return _new_publish(Publish, (mid, qos, topic, body[pos:]))


class IngestClient(mqtt.Client):
    """paho's client, receiving publishes in groups and acknowledging them in groups."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Called on paho's thread with the QoS 0/1 publishes of one read, in order.
        self.on_publishes: Callable[[list[Publish]], None] | None = None
        self._rx_sock: Any = None  # the socket the bytes below came from
        self._rx_parts: list[bytes] = []
        self._rx_size = 0
        self._rx_needed = 0

    # ------------------------------------------------------------ acknowledging

    def ack_many(self, mids: Iterable[int]) -> None:
        """Queue the PUBACKs of `mids` (QoS 1 packet ids) as one write. Thread-safe as
        paho's own `ack`: one append to paho's outgoing queue and one wake-up."""
        pack = _PUBACK_PACKET.pack
        packet = b"".join([pack(_PUBACK, 2, mid) for mid in mids])
        if packet:
            self._packet_queue(_PUBACK, packet, 0, 0)

    def wait_written(self, timeout: float) -> bool:
        """Block until paho's outgoing queue is empty (True), the connection is gone or
        `timeout` seconds passed. paho's `disconnect` may close the connection with
        packets still queued: waiting first lets the last PUBACKs reach the broker."""
        deadline = time.monotonic() + timeout
        while self.is_connected() and self.want_write():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return not self.want_write()

    # ------------------------------------------------------------ receiving

    def _packet_read(self) -> MQTTErrorCode:
        """paho calls this when the socket is readable: read a chunk, handle every whole
        packet in what has arrived, keep the rest for the next call."""
        if self.on_publishes is None or not self._manual_ack:
            return super()._packet_read()
        sock = self._sock
        if sock is not self._rx_sock:  # a new connection: nothing carried over
            self._rx_sock = sock
            self._rx_parts.clear()
            self._rx_size = self._rx_needed = 0
        try:
            data = self._sock_recv(CHUNK)
        except BlockingIOError:
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as err:
            self._easy_log(mqtt.MQTT_LOG_ERR, "failed to receive on socket: %s", err)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if not data:
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        if self._rx_parts:
            self._rx_parts.append(data)
            self._rx_size += len(data)
            if self._rx_size < self._rx_needed:
                return MQTTErrorCode.MQTT_ERR_SUCCESS  # a large packet, still arriving
            data = b"".join(self._rx_parts)
            self._rx_parts.clear()
        try:
            packets, used, needed = split_packets(data)
        except MalformedPacketError as exc:
            self._easy_log(mqtt.MQTT_LOG_ERR, "Received malformed packet: %s", exc)
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        if used < len(data):
            self._rx_parts.append(data[used:])
            self._rx_size = len(data) - used
            self._rx_needed = needed
        else:
            self._rx_size = self._rx_needed = 0
        return self._handle_packets(packets)

    def _handle_packets(self, packets: list[tuple[int, bytes]]) -> MQTTErrorCode:
        on_publishes = self.on_publishes
        assert on_publishes is not None
        v5 = self._protocol == MQTTProtocolVersion.MQTTv5
        publishes: list[Publish] = []
        for first, body in packets:
            if first & 0xF0 == _PUBLISH and (first >> 1) & 3 < 2:
                try:
                    publishes.append(parse_publish(first, body, v5))
                except MalformedPacketError as exc:
                    self._easy_log(mqtt.MQTT_LOG_ERR, "Received malformed packet: %s", exc)
                    on_publishes(publishes)
                    return MQTTErrorCode.MQTT_ERR_PROTOCOL
                continue
            # Anything else is paho's, after the publishes that came before it: a
            # DISCONNECT must not overtake them.
            if publishes:
                on_publishes(publishes)
                publishes = []
            rc = self._paho_handle(first, body)
            if rc:
                return rc
        if publishes:
            on_publishes(publishes)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _paho_handle(self, first: int, body: bytes) -> MQTTErrorCode:
        """Hand one whole packet to paho's own handling, as its reader would."""
        self._in_packet = {
            "command": first, "have_remaining": 1, "remaining_count": [],
            "remaining_mult": 1, "remaining_length": len(body), "packet": bytearray(body),
            "to_process": 0, "pos": 0,
        }
        try:
            rc: MQTTErrorCode = self._packet_handle()
        except MalformedPacket as exc:
            self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
        self._in_packet = {
            "command": 0, "have_remaining": 0, "remaining_count": [], "remaining_mult": 1,
            "remaining_length": 0, "packet": bytearray(b""), "to_process": 0, "pos": 0,
        }
        return rc
