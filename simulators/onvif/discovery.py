"""WS-Discovery responder on UDP: answers a Probe for NetworkVideoTransmitter (or any
type) with one ProbeMatches datagram per reachable camera, carrying its XAddrs.

Real devices listen on multicast 239.255.255.250:3702; this one listens on a unicast
address (loopback by default) so tests and demos need no multicast routing. Each answer
is sent after a random delay up to `max_delay` (WS-Discovery's APP_MAX_DELAY), so that
hundreds of cameras do not flood the prober's socket in one burst.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

log = logging.getLogger(__name__)

WSA_2004 = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD_2005 = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ANONYMOUS = f"{WSA_2004}/role/anonymous"
MATCHED_TYPES = frozenset({"NetworkVideoTransmitter", "Device"})


@dataclass(frozen=True, slots=True)
class Target:
    """What a camera tells a prober: its endpoint id, scopes and service addresses."""

    endpoint: str                 # urn:uuid:...
    scopes: tuple[str, ...]
    xaddrs: tuple[str, ...]
    types: str = "dn:NetworkVideoTransmitter tds:Device"


@dataclass(frozen=True, slots=True)
class Probe:
    message_id: str
    types: tuple[str, ...]        # local names, prefixes dropped
    scopes: tuple[str, ...]
    envelope_ns: str
    discovery_ns: str


def parse_probe(data: bytes) -> Probe | None:
    """The Probe in a datagram, or None when it is something else (or not XML)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    if not root.tag.endswith("}Envelope"):
        return None
    env_ns = root.tag[1:].split("}")[0]
    body = root.find(f"{{{env_ns}}}Body")
    probe = None if body is None or len(body) == 0 else body[0]
    if probe is None or not probe.tag.endswith("}Probe"):
        return None
    disc_ns = probe.tag[1:].split("}")[0]
    message_id = ""
    for el in root.iter():
        if el.tag.endswith("}MessageID") and el.text:
            message_id = el.text.strip()
            break
    types = tuple(t.rpartition(":")[2] for t in (probe.findtext(f"{{{disc_ns}}}Types") or "")
                  .split())
    scopes = tuple((probe.findtext(f"{{{disc_ns}}}Scopes") or "").split())
    return Probe(message_id, types, scopes, env_ns, disc_ns)


def matches(probe: Probe, target: Target) -> bool:
    if probe.types and not MATCHED_TYPES.intersection(probe.types):
        return False
    # RFC 3986 prefix matching, the WS-Discovery default: every scope asked for must be
    # a whole-segment prefix of one the camera has.
    return all(any(s == mine or mine.startswith(s.rstrip("/") + "/") for mine in target.scopes)
               for s in probe.scopes)


def probe_matches(probe: Probe, target: Target) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="{probe.envelope_ns}" '
        f'xmlns:wsa="{WSA_2004}" xmlns:d="{probe.discovery_ns}" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><env:Header>'
        f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:RelatesTo>{escape(probe.message_id)}</wsa:RelatesTo>"
        f"<wsa:To>{ANONYMOUS}</wsa:To>"
        f"<wsa:Action>{probe.discovery_ns}/ProbeMatches</wsa:Action></env:Header>"
        "<env:Body><d:ProbeMatches><d:ProbeMatch>"
        f"<wsa:EndpointReference><wsa:Address>{escape(target.endpoint)}</wsa:Address>"
        f"</wsa:EndpointReference><d:Types>{target.types}</d:Types>"
        f"<d:Scopes>{escape(' '.join(target.scopes))}</d:Scopes>"
        f"<d:XAddrs>{escape(' '.join(target.xaddrs))}</d:XAddrs>"
        "<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches>"
        "</env:Body></env:Envelope>").encode()


def probe_message(types: str = "dn:NetworkVideoTransmitter", *,
                  message_id: str | None = None) -> bytes:
    """A Probe as ONVIF clients send it (for tests and for `scg sim` smoke checks)."""
    mid = message_id or f"urn:uuid:{uuid.uuid4()}"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="{SOAP12}" '
        f'xmlns:wsa="{WSA_2004}" xmlns:d="{WSD_2005}" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><env:Header>'
        f"<wsa:MessageID>{mid}</wsa:MessageID><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:"
        f"discovery</wsa:To><wsa:Action>{WSD_2005}/Probe</wsa:Action></env:Header>"
        f"<env:Body><d:Probe><d:Types>{escape(types)}</d:Types></d:Probe></env:Body>"
        "</env:Envelope>").encode()


class DiscoveryResponder(asyncio.DatagramProtocol):
    """Listens on host:port (UDP) and answers Probes for the targets `targets()` returns."""

    def __init__(self, targets: Callable[[], Sequence[Target]], *, host: str = "127.0.0.1",
                 port: int = 3702, max_delay: float = 0.5) -> None:
        self.host, self.port, self.max_delay = host, port, max_delay
        self._targets = targets
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: set[asyncio.TimerHandle] = set()
        self.probes = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: self, local_addr=(self.host, self.port))
        except OSError as exc:
            raise OSError(exc.errno, f"WS-Discovery: cannot listen on UDP {self.host}:"
                                     f"{self.port}: {exc.strerror}; choose another "
                                     "discovery port (or turn discovery off)") from None
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    def stop(self) -> None:
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        probe = parse_probe(data)
        if probe is None:
            return
        self.probes += 1
        loop = asyncio.get_running_loop()
        for target in self._targets():
            if matches(probe, target):
                delay = random.uniform(0, self.max_delay) if self.max_delay > 0 else 0.0
                handle = loop.call_later(delay, self._send, probe_matches(probe, target), addr)
                self._pending.add(handle)

    def _send(self, payload: bytes, addr: tuple[str, int]) -> None:
        self._pending = {h for h in self._pending if not h.cancelled() and
                         h.when() > asyncio.get_running_loop().time()}
        if self._transport is not None:
            self._transport.sendto(payload, addr)
