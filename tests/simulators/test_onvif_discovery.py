"""WS-Discovery over UDP: a Probe for NetworkVideoTransmitter brings one ProbeMatches per
reachable camera, with its device-service XAddr."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from simulators.onvif import CameraFarm, CameraSpec, Fault, parse_probe, probe_message
from simulators.onvif.discovery import Target, matches

WSA = "{http://schemas.xmlsoap.org/ws/2004/08/addressing}"
WSD = "{http://schemas.xmlsoap.org/ws/2005/04/discovery}"


class Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.datagrams: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.datagrams.put_nowait(data)


@pytest.fixture
async def farm() -> AsyncIterator[CameraFarm]:
    specs = [CameraSpec(f"cam-00{i}") for i in (1, 2, 3)]
    async with CameraFarm(specs, discovery_port=0, discovery_max_delay=0.05) as f:
        yield f


async def probe(farm: CameraFarm, types: str, want: int) -> list[ET.Element]:
    """Send one Probe and collect `want` answers (deadline 5 s)."""
    assert farm.discovery is not None
    loop = asyncio.get_running_loop()
    inbox = Inbox()
    transport, _ = await loop.create_datagram_endpoint(lambda: inbox,
                                                       local_addr=("127.0.0.1", 0))
    try:
        transport.sendto(probe_message(types, message_id="urn:uuid:probe-1"),
                         ("127.0.0.1", farm.discovery.port))
        answers = []
        async with asyncio.timeout(5):
            while len(answers) < want:
                answers.append(ET.fromstring(await inbox.datagrams.get()))
        return answers
    finally:
        transport.close()


async def test_probe_for_video_transmitters_lists_every_camera_xaddr(farm: CameraFarm) -> None:
    answers = await probe(farm, "dn:NetworkVideoTransmitter", want=3)
    xaddrs = {a.findtext(f".//{WSD}XAddrs") for a in answers}
    assert xaddrs == set(farm.urls().values())
    for answer in answers:
        assert answer.findtext(f".//{WSA}RelatesTo") == "urn:uuid:probe-1"
        assert answer.findtext(f".//{WSA}Action", "").endswith("/discovery/ProbeMatches")
        assert "dn:NetworkVideoTransmitter" in answer.findtext(f".//{WSD}Types", "")
        assert answer.findtext(f".//{WSA}Address", "").startswith("urn:uuid:")
    assert len({a.findtext(f".//{WSA}Address") for a in answers}) == 3


async def test_unreachable_cameras_do_not_answer_probes(farm: CameraFarm) -> None:
    farm.set_fault("cam-002", Fault.UNREACHABLE)
    answers = await probe(farm, "tds:Device", want=2)
    assert {a.findtext(f".//{WSD}XAddrs") for a in answers} == {
        farm.device_url("cam-001"), farm.device_url("cam-003")}


def test_probe_types_and_scopes_decide_the_match() -> None:
    target = Target("urn:uuid:x", ("onvif://www.onvif.org/Profile/Streaming",
                                   "onvif://www.onvif.org/name/SimCam_cam-001"),
                    ("http://127.0.0.1:1/onvif/device_service",))
    probe = parse_probe(probe_message("dn:NetworkVideoTransmitter"))
    assert probe is not None and probe.types == ("NetworkVideoTransmitter",)
    assert matches(probe, target)
    other = parse_probe(probe_message("dp0:NetworkVideoDisplay"))
    assert other is not None and not matches(other, target)
    assert parse_probe(b"not xml") is None
    assert matches(replace(probe, scopes=("onvif://www.onvif.org/Profile",)), target)
    assert not matches(replace(probe, scopes=("onvif://www.onvif.org/Prof",)), target)
