"""A DL/T 645 link's exchange over a scripted transport: replies assembled from any split,
late replies for another exchange skipped, trailing-off replies called truncated, garbage
drained, and a lost link reopened only after its backoff."""

from __future__ import annotations

import asyncio
import functools

import pytest

from drivers.dlt645.codec import (
    Frame,
    FrameError,
    WrongDataIdentifier,
    parse_read_reply,
    read_request,
)
from drivers.dlt645.link import Link, LinkDown, NoReply
from drivers.dlt645.settings import LinkSpec, TcpLink
from telemetry.backoff import Backoff

ADDRESS = "000000000001"
ENERGY = 0x00010000
SPEC = TcpLink("tgw", "192.0.2.7", 8899, timeout=0.1)


def answer(di: int = ENERGY, value: bytes = b"\x78\x56\x34\x12", *, wake_up: bool = True,
           address: str = ADDRESS) -> bytes:
    return Frame(address, 0x91, di.to_bytes(4, "little") + value).encode(wake_up=wake_up)


class ScriptedTransport:
    """Gives back `chunks` one read at a time; then nothing until the deadline."""

    def __init__(self, chunks: list[bytes], *, refuse: bool = False) -> None:
        self.chunks = list(chunks)
        self.refuse = refuse
        self.sent: list[bytes] = []
        self.opened = 0
        self.discarded = 0

    async def open(self) -> None:
        self.opened += 1
        if self.refuse:
            raise LinkDown("cannot connect to 192.0.2.7:8899: Connection refused")

    async def write(self, data: bytes) -> None:
        self.sent.append(data)

    async def read(self, deadline: float) -> bytes:
        if self.chunks:
            return self.chunks.pop(0)
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        return b""

    async def discard_input(self) -> None:
        self.discarded += 1

    async def close(self) -> None:
        pass


def link_over(transport: ScriptedTransport, backoff: Backoff | None = None) -> Link:
    def make(spec: LinkSpec) -> ScriptedTransport:
        return transport
    return Link(SPEC, backoff or Backoff(0.5, 1), make)


ACCEPT = functools.partial(parse_read_reply, address=ADDRESS, di=ENERGY)


async def test_a_reply_trickling_in_byte_by_byte_is_assembled() -> None:
    raw = answer()
    transport = ScriptedTransport([raw[i:i + 1] for i in range(len(raw))])
    link = link_over(transport)
    assert await link.exchange(read_request(ADDRESS, ENERGY), ACCEPT) == b"\x78\x56\x34\x12"
    assert transport.sent == [read_request(ADDRESS, ENERGY)] and transport.discarded == 1


async def test_an_echo_and_a_late_reply_for_another_exchange_are_skipped() -> None:
    echo = read_request(ADDRESS, ENERGY)
    late = answer(0x02010100, b"\x14\x23", wake_up=False)
    transport = ScriptedTransport([echo + late, answer(wake_up=False)])
    link = link_over(transport)
    assert await link.exchange(echo, ACCEPT) == b"\x78\x56\x34\x12"


async def test_only_a_late_reply_is_reported_as_such_after_the_timeout() -> None:
    transport = ScriptedTransport([answer(0x02010100, b"\x14\x23")])
    with pytest.raises(WrongDataIdentifier, match="reply to another data identifier 02010100"):
        await link_over(transport).exchange(read_request(ADDRESS, ENERGY), ACCEPT)


async def test_a_reply_that_trails_off_is_truncated_not_silent() -> None:
    transport = ScriptedTransport([answer(wake_up=False)[:7]])
    with pytest.raises(FrameError) as caught:
        await link_over(transport).exchange(read_request(ADDRESS, ENERGY), ACCEPT)
    assert caught.value.reason == ("truncated frame: 7 bytes (68 01 00 00 00 00 00) and then "
                                   "nothing for 0.1 s")


async def test_nothing_at_all_is_no_reply() -> None:
    with pytest.raises(NoReply, match=r"no reply within 0.1 s"):
        await link_over(ScriptedTransport([b"\xfe\xfe"])).exchange(
            read_request(ADDRESS, ENERGY), ACCEPT)


async def test_garbage_is_refused_at_once_and_its_rest_drained() -> None:
    transport = ScriptedTransport([b"\x00\x01", b"\x02\x03", b"\x04"])
    with pytest.raises(FrameError, match="bad start byte 0x00 at offset 0"):
        await link_over(transport).exchange(read_request(ADDRESS, ENERGY), ACCEPT)
    assert transport.chunks == []  # the rest of the burst was read and dropped


async def test_a_link_that_cannot_open_waits_its_backoff_before_trying_again() -> None:
    transport = ScriptedTransport([], refuse=True)
    link = link_over(transport, Backoff(0.2, 0.2))
    with pytest.raises(LinkDown, match=r"Connection refused; next attempt in 0\.2 s"):
        await link.exchange(read_request(ADDRESS, ENERGY), ACCEPT)
    with pytest.raises(LinkDown, match=r"Connection refused; next attempt in 0\.[12]\d* s"):
        await link.exchange(read_request(ADDRESS, ENERGY), ACCEPT)
    assert transport.opened == 1
    transport.refuse = False
    transport.chunks = [answer()]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2
    while True:  # the retry is due 0.2 s after the failure
        try:
            assert await link.exchange(read_request(ADDRESS, ENERGY), ACCEPT)
            break
        except LinkDown:
            assert loop.time() < deadline
            await asyncio.sleep(0.01)
    assert (transport.opened, link.connects) == (2, 1)
