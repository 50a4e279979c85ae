"""Application data units (应用数据单元): a type flag, an object count, then that many
information objects laid out as `tables.LAYOUTS` says. One reader and one writer serve
every type, so adding a type is a row in `tables.UNIT_TYPES`, not code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from drivers.gb26875.codec import FrameError
from drivers.gb26875.tables import LAYOUTS, RESPONSE, UNIT_TYPES, UnitType

TEXT_ENCODING: Final = "gb18030"

Value = int | str | bytes


@dataclass(frozen=True, slots=True)
class InfoObject:
    """One information object: its layout name and its fields by name (ints, text, and
    6-byte time labels as bytes)."""

    layout: str
    fields: Mapping[str, Value]

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


@dataclass(frozen=True, slots=True)
class DataUnit:
    """A decoded application data unit. `known` is False for a reserved or user-defined
    type flag: its bytes are kept in `raw`, nothing is read from them."""

    type: int
    objects: tuple[InfoObject, ...] = ()
    known: bool = True
    raw: bytes = field(default=b"", repr=False)

    @property
    def name(self) -> str:
        known = UNIT_TYPES.get(self.type)
        if known is not None:
            return known.name
        return "user_defined" if self.type >= 128 else "reserved"

    def __iter__(self) -> Iterator[InfoObject]:
        return iter(self.objects)


def layout_for(unit: UnitType, command: int) -> str:
    """A response carries what was read; everything else carries the type's own layout."""
    return unit.answer if command == RESPONSE and unit.answer else unit.layout


def object_size(layout: str) -> int | None:
    """Bytes per object, or None for a layout with variable-length text."""
    fields = LAYOUTS[layout]
    if any(kind == "ltext" for _, _, kind in fields):
        return None
    return sum(size for _, size, _ in fields)


def decode_unit(data: bytes, command: int) -> DataUnit:
    """The data unit of a frame with `command`; FrameError when the bytes do not match the
    type's layout. An empty data field is not a unit (check before calling)."""
    if len(data) < 2:
        raise FrameError(f"application data of {len(data)} byte(s) has no room for the type "
                         "flag and the object count")
    kind, count = data[0], data[1]
    unit = UNIT_TYPES.get(kind)
    if unit is None:
        return DataUnit(kind, (), known=False, raw=bytes(data[2:]))
    layout = layout_for(unit, command)
    body = memoryview(data)[2:]
    size = object_size(layout)
    if size is not None and len(body) != count * size:
        raise FrameError(f"data unit type {kind} ({unit.name}) announces {count} object(s) of "
                         f"{size} bytes, {count * size} bytes, but carries {len(body)}")
    objects = []
    at = 0
    for i in range(count):
        fields: dict[str, Value] = {}
        for name, width, how in LAYOUTS[layout]:
            if how == "ltext":
                if at >= len(body):
                    raise FrameError(f"data unit type {kind} ({unit.name}): object {i} ends "
                                     "before its text length byte")
                width = body[at]
                at += 1
            if at + width > len(body):
                raise FrameError(f"data unit type {kind} ({unit.name}): object {i} ends "
                                 f"inside field {name} ({len(body) - at} of {width} bytes)")
            fields[name] = _read(bytes(body[at:at + width]), how)
            at += width
        objects.append(InfoObject(layout, fields))
    if at != len(body):
        raise FrameError(f"data unit type {kind} ({unit.name}): {len(body) - at} byte(s) left "
                         f"over after {count} object(s)")
    return DataUnit(kind, tuple(objects))


def _read(raw: bytes, how: str) -> Value:
    if how == "u":
        return int.from_bytes(raw, "little")
    if how == "s":
        return int.from_bytes(raw, "little", signed=True)
    if how == "time":
        return raw
    # Text: GB 18030, padded with NULs or spaces; a bad byte becomes U+FFFD, never an error.
    return raw.decode(TEXT_ENCODING, errors="replace").rstrip("\x00 ").strip("\x00")


def encode_unit(kind: int, objects: list[Mapping[str, Value]], command: int) -> bytes:
    """The bytes of a data unit of type `kind` with `objects` (field name -> value), laid
    out for `command`; ValueError for a missing field or a value that does not fit."""
    unit = UNIT_TYPES.get(kind)
    if unit is None:
        raise ValueError(f"type flag {kind} is not one the codec knows how to lay out")
    if len(objects) > 255:
        raise ValueError(f"a data unit holds at most 255 objects, got {len(objects)}")
    layout = layout_for(unit, command)
    out = bytearray([kind, len(objects)])
    for i, obj in enumerate(objects):
        for name, width, how in LAYOUTS[layout]:
            if name not in obj:
                raise ValueError(f"object {i} of type {kind} ({unit.name}) lacks {name}")
            out += _write(obj[name], width, how, f"object {i} field {name}")
    return bytes(out)


def _write(value: Value, width: int, how: str, where: str) -> bytes:
    if how in ("u", "s"):
        if not isinstance(value, int):
            raise ValueError(f"{where}: expected a whole number, got {value!r}")
        try:
            return value.to_bytes(width, "little", signed=how == "s")
        except OverflowError:
            raise ValueError(f"{where}: {value} does not fit {width} byte(s)") from None
    if how == "time":
        if not isinstance(value, bytes) or len(value) != 6:
            raise ValueError(f"{where}: expected a 6-byte time label, got {value!r}")
        return value
    text = value.encode(TEXT_ENCODING) if isinstance(value, str) else value
    if not isinstance(text, bytes):
        raise ValueError(f"{where}: expected text, got {value!r}")
    if how == "ltext":
        if len(text) > 255:
            raise ValueError(f"{where}: text of {len(text)} bytes exceeds 255")
        return bytes([len(text)]) + text
    if len(text) > width:
        raise ValueError(f"{where}: text of {len(text)} bytes (GB 18030) exceeds {width}")
    return text.ljust(width, b"\x00")
