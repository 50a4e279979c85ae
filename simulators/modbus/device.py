"""A simulated Modbus unit: the four tables a device exposes (coils, discrete inputs, holding
and input registers), filled from the model's live state at each request, plus the ways a
real unit misbehaves on a bus: silent (dead), answering with an exception code, or
answering garbage (all ones: NaN floats, impossible enums).

Models subclass `SimDevice` and write their register map the way the device's firmware
would; nothing here knows about the gateway's profiles.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Sequence
from enum import StrEnum

from pymodbus.constants import ExcCodes

#: function code -> table ("co" coils, "di" discrete inputs, "hr" holding, "ir" input)
TABLE_OF_FUNCTION = {1: "co", 5: "co", 15: "co", 2: "di", 3: "hr", 6: "hr", 16: "hr",
                     22: "hr", 23: "hr", 4: "ir"}
Image = dict[int, int]  # address -> 16-bit word (or 0/1 for a bit table)


class Health(StrEnum):
    OK = "ok"
    DEAD = "dead"            # never answers (power off, broken transceiver, wrong id)
    EXCEPTION = "exception"  # answers every request with an exception code
    GARBAGE = "garbage"      # answers with all-ones data


class Unanswered(Exception):
    """Raised to make the server stay silent for this request."""


def f32(value: float, low_word_first: bool = False) -> list[int]:
    """IEEE 754 single precision as two registers, high word first unless told otherwise."""
    hi_lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi_lo[1], hi_lo[0]] if low_word_first else [hi_lo[0], hi_lo[1]]


def u32(value: int, low_word_first: bool = False) -> list[int]:
    value &= 0xFFFFFFFF
    high, low = value >> 16, value & 0xFFFF
    return [low, high] if low_word_first else [high, low]


def i16(value: int) -> int:
    return value & 0xFFFF


def put(image: Image, address: int, words: Sequence[int]) -> None:
    for i, word in enumerate(words):
        image[address + i] = word


class SimDevice:
    """Base of every simulated model. `speed` runs the model's clock faster than real time
    (60: one simulated minute per second), for demos."""

    model = "generic"
    #: the most registers (bits) the firmware answers in one request
    max_registers = 125
    max_bits = 2000

    def __init__(self, *, speed: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 seed: int | str = 0) -> None:
        self.speed = speed
        self.clock = clock
        self.seed = seed
        self.health = Health.OK
        self.exception_code = ExcCodes.DEVICE_FAILURE
        #: requests answered / ignored, for tests and the benchmark
        self.answered = 0
        self.ignored = 0
        self._last = clock()

    # ------------------------------------------------------------ misbehaviour

    def kill(self) -> None:
        """Stop answering (as if powered off), until `revive()`."""
        self.health = Health.DEAD

    def revive(self) -> None:
        self.health = Health.OK

    def fail_with(self, code: int = ExcCodes.DEVICE_FAILURE) -> None:
        """Answer every request with Modbus exception `code`, until `revive()`."""
        self.health = Health.EXCEPTION
        self.exception_code = ExcCodes(code)

    def send_garbage(self) -> None:
        """Answer with all-ones data, until `revive()`."""
        self.health = Health.GARBAGE

    # ------------------------------------------------------------ the model

    def advance(self) -> None:
        """Bring the model's state up to now (simulated time runs at `speed`)."""
        now = self.clock()
        elapsed = (now - self._last) * self.speed
        self._last = now
        if elapsed > 0:
            self.step(elapsed)

    def step(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass. Models override it."""

    def image(self, table: str) -> Image:
        """The table's current contents; a missing address is not implemented."""
        return {}

    def reads_as_zero(self, table: str, address: int) -> bool:
        """Whether an address the map does not list reads as 0 (else it is refused)."""
        return False

    def store(self, table: str, address: int, values: list[int]) -> ExcCodes | None:
        """Apply a write; models override it for their writable registers and coils."""
        return ExcCodes.ILLEGAL_ADDRESS

    # ------------------------------------------------------------ the server's side

    def read(self, function: int, address: int, count: int) -> list[int] | list[bool] | ExcCodes:
        if self.health is Health.DEAD:
            self.ignored += 1
            raise Unanswered
        self.answered += 1
        if self.health is Health.EXCEPTION:
            return self.exception_code
        table = TABLE_OF_FUNCTION.get(function)
        if table is None:
            return ExcCodes.ILLEGAL_FUNCTION
        bits = table in ("co", "di")
        if count > (self.max_bits if bits else self.max_registers):
            return ExcCodes.ILLEGAL_VALUE
        self.advance()
        image = self.image(table)
        words: list[int] = []
        for a in range(address, address + count):
            if a in image:
                words.append(image[a])
            elif self.reads_as_zero(table, a):
                words.append(0)
            else:
                return ExcCodes.ILLEGAL_ADDRESS
        if self.health is Health.GARBAGE:
            words = [1 if bits else 0xFFFF for _ in words]
        return [bool(w) for w in words] if bits else words

    def write(self, function: int, address: int,
              values: Sequence[int] | Sequence[bool]) -> ExcCodes | None:
        if self.health is Health.DEAD:
            self.ignored += 1
            raise Unanswered
        self.answered += 1
        if self.health is Health.EXCEPTION:
            return self.exception_code
        table = TABLE_OF_FUNCTION.get(function)
        if table not in ("co", "hr"):
            return ExcCodes.ILLEGAL_FUNCTION
        self.advance()
        return self.store(table, address, [int(v) for v in values])
