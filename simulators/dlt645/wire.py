"""DL/T 645-2007 bytes as a meter sees them: pick request frames out of the bus traffic
(skipping noise and broken frames, as meters do) and build reply frames.

Written from the meter's side and independently of `drivers.dlt645.codec` (simulators import
no driver code), so a mistake in one is caught by the other in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

PREAMBLE: Final = b"\xfe\xfe\xfe\xfe"
WILDCARD: Final = "AAAAAAAAAAAA"
BROADCAST: Final = "999999999999"
_LONGEST_DATA: Final = 200


def address_field(address: str) -> bytes:
    """12 digits (or AA pairs), printed high digit first -> six bytes, low byte first."""
    return bytes(int(address[i:i + 2], 16) for i in range(10, -2, -2))


def _address_from(field: bytes) -> str | None:
    text = field[::-1].hex().upper()
    pairs = [text[i:i + 2] for i in range(0, 12, 2)]
    return text if all(p == "AA" or p.isdigit() for p in pairs) else None


@dataclass(frozen=True, slots=True)
class Request:
    """A frame a meter heard: the data field is already stripped of the 0x33 offset."""

    address: str
    control: int
    data: bytes


class RequestReader:
    """Feed it bus bytes; it gives back the well-formed frames. Anything else is dropped a
    byte at a time until a frame start lines up again."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[Request]:
        self._buf += chunk
        found: list[Request] = []
        while True:
            start = self._buf.find(0x68)
            if start < 0:
                self._buf.clear()
                return found
            del self._buf[:start]
            if len(self._buf) < 10:
                return found
            size = 12 + self._buf[9]
            if self._buf[7] != 0x68 or self._buf[9] > _LONGEST_DATA:
                del self._buf[0]
                continue
            if len(self._buf) < size:
                return found
            raw = bytes(self._buf[:size])
            address = _address_from(raw[1:7])
            if sum(raw[:-2]) & 0xFF != raw[-2] or raw[-1] != 0x16 or address is None:
                del self._buf[0]
                continue
            del self._buf[:size]
            found.append(Request(address, raw[8],
                                 bytes((b - 0x33) & 0xFF for b in raw[10:-2])))


def frame(address: str, control: int, data: bytes) -> bytes:
    """A complete frame without wake-up bytes: 68 A0..A5 68 C L DATA+33 CS 16."""
    head = b"\x68" + address_field(address) + bytes([0x68, control, len(data)])
    body = head + bytes((b + 0x33) & 0xFF for b in data)
    return body + bytes([sum(body) & 0xFF, 0x16])


def reseal(raw: bytes) -> bytes:
    """`raw` with its checksum recomputed (after a deliberate change of its data)."""
    return raw[:-2] + bytes([sum(raw[:-2]) & 0xFF, raw[-1]])


@dataclass(frozen=True, slots=True)
class Layout:
    """How a meter writes a value: `size` BCD bytes, `decimals`, sign in the top bit."""

    size: int
    decimals: int
    signed: bool = False


def bcd(value: Decimal, layout: Layout) -> bytes:
    """`value` as the meter sends it (low byte first); values that do not fit are clipped
    to the largest one that does, as a meter's display would saturate."""
    units = int(abs(value).scaleb(layout.decimals).to_integral_value())
    top = 8 * 10 ** (2 * layout.size - 1) if layout.signed else 10 ** (2 * layout.size)
    units = min(units, top - 1)
    digits = f"{units:0{2 * layout.size}d}"
    out = bytearray(int(digits[i:i + 2], 16) for i in range(0, len(digits), 2))
    out.reverse()
    if layout.signed and value < 0:
        out[-1] |= 0x80
    return bytes(out)
