"""Ingest's MQTT client: packets cut out of large reads (whole, split across reads, or many
in one), PUBLISH bodies read in both protocol versions, the publishes of a read handed
over as one group and in order, and the PUBACKs of a batch sent as one write that the
broker honours."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from broker_support import login_args
from ingest_support import Publisher
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.mqtt_client import (
    IngestClient,
    MalformedPacketError,
    Publish,
    parse_publish,
    split_packets,
)
from scg.localsvc import Mosquitto
from telemetry import UPLINK_FILTER, uplink_topic

TOPIC = uplink_topic("demo", "demo-gw1", "telemetry")


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _publish_packet(topic: str, payload: bytes, mid: int | None, props: bytes | None) -> bytes:
    """A PUBLISH as a broker writes it: QoS 1 when `mid` is given, MQTT 5 when `props` is."""
    body = struct.pack("!H", len(topic.encode())) + topic.encode()
    if mid is not None:
        body += struct.pack("!H", mid)
    if props is not None:
        body += _length(len(props)) + props
    first = 0x32 if mid is not None else 0x30
    return bytes([first]) + _length(len(body) + len(payload)) + body + payload


def test_whole_packets_are_cut_out_and_a_partial_one_waits_for_its_bytes() -> None:
    big = _publish_packet(TOPIC, b"x" * 20_000, 7, b"")  # a 3-byte remaining length
    stream = _publish_packet(TOPIC, b"a", 1, b"") + b"\xd0\x00" + big
    packets, used, needed = split_packets(stream)
    assert [(first, len(body)) for first, body in packets] == [
        (0x32, len(stream) - len(big) - 2 - 2), (0xD0, 0), (0x32, len(big) - 4)]
    assert (used, needed) == (len(stream), 0)
    for cut in (1, 2, 3, 4, 100, len(big) - 1):  # inside the header, the length, the body
        packets, used, needed = split_packets(big[:cut])
        assert (packets, used) == ([], 0)
        assert needed == (len(big) if cut >= 4 else 0)  # known once the length is complete
    with pytest.raises(MalformedPacketError):
        split_packets(b"\x30\xff\xff\xff\xff\x01")


def test_publish_bodies_are_read_in_mqtt_5_and_3_1_1() -> None:
    props = b"\x26\x00\x01k\x00\x01v"  # one user property, skipped
    first, body = split_packets(_publish_packet(TOPIC, b"{}", 513, props))[0][0]
    assert parse_publish(first, body, v5=True) == Publish(513, 1, TOPIC, b"{}")
    first, body = split_packets(_publish_packet(TOPIC, b"{}", None, b""))[0][0]
    assert parse_publish(first, body, v5=True) == Publish(0, 0, TOPIC, b"{}")
    first, body = split_packets(_publish_packet(TOPIC, b"{}", 9, None))[0][0]
    assert parse_publish(first, body, v5=False) == Publish(9, 1, TOPIC, b"{}")
    # A topic that is not UTF-8 arrives with the bad bytes replaced, to be refused later.
    assert parse_publish(0x32, b"\x00\x05scg/\xff\x00\x02\x00", v5=True).topic == "scg/\ufffd"
    for truncated in (b"\x00", b"\x00\x09scg", b"\x00\x03scg\x00", b"\x00\x03scg\x00\x01\x05"):
        with pytest.raises(MalformedPacketError):
            parse_publish(0x32, truncated, v5=True)


class _Connection:
    """An IngestClient reading one end of a socket pair, as if connected to a broker."""

    def __init__(self) -> None:
        self.broker_end, ours = socket.socketpair()
        ours.setblocking(False)
        self.groups: list[list[Publish]] = []
        self.client = IngestClient(CallbackAPIVersion.VERSION2, client_id="pair",
                                   protocol=mqtt.MQTTv5, manual_ack=True)
        self.client.on_publishes = self.groups.append
        self.client._sock = ours  # what paho's connect would have set

    def close(self) -> None:
        self.broker_end.close()
        self.client._sock.close()


def test_the_publishes_of_one_read_are_handed_over_as_one_group_in_order() -> None:
    pair = _Connection()
    try:
        stream = b"".join(_publish_packet(TOPIC, b"%d" % i, i + 1, b"") for i in range(200))
        pair.broker_end.sendall(stream)
        assert pair.client._packet_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
        assert [len(g) for g in pair.groups] == [200]
        assert [p.payload for p in pair.groups[0]] == [b"%d" % i for i in range(200)]
        # A PINGRESP between publishes goes to paho, after the publishes before it.
        pair.broker_end.sendall(_publish_packet(TOPIC, b"a", 301, b"") + b"\xd0\x00"
                                + _publish_packet(TOPIC, b"b", 302, b""))
        assert pair.client._packet_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
        assert [[p.payload for p in g] for g in pair.groups[1:]] == [[b"a"], [b"b"]]
        # Nothing waiting: paho is told to try again later.
        assert pair.client._packet_read() == MQTTErrorCode.MQTT_ERR_AGAIN
    finally:
        pair.close()


def test_a_packet_larger_than_a_read_is_handed_over_once_complete() -> None:
    pair = _Connection()
    try:
        packet = _publish_packet(TOPIC, b"z" * 200_000, 1, b"")
        pair.broker_end.sendall(packet[:70_000])
        while pair.client._packet_read() == MQTTErrorCode.MQTT_ERR_SUCCESS:
            pass
        assert pair.groups == []
        pair.broker_end.sendall(packet[70_000:] + _publish_packet(TOPIC, b"next", 2, b""))
        while pair.client._packet_read() == MQTTErrorCode.MQTT_ERR_SUCCESS:
            pass
        assert [[(p.mid, len(p.payload)) for p in g] for g in pair.groups] == [
            [(1, 200_000), (2, 4)]]
        pair.broker_end.close()  # the broker went away
        assert pair.client._packet_read() == MQTTErrorCode.MQTT_ERR_CONN_LOST
    finally:
        pair.client._sock.close()


class _Receiver:
    """An IngestClient with a persistent session, recording what it is handed."""

    def __init__(self, broker: Mosquitto, client_id: str) -> None:
        self.groups: list[list[Publish]] = []
        self.received = threading.Condition()
        self.client = IngestClient(CallbackAPIVersion.VERSION2, client_id=client_id,
                                   protocol=mqtt.MQTTv5, manual_ack=True)
        self.client.username_pw_set(**_paho_login(broker, "scg-ingest"))
        self.client.on_publishes = self._on_publishes
        subscribed = threading.Event()
        self.client.on_connect = lambda c, *a: c.subscribe(
            UPLINK_FILTER, options=SubscribeOptions(qos=1))
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.flushed = threading.Event()
        self.client.on_unsubscribe = lambda *a: self.flushed.set()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 600
        self.client.connect(broker.host, broker.port, clean_start=False, properties=props)
        self.client.loop_start()
        assert subscribed.wait(10), "no SUBACK within 10 s"

    def _on_publishes(self, publishes: list[Publish]) -> None:
        with self.received:
            self.groups.append(publishes)
            self.received.notify_all()

    def wait_for(self, count: int) -> list[Publish]:
        with self.received:
            assert self.received.wait_for(lambda: len(self.all()) >= count, 20), \
                f"{len(self.all())} of {count} publishes within 20 s"
            return self.all()

    def all(self) -> list[Publish]:
        return [p for group in self.groups for p in group]

    def close(self) -> None:
        if self.client.is_connected():
            assert self.client.wait_written(10), "PUBACKs still queued after 10 s"
            # The broker handles a connection's packets in order: once it answers this
            # UNSUBSCRIBE it has applied the PUBACKs before it. Without that, the next
            # connection with the same client id can take the session over while the
            # broker has not yet read them, and it redelivers what was acknowledged.
            self.flushed.clear()
            self.client.unsubscribe("scg-test/flush")
            assert self.flushed.wait(10), "no UNSUBACK within 10 s"
            self.client.disconnect()
        self.client.loop_stop()


def _paho_login(broker: Mosquitto, username: str) -> dict[str, Any]:
    args = login_args(broker, username)
    return {"username": args["username"], "password": args["password"]}


@pytest.mark.integration
def test_publishes_come_in_order_in_groups_and_grouped_acks_are_honoured(
        broker: Mosquitto) -> None:
    publisher = Publisher(broker.host, broker.port, **login_args(broker, "demo/demo-gw1"))
    receiver = _Receiver(broker, "ingest-client-test")
    try:
        # Queued while ingest is away: the broker sends them in a burst on reconnection.
        receiver.close()
        # Small messages, and large ones that take several reads of the socket.
        payloads = [b'{"n":%d}' % i if i % 50 else b"%d:" % i + b"y" * 150_000
                    for i in range(300)]
        for payload in payloads:
            publisher.publish(TOPIC, payload)
        receiver = _Receiver(broker, "ingest-client-test")
        got = receiver.wait_for(300)
        assert [p.payload for p in got] == payloads
        assert {(p.topic, p.qos) for p in got} == {(TOPIC, 1)}
        # Acknowledge the first 200 in one write; the broker redelivers only the rest.
        receiver.client.ack_many(p.mid for p in got[:200])
        receiver.close()
        receiver = _Receiver(broker, "ingest-client-test")
        again = receiver.wait_for(100)
        assert [p.payload for p in again] == payloads[200:]
        receiver.client.ack_many(p.mid for p in again)
        receiver.close()
        receiver = _Receiver(broker, "ingest-client-test")
        publisher.publish(TOPIC, b"last")
        assert [p.payload for p in receiver.wait_for(1)] == [b"last"]  # nothing else came
    finally:
        receiver.close()
        publisher.close()
