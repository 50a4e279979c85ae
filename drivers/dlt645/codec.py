"""DL/T 645-2007 frames and BCD values: build read requests, split and check frames from a
byte stream, and turn a meter's reply into exact decimal values — or a `FrameError` whose
reason says what was wrong (start byte, length, checksum, end byte, address, control code,
data identifier, BCD digit).

A frame is `68 A0..A5 68 C L DATA CS 16`, optionally led by FE wake-up bytes. The address
is 12 BCD digits sent low byte first; every DATA byte travels with 0x33 added; CS is the sum
mod 256 of every byte from the first 68 to the last DATA byte. A read carries the 4-byte
data identifier (DI0 first); the reply repeats it and adds the value, low byte first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

START: Final = 0x68
END: Final = 0x16
WAKE_BYTE: Final = 0xFE
WAKE_UP: Final = bytes([WAKE_BYTE] * 4)
OFFSET: Final = 0x33
MAX_DATA: Final = 200            # the standard's ceiling for L in a read reply
MIN_FRAME: Final = 12            # 68, six address bytes, 68, C, L, CS, 16
WILDCARD: Final = "AAAAAAAAAAAA"  # any meter answers: only for reading the address of one
BROADCAST: Final = "999999999999"  # every meter listens, none answers (time sync)

# Control codes (D7 direction, D6 abnormal reply, D5 following frames, D4..D0 function).
READ: Final = 0x11
READ_REPLY: Final = 0x91
READ_REPLY_MORE: Final = 0xB1
READ_ERROR: Final = 0xD1
READ_ADDRESS: Final = 0x13
READ_ADDRESS_REPLY: Final = 0x93

_FUNCTIONS: Final = {0x08: "broadcast time sync", 0x11: "read data", 0x12: "read following "
                     "data", 0x13: "read address", 0x14: "write data", 0x15: "write address",
                     0x16: "freeze", 0x17: "change baud rate", 0x18: "change password",
                     0x19: "clear max demand", 0x1A: "clear meter", 0x1B: "clear events"}

#: Bits of the error byte of an abnormal reply (DL/T 645-2007 appendix C), bit 0 first.
ERROR_BITS: Final = ("other error", "no requested data", "wrong password or not authorised",
                     "baud rate cannot be changed", "too many yearly time zones",
                     "too many daily time slots", "too many tariffs", "reserved bit 7")


class FrameError(ValueError):
    """The bytes are not an acceptable frame or reply; `reason` says what was wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WrongAddress(FrameError):
    """A good frame from another meter than the one asked (a late reply, or a bus clash)."""


class WrongDataIdentifier(FrameError):
    """A good reply from the right meter to another data identifier (a late reply)."""


class AbnormalReply(FrameError):
    """The meter answered with an abnormal reply (control 0xD1) and this error byte."""

    def __init__(self, error: int, address: str) -> None:
        self.error = error
        self.errors = error_names(error)
        super().__init__(f"abnormal reply from meter {address}: error byte 0x{error:02X} "
                         f"({', '.join(self.errors) or 'no error bit set'})")


def error_names(error: int) -> list[str]:
    """The meanings of the bits set in an abnormal reply's error byte."""
    return [name for bit, name in enumerate(ERROR_BITS) if error >> bit & 1]


def describe_control(control: int) -> str:
    """`0x91 (reply to read data)` — for messages about control codes."""
    function = _FUNCTIONS.get(control & 0x1F, "unknown function")
    if not control & 0x80:
        kind = "request"
    elif control & 0x40:
        kind = "abnormal reply"
    else:
        kind = "reply with following frames" if control & 0x20 else "reply"
    return f"0x{control:02X} ({kind}: {function})" if kind != "request" \
        else f"0x{control:02X} ({function} request)"


# ---------------------------------------------------------------- addresses and identifiers

def address_bytes(address: str) -> bytes:
    """`000012345678` -> 78 56 34 12 00 00 (low byte first); pairs may be AA (wildcard)."""
    if not isinstance(address, str) or len(address) != 12:
        raise ValueError(f"meter address {address!r} must be 12 characters, e.g. 000012345678")
    out = bytearray()
    for i in range(10, -2, -2):
        pair = address[i:i + 2]
        if pair.upper() == "AA":
            out.append(0xAA)
        elif pair.isdigit() and pair.isascii():
            out.append(int(pair[0]) << 4 | int(pair[1]))
        else:
            raise ValueError(f"meter address {address!r}: {pair!r} is not two decimal digits")
    return bytes(out)


def address_text(raw: bytes) -> str:
    """The 12-character address of six address bytes (low byte first); FrameError if a byte
    is neither BCD nor the wildcard AA."""
    digits = []
    for b in reversed(raw):
        if b == 0xAA:
            digits.append("AA")
        elif b >> 4 > 9 or b & 0xF > 9:
            raise FrameError(f"address byte 0x{b:02X} is not BCD (address bytes, low first: "
                             f"{raw.hex(' ').upper()})")
        else:
            digits.append(f"{b:02X}")
    return "".join(digits)


def parse_di(text: str) -> int:
    """`"00010000"` or `"00 01 00 00"` (DI3 DI2 DI1 DI0) -> 0x00010000."""
    compact = text.replace(" ", "") if isinstance(text, str) else ""
    if len(compact) != 8 or any(c not in "0123456789abcdefABCDEF" for c in compact):
        raise ValueError(f"data identifier {text!r} must be 8 hex digits DI3 DI2 DI1 DI0, "
                         "e.g. \"00010000\"")
    return int(compact, 16)


def format_di(di: int) -> str:
    return f"{di:08X}"


# ---------------------------------------------------------------- frames

@dataclass(frozen=True, slots=True)
class Frame:
    """One frame with its data field already stripped of the 0x33 offset."""

    address: str
    control: int
    data: bytes = b""

    @property
    def is_reply(self) -> bool:
        return bool(self.control & 0x80)

    def encode(self, *, wake_up: bool = True) -> bytes:
        if not 0 <= self.control <= 0xFF:
            raise ValueError(f"control code {self.control} is not a byte")
        if len(self.data) > MAX_DATA:
            raise ValueError(f"data field of {len(self.data)} bytes exceeds {MAX_DATA}")
        body = bytearray([START, *address_bytes(self.address), START, self.control,
                          len(self.data)])
        body += bytes((b + OFFSET) & 0xFF for b in self.data)
        body += bytes([sum(body) & 0xFF, END])
        return (WAKE_UP if wake_up else b"") + bytes(body)


def frame_extent(buf: bytes | bytearray) -> int | None:
    """How many bytes of `buf` (wake-up bytes included) the first frame takes, or None
    while too few bytes have arrived to say. FrameError when `buf` cannot start a frame."""
    i = 0
    while i < len(buf) and buf[i] == WAKE_BYTE:
        i += 1
    if i == len(buf):
        return None
    if buf[i] != START:
        raise FrameError(f"bad start byte 0x{buf[i]:02X} at offset {i} (expected 0x68"
                         f"{' after the FE wake-up bytes' if i else ''})")
    if len(buf) - i > 7 and buf[i + 7] != START:
        raise FrameError(f"bad second start byte 0x{buf[i + 7]:02X} (expected 0x68 after the "
                         "six address bytes)")
    if len(buf) - i < 10:
        return None
    length = buf[i + 9]
    if length > MAX_DATA:
        raise FrameError(f"length byte L = {length} exceeds the {MAX_DATA} data bytes a "
                         "frame may carry")
    return i + MIN_FRAME + length


def decode_frame(raw: bytes | bytearray) -> Frame:
    """Exactly one frame, optionally led by FE wake-up bytes; FrameError says what is wrong."""
    i = 0
    while i < len(raw) and raw[i] == WAKE_BYTE:
        i += 1
    body = bytes(raw[i:])
    if not body:
        raise FrameError(f"no frame: {len(raw)} bytes, all FE wake-up bytes" if raw
                         else "no frame: no bytes at all")
    if body[0] != START:
        raise FrameError(f"bad start byte 0x{body[0]:02X} at offset {i} (expected 0x68"
                         f"{' after the FE wake-up bytes' if i else ''})")
    if len(body) < MIN_FRAME:
        raise FrameError(f"truncated frame: {len(body)} bytes, a frame has at least "
                         f"{MIN_FRAME} (68, 6 address bytes, 68, C, L, CS, 16)")
    if body[7] != START:
        raise FrameError(f"bad second start byte 0x{body[7]:02X} (expected 0x68 after the "
                         "six address bytes)")
    length = body[9]
    if len(body) != MIN_FRAME + length:
        raise FrameError(f"length mismatch: L = {length} announces a {MIN_FRAME + length}-byte "
                         f"frame, got {len(body)} bytes")
    checksum = sum(body[:10 + length]) & 0xFF
    if body[10 + length] != checksum:
        raise FrameError(f"checksum expected 0x{checksum:02X} got 0x{body[10 + length]:02X}")
    if body[11 + length] != END:
        raise FrameError(f"missing end byte 0x16 (got 0x{body[11 + length]:02X})")
    data = bytes((b - OFFSET) & 0xFF for b in body[10:10 + length])
    return Frame(address_text(body[1:7]), body[8], data)


# ---------------------------------------------------------------- requests and replies

def read_request(address: str, di: int, *, wake_up: bool = True) -> bytes:
    """The bytes that ask meter `address` for data identifier `di` (control 0x11)."""
    return Frame(address, READ, di.to_bytes(4, "little")).encode(wake_up=wake_up)


def read_address_request(*, wake_up: bool = True) -> bytes:
    """Ask the one meter on a bus for its address (wildcard address, control 0x13)."""
    return Frame(WILDCARD, READ_ADDRESS).encode(wake_up=wake_up)


def parse_read_reply(frame: Frame, *, address: str, di: int) -> bytes:
    """The value bytes of meter `address`'s normal reply to a read of `di`.

    FrameError otherwise: WrongAddress / WrongDataIdentifier for a good frame meant for
    another exchange, AbnormalReply with the error bits, or the reason it is unusable."""
    if frame.address != address:
        raise WrongAddress(f"wrong address: reply from meter {frame.address}, the request "
                           f"went to {address}")
    if frame.control == READ_ERROR:
        if len(frame.data) != 1:
            raise FrameError(f"abnormal reply from meter {address} carries {len(frame.data)} "
                             "data bytes (expected 1 error byte)")
        raise AbnormalReply(frame.data[0], address)
    if frame.control == READ_REPLY_MORE:
        raise FrameError(f"meter {address} announced following frames (control 0xB1) for "
                         f"{format_di(di)}; reading them (control 0x12) is not supported "
                         "and a single register never needs them")
    if frame.control != READ_REPLY:
        raise FrameError(f"unexpected control code {describe_control(frame.control)} "
                         "(expected 0x91 normal reply or 0xD1 abnormal reply to a read)")
    if len(frame.data) < 4:
        raise FrameError(f"reply of {len(frame.data)} data bytes has no room for the 4-byte "
                         "data identifier")
    got = int.from_bytes(frame.data[:4], "little")
    if got != di:
        raise WrongDataIdentifier(f"reply to another data identifier {format_di(got)} "
                                  f"(asked for {format_di(di)})")
    return frame.data[4:]


def parse_address_reply(frame: Frame) -> str:
    """The address a meter gave in reply to `read_address_request`."""
    if frame.control != READ_ADDRESS_REPLY:
        raise FrameError(f"unexpected control code {describe_control(frame.control)} "
                         "(expected 0x93, the reply to read address)")
    if len(frame.data) != 6:
        raise FrameError(f"address reply carries {len(frame.data)} data bytes (expected 6)")
    if 0xAA in frame.data:
        raise FrameError("address reply carries the wildcard byte AA; a meter must give its "
                         f"own 12 digits (got {frame.data[::-1].hex().upper()})")
    told = address_text(frame.data)
    if told != frame.address:
        raise FrameError(f"address reply names meter {told} in a frame from {frame.address}")
    return told


# ---------------------------------------------------------------- values

@dataclass(frozen=True, slots=True)
class ValueFormat:
    """`count` values of `size` BCD bytes each (low byte first) with `decimals` decimal
    places; `signed`: the top bit of each value's highest byte is the sign (1 = negative)."""

    size: int
    decimals: int
    signed: bool = False
    count: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.size <= 8 or not 0 <= self.decimals <= 2 * self.size \
                or not 1 <= self.count <= 16:
            raise ValueError(f"unusable value format {self}")

    @property
    def length(self) -> int:
        return self.size * self.count

    @property
    def pattern(self) -> str:
        """The standard's notation, e.g. XXXXXX.XX."""
        whole = 2 * self.size - self.decimals
        return "X" * whole + ("." + "X" * self.decimals if self.decimals else "")


@dataclass(frozen=True, slots=True)
class DataItem:
    di: int
    name: str
    format: ValueFormat
    unit: str


_ENERGY = ValueFormat(4, 2)
_VOLT = ValueFormat(2, 1)
_AMP = ValueFormat(3, 3, signed=True)
_KW = ValueFormat(3, 4, signed=True)

#: The data identifiers this codec knows the format of (DL/T 645-2007 appendix A).
STANDARD: Final[dict[int, DataItem]] = {d.di: d for d in (
    DataItem(0x00010000, "total forward active energy", _ENERGY, "kWh"),
    DataItem(0x00020000, "total reverse active energy", _ENERGY, "kWh"),
    DataItem(0x02010100, "phase A voltage", _VOLT, "V"),
    DataItem(0x02010200, "phase B voltage", _VOLT, "V"),
    DataItem(0x02010300, "phase C voltage", _VOLT, "V"),
    DataItem(0x0201FF00, "voltage block (A, B, C)", ValueFormat(2, 1, count=3), "V"),
    DataItem(0x02020100, "phase A current", _AMP, "A"),
    DataItem(0x02020200, "phase B current", _AMP, "A"),
    DataItem(0x02020300, "phase C current", _AMP, "A"),
    DataItem(0x0202FF00, "current block (A, B, C)", ValueFormat(3, 3, True, 3), "A"),
    DataItem(0x02030000, "total active power", _KW, "kW"),
    DataItem(0x02030100, "phase A active power", _KW, "kW"),
    DataItem(0x02030200, "phase B active power", _KW, "kW"),
    DataItem(0x02030300, "phase C active power", _KW, "kW"),
    DataItem(0x0203FF00, "active power block (total, A, B, C)", ValueFormat(3, 4, True, 4),
             "kW"),
    DataItem(0x02060000, "total power factor", ValueFormat(2, 3, signed=True), ""),
    DataItem(0x02800002, "grid frequency", ValueFormat(2, 2), "Hz"),
)}


def decode_values(payload: bytes, fmt: ValueFormat) -> tuple[Decimal, ...]:
    """The exact values of a reply's value bytes; FrameError for a wrong length or a
    non-BCD digit."""
    if len(payload) != fmt.length:
        raise FrameError(f"value length mismatch: expected {fmt.length} bytes "
                         f"({fmt.count} x {fmt.pattern}), got {len(payload)}")
    return tuple(_bcd(payload[k * fmt.size:(k + 1) * fmt.size], fmt)
                 for k in range(fmt.count))


def _bcd(chunk: bytes, fmt: ValueFormat) -> Decimal:
    raw = bytearray(chunk)
    negative = False
    if fmt.signed:
        negative = bool(raw[-1] & 0x80)
        raw[-1] &= 0x7F
    number = 0
    for b in reversed(raw):
        if b >> 4 > 9 or b & 0xF > 9:
            raise FrameError(f"non-BCD digit in data: byte 0x{b:02X} in value bytes "
                             f"{chunk[::-1].hex(' ').upper()} (high byte first)")
        number = number * 100 + (b >> 4) * 10 + (b & 0xF)
    value = Decimal(number).scaleb(-fmt.decimals)
    return -value if negative else value


def encode_values(values: Iterable[Decimal | int | float | str], fmt: ValueFormat) -> bytes:
    """Value bytes for `values` (rounded to the format's decimals); ValueError if one does
    not fit. The inverse of `decode_values`, for meters and tests."""
    values = list(values)
    if len(values) != fmt.count:
        raise ValueError(f"format {fmt.pattern} x {fmt.count} takes {fmt.count} values, "
                         f"got {len(values)}")
    out = bytearray()
    for v in values:
        exact = Decimal(str(v)) if isinstance(v, float) else Decimal(v)
        number = int(exact.scaleb(fmt.decimals).to_integral_value())
        negative = number < 0
        number = abs(number)
        limit = 10 ** (2 * fmt.size - (1 if fmt.signed else 0)) * (8 if fmt.signed else 1)
        if number >= limit or (negative and not fmt.signed):
            raise ValueError(f"{v} does not fit {'signed ' if fmt.signed else ''}{fmt.pattern}")
        digits = f"{number:0{2 * fmt.size}d}"
        chunk = bytearray(int(digits[j:j + 2], 16) for j in range(0, len(digits), 2))[::-1]
        if negative:
            chunk[-1] |= 0x80
        out += chunk
    return bytes(out)
