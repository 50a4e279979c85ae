"""GB 26875.3-2011 frames: build them, check them, and cut them out of a TCP byte stream —
or say with a `FrameError` what was wrong (start, length, checksum, end).

    @@ | serial 2 | version 2 | time 6 | source 6 | destination 6 | length 2 | command 1
       | application data unit (length bytes) | checksum 1 | ##

Multi-byte numbers are little-endian; the version is the main version then the user
version; the time label is second, minute, hour, day, month, year − 2000 (binary, local
time of the sender); the checksum is the sum mod 256 of every byte from the serial number
to the last data byte. The layout and the tables are cited in `drivers/gb26875/__init__.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from drivers.gb26875.tables import (
    ADDRESS_MAX,
    END,
    FRAME_OVERHEAD,
    HEADER_SIZE,
    MAX_DATA,
    START,
    command_name,
)

NO_TIME: Final = bytes(6)
_LENGTH_AT: Final = 24   # offset of the 2-byte application data length


class FrameError(ValueError):
    """The bytes are not an acceptable frame or data unit; `reason` says what was wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- time labels and addresses

def time_label(moment: datetime, tz: timezone) -> bytes:
    """The 6-byte time label of `moment` as a clock in `tz` shows it (years 2000..2255)."""
    local = moment.astimezone(tz) if moment.tzinfo else moment
    if not 2000 <= local.year <= 2255:
        raise ValueError(f"time label years run 2000..2255, got {local.year}")
    return bytes([local.second, local.minute, local.hour, local.day, local.month,
                  local.year - 2000])


def parse_time_label(raw: bytes, tz: timezone) -> datetime | None:
    """The moment a time label names, or None when it names no real time (a device whose
    clock was never set sends zeros)."""
    if len(raw) != 6:
        return None
    second, minute, hour, day, month, year = raw
    try:
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None


def describe_time_label(raw: bytes) -> str:
    """`2024-05-01 13:45:07` (or the raw bytes when they name no time), for messages."""
    moment = parse_time_label(raw, UTC)
    if moment is None:
        return f"invalid time label {raw.hex(' ')}"
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def parse_offset(text: str) -> timezone:
    """`+08:00` -> the fixed zone of China Standard Time; ValueError otherwise."""
    if not isinstance(text, str) or len(text) != 6 or text[0] not in "+-" or text[3] != ":" \
            or not (text[1:3] + text[4:]).isdigit():
        raise ValueError(f"expected a UTC offset such as +08:00, got {text!r}")
    hours, minutes = int(text[1:3]), int(text[4:])
    if hours > 14 or minutes > 59:
        raise ValueError(f"UTC offset {text!r} is out of range (-14:00 .. +14:00)")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def parse_address(text: object) -> int:
    """A 6-byte address as installers write it: decimal digits (`100000000001`) or `0x`
    and up to 12 hex digits; ValueError says what is expected."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and text.strip().lower().startswith("0x"):
        digits = text.strip()[2:]
        if not digits or len(digits) > 12 or any(c not in "0123456789abcdefABCDEF"
                                                 for c in digits):
            raise ValueError(f"address {text!r}: after 0x give 1..12 hex digits")
        value = int(digits, 16)
    elif isinstance(text, str) and text.strip().isdigit() and text.strip().isascii():
        value = int(text.strip())
    else:
        raise ValueError(f"address {text!r} must be a number (decimal digits, or 0x and hex "
                         "digits), e.g. 100000000001")
    if not 0 <= value <= ADDRESS_MAX:
        raise ValueError(f"address {text!r} does not fit the protocol's 6 bytes "
                         f"(0 .. {ADDRESS_MAX})")
    return value


# ---------------------------------------------------------------- frames

@dataclass(frozen=True, slots=True)
class Frame:
    """One frame. `time` is the raw 6-byte time label (see `parse_time_label`)."""

    serial: int
    command: int
    source: int
    destination: int
    data: bytes = b""
    time: bytes = NO_TIME
    version: tuple[int, int] = (1, 0)

    def encode(self) -> bytes:
        """The frame's bytes; ValueError when a field does not fit its bytes."""
        checks = (("serial", self.serial, 0xFFFF), ("command", self.command, 0xFF),
                  ("source", self.source, ADDRESS_MAX),
                  ("destination", self.destination, ADDRESS_MAX),
                  ("version major", self.version[0], 0xFF),
                  ("version minor", self.version[1], 0xFF))
        for what, value, high in checks:
            if not 0 <= value <= high:
                raise ValueError(f"{what} {value} does not fit (0 .. {high})")
        if len(self.time) != 6:
            raise ValueError(f"a time label is 6 bytes, got {len(self.time)}")
        if len(self.data) > MAX_DATA:
            raise ValueError(f"application data of {len(self.data)} bytes exceeds "
                             f"{MAX_DATA}")
        body = bytearray(self.serial.to_bytes(2, "little"))
        body += bytes(self.version)
        body += self.time
        body += self.source.to_bytes(6, "little")
        body += self.destination.to_bytes(6, "little")
        body += len(self.data).to_bytes(2, "little")
        body.append(self.command)
        body += self.data
        return START + bytes(body) + bytes([sum(body) & 0xFF]) + END

    def reply(self, command: int, *, source: int, time: bytes, data: bytes = b"") -> Frame:
        """The answer to this frame: same serial number and version, addresses swapped
        (`source` is the replier's own address)."""
        return Frame(self.serial, command, source, self.source, data, time, self.version)

    def describe(self) -> str:
        return (f"frame {self.serial} command {command_name(self.command)} from "
                f"{self.source} to {self.destination}, {len(self.data)} data bytes")


def decode_frame(raw: bytes | bytearray) -> Frame:
    """Exactly one frame; FrameError says what is wrong."""
    size = len(raw)
    if size < FRAME_OVERHEAD:
        raise FrameError(f"truncated frame: {size} bytes, a frame has at least "
                         f"{FRAME_OVERHEAD} (header 27, checksum, ##)")
    if raw[:2] != START:
        raise FrameError(f"bad start {bytes(raw[:2]).hex(' ')} (expected 40 40, '@@')")
    length = int.from_bytes(raw[_LENGTH_AT:_LENGTH_AT + 2], "little")
    if length > MAX_DATA:
        raise FrameError(f"application data length {length} exceeds the {MAX_DATA} bytes a "
                         "frame may carry")
    if size != FRAME_OVERHEAD + length:
        raise FrameError(f"length mismatch: the length field announces {length} data bytes, "
                         f"a {FRAME_OVERHEAD + length}-byte frame; got {size} bytes")
    end = HEADER_SIZE + length
    checksum = sum(raw[2:end]) & 0xFF
    if raw[end] != checksum:
        raise FrameError(f"checksum expected 0x{checksum:02X} got 0x{raw[end]:02X}")
    if raw[end + 1:] != END:
        raise FrameError(f"bad end {bytes(raw[end + 1:]).hex(' ')} (expected 23 23, '##')")
    return Frame(serial=int.from_bytes(raw[2:4], "little"), command=raw[26],
                 source=int.from_bytes(raw[12:18], "little"),
                 destination=int.from_bytes(raw[18:24], "little"),
                 data=bytes(raw[HEADER_SIZE:end]), time=bytes(raw[6:12]),
                 version=(raw[4], raw[5]))


class FrameReader:
    """Cuts frames out of a TCP byte stream fed in chunks of any size.

    Garbage before a start is skipped; a start whose frame fails its checks is given up and
    the search resumes one byte later, so a real frame hidden behind a false `@@` is still
    found. `feed` returns the frames and the errors met, in stream order; the buffer never
    holds more than one frame's worth of bytes.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        #: bytes skipped because no frame started there
        self.skipped = 0

    def feed(self, chunk: bytes) -> list[Frame | FrameError]:
        self._buf += chunk
        out: list[Frame | FrameError] = []
        while True:
            start = self._buf.find(START)
            if start < 0:
                # Keep a lone trailing '@': it may be the first half of the next start.
                keep = 1 if self._buf[-1:] == START[:1] else 0
                self.skipped += len(self._buf) - keep
                del self._buf[:len(self._buf) - keep]
                return out
            if start:
                self.skipped += start
                del self._buf[:start]
            if len(self._buf) < HEADER_SIZE:
                return out
            length = int.from_bytes(self._buf[_LENGTH_AT:_LENGTH_AT + 2], "little")
            if length > MAX_DATA:
                out.append(FrameError(f"application data length {length} exceeds the "
                                      f"{MAX_DATA} bytes a frame may carry"))
                self._give_up_start()
                continue
            total = FRAME_OVERHEAD + length
            if len(self._buf) < total:
                # Wait for the rest, unless a whole frame already sits behind this start:
                # then this was a false start, and the real frame must not wait for it.
                later = self._complete_frame_after_start()
                if later is None:
                    return out
                out.append(FrameError(f"false start: {later} byte(s) before a whole frame "
                                      "did not make one"))
                self.skipped += later
                del self._buf[:later]
                continue
            try:
                out.append(decode_frame(self._buf[:total]))
            except FrameError as exc:
                out.append(exc)
                self._give_up_start()
                continue
            del self._buf[:total]

    def _complete_frame_after_start(self) -> int | None:
        """The offset of the first later start that begins a whole, valid frame."""
        at = self._buf.find(START, 1)
        while at > 0:
            if len(self._buf) - at >= FRAME_OVERHEAD:
                length = int.from_bytes(self._buf[at + _LENGTH_AT:at + _LENGTH_AT + 2],
                                        "little")
                end = at + FRAME_OVERHEAD + length
                if length <= MAX_DATA and end <= len(self._buf):
                    try:
                        decode_frame(self._buf[at:end])
                    except FrameError:
                        pass
                    else:
                        return at
            at = self._buf.find(START, at + 1)
        return None

    def _give_up_start(self) -> None:
        self.skipped += 1
        del self._buf[:1]

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)
