"""Fuzz inputs for the GB 26875.3 decoder: what a transmission device (or anyone who can
reach the centre's port) may send.

One input is one TCP byte stream. It goes through everything the centre does with bytes
before any socket code: `decode_frame` on the whole input, the stream `FrameReader` fed in
chunks cut from the input itself, `decode_unit` on every frame found, the interpreter that
turns units into events (with a configured panel and one unconfigured system), and a check
that every frame re-encodes to the bytes it came from. Only `FrameError` may come out.

Inputs: random bytes; valid frames of every command carrying valid data units of every
type flag with edge-of-range fields; the same with lying lengths and counts; byte-level
mutations of valid frames; several frames with garbage, false starts and splits between.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from drivers.base import DeviceSpec
from drivers.gb26875 import Frame, FrameError, FrameReader, decode_frame, decode_unit
from drivers.gb26875.devices import parse_devices
from drivers.gb26875.interpret import Interpreter
from drivers.gb26875.settings import parse_settings
from drivers.gb26875.tables import LAYOUTS, UNIT_TYPES
from drivers.gb26875.units import layout_for
from scripts.fuzzkit import FuzzTarget, mutate_bytes, random_bytes

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DEVICE = 100000000001
_SETTINGS = parse_settings({"listen": {"port": 0}})
_BOXES = parse_devices([
    DeviceSpec("uitd", "gb26875", "transmission_device", str(DEVICE), timedelta(seconds=30)),
    DeviceSpec("panel", "gb26875", "fire_alarm_controller", "uitd/1", timedelta(seconds=30),
               {"zones": [{"zone": 1, "loop": 1}, {"zone": 2, "loop": 2, "points": "1-9"}],
                "detectors": [{"id": "det-1", "loop": 1, "point": 1}]}),
], _SETTINGS)
_INTERPRETER = Interpreter(_BOXES[0], _SETTINGS)
_TOKENS = (b"@@", b"##", b"@", b"#", b"\x00" * 6, b"\xff\xff", b"\x00\x04")


def decode_stream(data: bytes) -> list[Frame]:
    """Everything the centre does with received bytes; FrameError when the input as a
    whole is not one frame (after the stream path has had it too)."""
    frames = _through_reader(data)
    for frame in frames:
        if frame.encode() not in data:
            raise AssertionError(f"re-encoding {frame} gave bytes that were not received")
        _interpret(frame)
    whole = decode_frame(data)  # FrameError: rejected
    if whole.encode() != data:
        raise AssertionError("decode_frame accepted bytes that do not re-encode to themselves")
    return frames


def _through_reader(data: bytes) -> list[Frame]:
    reader = FrameReader()
    found: list[Frame] = []
    at, step = 0, 1
    while at < len(data):  # chunk sizes taken from the data: 1, 2, 4 ... and back
        size = 1 + (data[at] % 7) * step
        for got in reader.feed(data[at:at + size]):
            if isinstance(got, Frame):
                found.append(got)
        at += size
        step = step * 2 if step < 64 else 1
    if reader.pending > 30 + 1024:
        raise AssertionError(f"the reader holds {reader.pending} bytes, more than a frame")
    return found


def _interpret(frame: Frame) -> None:
    if not frame.data:
        return
    try:
        unit = decode_unit(frame.data, frame.command)
    except FrameError:
        return
    _INTERPRETER.unit(unit, NOW)


# ---------------------------------------------------------------- inputs

def gb26875_input(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.08:
        return random_bytes(rng, 200)
    if roll < 0.35:
        return valid_frame(rng)
    if roll < 0.45:
        return lying_frame(rng)
    if roll < 0.85:
        return mutate_bytes(valid_frame(rng), rng, _TOKENS, partner=valid_frame(rng))
    return stream(rng)


def valid_frame(rng: random.Random) -> bytes:
    command = rng.choice((1, 2, 2, 2, 3, 4, 5, 5, 6, 0, 7, 200))
    data = b"" if rng.random() < 0.15 else valid_unit(rng, command)
    return Frame(rng.randrange(0x10000), command, _address(rng), _address(rng), data,
                 _label(rng), (rng.randrange(256), rng.randrange(256))).encode()


def valid_unit(rng: random.Random, command: int) -> bytes:
    kind = rng.choice([*UNIT_TYPES, 0, 9, 127, 128, 255])
    unit = UNIT_TYPES.get(kind)
    if unit is None:
        return bytes([kind, rng.randrange(4)]) + rng.randbytes(rng.randrange(40))
    layout = layout_for(unit, command)
    out = bytearray([kind, 0])
    count = rng.choice((0, 1, 1, 1, 2, 3, 20))
    for _ in range(count):
        obj = bytearray()
        for name, size, how in LAYOUTS[layout]:
            if how == "ltext":
                text = rng.randbytes(rng.randrange(0, 40))
                obj += bytes([len(text)]) + text
            elif how == "time":
                obj += _label(rng)
            elif how == "text":
                obj += rng.choice((b"\x00" * size, rng.randbytes(size),
                                   "B栋3层".encode("gb18030").ljust(size, b"\x00")))
            elif name in ("system_type", "system_address") and rng.random() < 0.7:
                obj += bytes([1])
            elif name == "component_address" and rng.random() < 0.6:
                obj += (rng.randrange(3) << 16 | rng.randrange(12)).to_bytes(4, "little")
            else:
                obj += rng.choice((bytes(size), b"\xff" * size, rng.randbytes(size)))
        if len(out) + len(obj) > 1024:
            break
        out += obj
        out[1] += 1
    return bytes(out)


def lying_frame(rng: random.Random) -> bytes:
    """A valid frame whose length field, object count or checksum says something else."""
    raw = bytearray(valid_frame(rng))
    choice = rng.randrange(4)
    if choice == 0:
        raw[24:26] = rng.choice((0, 1, 1024, 1025, 0xFFFF, rng.randrange(0x10000))) \
            .to_bytes(2, "little")
    elif choice == 1 and len(raw) > 30:
        raw[28] = rng.randrange(256)  # the object count
        raw[-3] = sum(raw[2:-3]) & 0xFF
    elif choice == 2:
        raw[-3] ^= 1 << rng.randrange(8)
    else:
        raw[-2:] = rng.choice((b"#", b"", b"###", b"@@"))
    return bytes(raw)


def stream(rng: random.Random) -> bytes:
    parts = []
    for _ in range(rng.randint(2, 6)):
        parts.append(rng.choice((valid_frame(rng), lying_frame(rng), b"@@", b"@",
                                 rng.randbytes(rng.randrange(1, 30)))))
    return b"".join(parts)


def _address(rng: random.Random) -> int:
    return rng.choice((DEVICE, 0, (1 << 48) - 1, rng.randrange(1 << 48)))


def _label(rng: random.Random) -> bytes:
    return rng.choice((bytes([7, 45, 13, 23, 11, 26]), bytes(6), b"\xff" * 6,
                       bytes([59, 59, 23, 31, 12, 255]), bytes([0, 0, 0, 29, 2, 25]),
                       rng.randbytes(6)))


def frame_notes(result: object) -> Iterable[str]:
    """How far the frames of an accepted input got: which data units they carried."""
    for frame in result if isinstance(result, list) else ():
        if not isinstance(frame, Frame) or not frame.data:
            yield "frame without data"
            continue
        try:
            unit = decode_unit(frame.data, frame.command)
        except FrameError:
            yield "data unit rejected (FrameError)"
        else:
            yield f"data unit {unit.name}"


def rejection(exc: BaseException) -> str:
    """`checksum expected`, `length mismatch`, `bad end` ...: the reason's first words."""
    words: list[str] = []
    for word in getattr(exc, "reason", str(exc)).split():
        if any(c.isdigit() for c in word) or (len(word) == 2 and word.isalnum()):
            break
        words.append(word.rstrip(":"))
        if word.endswith(":") or len(words) == 3:
            break
    return " ".join(words) or type(exc).__name__


GB26875 = FuzzTarget(
    name="gb26875", description="GB 26875.3 frames: decode_frame, the stream reader, data "
    "units and the interpreter, then re-encode", decode=decode_stream,
    expected=(FrameError,), generate=gb26875_input, default_count=1_000_000,
    reason=rejection, notes=frame_notes)
