"""The transmission device's side of GB 26875.3-2011 on the wire, written apart from the
driver's codec (a test only counts when two implementations agree on a socket).

Frame: "@@", then a 24-byte control header packed as `<HBB6s6s6sH` (serial, main and user
version, time label, source, destination, data length), the command byte, the data, one
checksum byte (sum of header, command and data, mod 256), "##". Addresses are 6 bytes,
low byte first; time labels are second, minute, hour, day, month, year-2000.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timezone

HEAD = b"\x40\x40"
TAIL = b"\x23\x23"
_CONTROL = struct.Struct("<HBB6s6s6sHB")   # serial .. length, then the command byte
MAX_DATA = 1024

CONTROL, SEND_DATA, CONFIRM, REQUEST, RESPONSE, DENY = 1, 2, 3, 4, 5, 6

# Type flags this device sends or understands.
SYSTEM_STATE, COMPONENT_STATE, SYSTEM_OPERATION, SYSTEM_TIME = 1, 2, 4, 8
DEVICE_STATE, DEVICE_OPERATION, DEVICE_VERSION, DEVICE_TIME = 21, 24, 25, 28
READ_SYSTEM_STATE, READ_COMPONENT_STATE, READ_DEVICE_STATE = 61, 62, 81
READ_DEVICE_TIME, INITIALISE, SYNC_CLOCK, INSPECTION = 88, 89, 90, 91

# Bit positions (GB 26875.3 § 8.2.1): component / system state flags ...
STATE_BITS = {"normal": 0, "fire_alarm": 1, "fault": 2, "shielded": 3, "supervisory": 4,
              "started": 5, "feedback": 6, "delay": 7, "power_fault": 8,
              "main_power_fault": 8, "backup_power_fault": 9, "bus_fault": 10,
              "manual": 11, "config_changed": 12, "reset": 13}
# ... the transmission device's own state byte ...
DEVICE_BITS = {"normal": 0, "fire_alarm": 1, "fault": 2, "main_power_fault": 3,
               "backup_power_fault": 4, "centre_link_fault": 5, "panel_link_fault": 6}
# ... and operation records (system and device share the first five).
OPERATION_BITS = {"reset": 0, "silence": 1, "manual_alarm": 2, "alarm_cleared": 3,
                  "self_test": 4, "confirm": 5, "inspection_reply": 5, "test": 6}


def stamp(moment: datetime, tz: timezone) -> bytes:
    t = moment.astimezone(tz)
    return struct.pack("6B", t.second, t.minute, t.hour, t.day, t.month, t.year % 100)


def unstamp(raw: bytes, tz: timezone) -> datetime | None:
    s, mi, h, d, mo, y = struct.unpack("6B", raw)
    try:
        return datetime(2000 + y, mo, d, h, mi, s, tzinfo=tz)
    except ValueError:
        return None


def _addr(value: int) -> bytes:
    return struct.pack("<Q", value)[:6]


@dataclass(frozen=True, slots=True)
class Packet:
    serial: int
    command: int
    source: int
    target: int
    payload: bytes
    stamp: bytes
    version: tuple[int, int] = (1, 0)


def pack(p: Packet) -> bytes:
    control = _CONTROL.pack(p.serial, p.version[0], p.version[1], p.stamp, _addr(p.source),
                            _addr(p.target), len(p.payload), p.command)
    body = control + p.payload
    return HEAD + body + bytes([sum(body) % 256]) + TAIL


class Unpacker:
    """Frames out of a byte stream; anything that does not check out is skipped."""

    def __init__(self) -> None:
        self.buffer = b""
        self.rejected = 0

    def push(self, data: bytes) -> list[Packet]:
        self.buffer += data
        found: list[Packet] = []
        while True:
            at = self.buffer.find(HEAD)
            if at < 0:
                self.buffer = self.buffer[-1:] if self.buffer.endswith(b"\x40") else b""
                return found
            self.buffer = self.buffer[at:]
            if len(self.buffer) < 2 + _CONTROL.size:
                return found
            serial, major, minor, st, src, dst, size, command = _CONTROL.unpack_from(
                self.buffer, 2)
            whole = 2 + _CONTROL.size + size + 3
            if size > MAX_DATA:
                self.rejected += 1
                self.buffer = self.buffer[1:]
                continue
            if len(self.buffer) < whole:
                return found
            body = self.buffer[2:whole - 3]
            if self.buffer[whole - 3] != sum(body) % 256 or self.buffer[whole - 2:whole] != TAIL:
                self.rejected += 1
                self.buffer = self.buffer[1:]
                continue
            found.append(Packet(serial, command, int.from_bytes(src, "little"),
                                int.from_bytes(dst, "little"), body[_CONTROL.size:], st,
                                (major, minor)))
            self.buffer = self.buffer[whole:]


# ---------------------------------------------------------------- data units

def unit(type_flag: int, objects: list[bytes]) -> bytes:
    return bytes([type_flag, len(objects)]) + b"".join(objects)


def system_state(system_type: int, address: int, flags: int, at: bytes) -> bytes:
    return struct.pack("<BBH", system_type, address, flags) + at


def component_state(system_type: int, address: int, component_type: int, component: int,
                    flags: int, description: str, at: bytes) -> bytes:
    text = description.encode("gb18030")[:31]
    return struct.pack("<BBBIH31s", system_type, address, component_type, component, flags,
                       text) + at


def system_operation(system_type: int, address: int, flags: int, operator: int,
                     at: bytes) -> bytes:
    return struct.pack("<BBBB", system_type, address, flags, operator) + at


def device_state(flags: int, at: bytes) -> bytes:
    return struct.pack("<B", flags) + at


def device_operation(flags: int, operator: int, at: bytes) -> bytes:
    return struct.pack("<BB", flags, operator) + at


def read_objects(payload: bytes) -> tuple[int, int, bytes]:
    """(type flag, object count, object bytes) of a data unit; ValueError when short."""
    if len(payload) < 2:
        raise ValueError("data unit shorter than its type flag and count")
    return payload[0], payload[1], payload[2:]
