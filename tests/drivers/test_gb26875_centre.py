"""The centre's answers on a raw TCP connection, frame by frame: a resent report is confirmed
again but reported once, a malformed unit is denied and makes the device degraded, strangers
and requests are denied, garbage is skipped, a reconnecting device replaces its old
connection, and an idle connection is closed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from gb26875_support import ADDRESS, HealthSink, running, site_driver, until

from drivers.gb26875 import Frame, FrameReader, encode_unit

LABEL = bytes([7, 45, 13, 1, 5, 24])
FIRE = {"system_type": 1, "system_address": 2, "component_type": 42,
        "component_address": 1 << 16 | 1, "flags": 0b11, "description": "", "time": LABEL}


class Client:
    """A transmission device played by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames = FrameReader()
        self.got: list[Frame] = []

    def send(self, frame: Frame | bytes) -> None:
        self.writer.write(frame.encode() if isinstance(frame, Frame) else frame)

    async def answer(self, serial: int, within: float = 5.0) -> Frame:
        """The centre's reply to frame `serial` (its own requests are collected too)."""
        async with asyncio.timeout(within):
            while True:
                for f in self.got:
                    if f.serial == serial and f.command in (3, 5, 6):
                        self.got.remove(f)
                        return f
                chunk = await self.reader.read(4096)
                if not chunk:
                    raise ConnectionError("the centre closed the connection")
                self.got += [f for f in self.frames.feed(chunk) if isinstance(f, Frame)]


@contextlib.asynccontextmanager
async def client(port: int) -> AsyncIterator[Client]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield Client(reader, writer)
    finally:
        writer.close()


def report(serial: int, data: bytes, source: int = ADDRESS, command: int = 2) -> Frame:
    return Frame(serial, command, source, 0, data, LABEL)


async def test_a_resent_report_is_confirmed_again_but_reported_once() -> None:
    sink = HealthSink()
    async with running(site_driver(), sink) as port, client(port) as dev:
        frame = report(41, encode_unit(2, [FIRE], 2))
        for _ in range(2):
            dev.send(frame)
            confirm = await dev.answer(41)
            assert (confirm.command, confirm.source, confirm.destination) == (3, 0, ADDRESS)
        assert len(sink.found("panel-b", "zone_fire")) == 1


async def test_a_malformed_unit_is_denied_and_makes_the_device_degraded() -> None:
    sink = HealthSink(failures_to_offline=1)
    driver = site_driver()
    async with running(driver, sink) as port, client(port) as dev:
        bad = bytearray(encode_unit(2, [FIRE], 2))
        bad[1] = 3  # three objects announced, one carried
        dev.send(report(7, bytes(bad)))
        assert (await dev.answer(7)).command == 6
        await until(lambda: sink.state("uitd-b") == "degraded", "degraded")
        assert "frame 7 command 2 (send_data) from 100000000001 to 0, 48 data bytes: data " \
               "unit type 2 (component_state) announces 3 object(s)" in \
               sink.health.state("uitd-b").reason
        dev.send(report(8, b""))  # a good heartbeat brings it back
        assert (await dev.answer(8)).command == 3
        await until(lambda: sink.state("uitd-b") == "online", "online again")


async def test_a_stranger_is_denied_and_named_once_in_the_log(
        caplog: pytest.LogCaptureFixture) -> None:
    sink = HealthSink()
    driver = site_driver()
    with caplog.at_level(logging.WARNING):
        async with running(driver, sink) as port, client(port) as dev:
            for serial in (1, 2):
                dev.send(report(serial, encode_unit(2, [FIRE], 2), source=424242))
                assert (await dev.answer(serial)).command == 6
    assert not sink.events() and driver.strangers == {424242: 2}
    assert caplog.text.count("no transmission device with address 424242") == 1


async def test_a_device_asking_the_centre_something_is_told_no() -> None:
    sink = HealthSink(failures_to_offline=1)
    async with running(site_driver(), sink) as port, client(port) as dev:
        dev.send(report(9, encode_unit(81, [{"reserved": 0}], 4), command=4))
        assert (await dev.answer(9)).command == 6
        await until(lambda: sink.state("uitd-b") == "degraded", "degraded")
        assert "sent a request, which a centre does not take" in \
            sink.health.state("uitd-b").reason


async def test_garbage_and_broken_frames_are_skipped_and_the_next_frame_counts() -> None:
    sink = HealthSink()
    driver = site_driver(query_on_connect=False)
    async with running(driver, sink) as port, client(port) as dev:
        broken = bytearray(report(3, b"").encode())
        broken[-3] ^= 0xFF
        dev.send(b"\x00\xff@#garbage" + bytes(broken) + b"@@@")
        dev.send(report(4, encode_unit(2, [FIRE], 2)))
        assert (await dev.answer(4)).command == 3
        await until(lambda: sink.found("panel-b", "zone_fire"), "the fire")
        assert driver.bad_frames >= 1


async def test_on_connecting_a_device_is_read_and_its_older_connection_is_closed() -> None:
    sink = HealthSink()
    driver = site_driver()
    async with running(driver, sink) as port, client(port) as first:
        first.send(report(1, b""))
        await first.answer(1)
        reads = [f for f in first.got if f.command == 4]
        assert sorted(f.data[0] for f in reads) == [61, 61, 81]  # device, panels A and B
        async with client(port) as second:
            second.send(report(2, b""))
            await second.answer(2)
            async with asyncio.timeout(5):
                while await first.reader.read(4096):
                    pass  # the centre's reads, then the end: it closed the old connection
        assert driver.link("uitd-b").connections == 2


async def test_a_silent_connection_is_closed_after_the_idle_timeout() -> None:
    async with running(site_driver(idle_timeout=0.2), HealthSink()) as port, \
            client(port) as dev:
        async with asyncio.timeout(5):
            assert await dev.reader.read(100) == b""


async def test_connections_beyond_the_limit_are_refused_at_once() -> None:
    driver = site_driver(max_connections=1)
    async with running(driver, HealthSink()) as port, client(port) as first:
        first.send(report(1, b""))
        await first.answer(1)
        async with client(port) as second, asyncio.timeout(5):
            assert await second.reader.read(100) == b""
        assert driver.link("uitd-b").writer is not None
