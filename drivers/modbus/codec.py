"""Register words <-> values for the point types a profile may declare (u16, i16, u32, i32,
f32 with big or little word order, and bool for coils / discrete inputs), and the rounding
that keeps a decoded number to the precision the device actually sent.
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

#: type -> (registers it occupies, struct format of its big-endian bytes)
REGISTER_TYPES: Final[dict[str, tuple[int, str]]] = {
    "u16": (1, ">H"),
    "i16": (1, ">h"),
    "u32": (2, ">I"),
    "i32": (2, ">i"),
    "f32": (2, ">f"),
}
BIT_TYPE: Final = "bool"
TYPES: Final = (*REGISTER_TYPES, BIT_TYPE)
WORD_ORDERS: Final = ("big", "little")
#: float32 carries a little over 7 significant decimal digits; more is binary noise.
_F32_DIGITS: Final = 7


def width(type_: str) -> int:
    """Registers (or bits, for bool) one value of `type_` occupies."""
    return 1 if type_ == BIT_TYPE else REGISTER_TYPES[type_][0]


def decode(type_: str, words: Sequence[int], word_order: str = "big") -> int | float:
    """The raw value of `words` (16-bit registers, first one first on the wire).

    `little` word order means the low word comes first (CDAB); bytes within a word are
    always big-endian, as Modbus sends them.
    """
    count, fmt = REGISTER_TYPES[type_]
    if len(words) != count:
        raise ValueError(f"{type_} needs {count} registers, got {len(words)}")
    ordered = list(words) if word_order == "big" or count == 1 else list(reversed(words))
    raw = b"".join(int(w).to_bytes(2, "big") for w in ordered)
    value: int | float = struct.unpack(fmt, raw)[0]
    return value


def encode(type_: str, value: int | float, word_order: str = "big") -> list[int]:
    """The registers that carry `value` (raw, unscaled). ValueError when it does not fit."""
    count, fmt = REGISTER_TYPES[type_]
    if type_ != "f32":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number, which {type_} needs")
        value = int(value)
    try:
        raw = struct.pack(fmt, value)
    except struct.error:
        low, high = limits(type_)
        raise ValueError(f"{value!r} does not fit in {type_} ({low:g} .. {high:g})") from None
    words = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
    return words if word_order == "big" or count == 1 else list(reversed(words))


def limits(type_: str) -> tuple[float, float]:
    """Smallest and largest raw value of an integer type (floats: the f32 range)."""
    return {
        "u16": (0.0, 65535.0), "i16": (-32768.0, 32767.0),
        "u32": (0.0, 4294967295.0), "i32": (-2147483648.0, 2147483647.0),
        "f32": (-3.4028234663852886e38, 3.4028234663852886e38), BIT_TYPE: (0.0, 1.0),
    }[type_]


@functools.lru_cache(maxsize=256)
def scale_decimals(scale: float) -> int:
    """Decimal places a value scaled by `scale` can carry (0.01 -> 2, 10 -> 0)."""
    exponent = Decimal(repr(scale)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def engineering(type_: str, raw: int | float, scale: float) -> float:
    """`raw` times `scale`, rounded to what the register can express: an integer register
    scaled by 0.01 has two decimals; a float32 has seven significant digits. So 2301 * 0.1
    reads 230.1, not 230.10000000000002, and 230.1f reads 230.1, not 230.10000610351562."""
    value = float(raw) * scale
    if type_ == "f32":
        if not math.isfinite(value) or value == 0:
            return value
        digits = _F32_DIGITS - 1 - math.floor(math.log10(abs(value)))
        return round(value, digits)
    return round(value, scale_decimals(scale))
