"""What a Modbus device profile says, once loaded: points (a register, a run of registers,
or a bit), the readings and events they produce, derived metrics, and request limits.
Built and validated by `drivers.modbus.profile`; used by the planner and the poller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from drivers.modbus.codec import BIT_TYPE, width
from telemetry import Severity

FUNCTIONS: Final = {1: "coils", 2: "discrete inputs", 3: "holding registers",
                    4: "input registers"}
BIT_FUNCTIONS: Final = (1, 2)
WRITABLE_FUNCTIONS: Final = (1, 3)
DERIVED_OPS: Final = ("mean", "sum", "max", "min")


@dataclass(frozen=True, slots=True)
class PointRef:
    """Event data taken from another point's value in the same poll."""

    point: str


@dataclass(frozen=True, slots=True)
class BitRef:
    """Event data taken from one bit of the point's own raw value (as true / false)."""

    bit: int


DataValue = str | int | float | bool | PointRef | BitRef


@dataclass(frozen=True, slots=True)
class EventSpec:
    type: str
    severity: Severity
    data: tuple[tuple[str, DataValue], ...] = ()


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition event raised while `bit` of the raw value is set (`bit` None: while the
    value is non-zero / true), cleared when it is not."""

    bit: int | None
    event: EventSpec

    def active(self, raw: int | float | bool) -> bool:
        if self.bit is None:
            return bool(raw)
        return bool((int(raw) >> self.bit) & 1)


@dataclass(frozen=True, slots=True)
class ChangeRule:
    """A momentary event each time the value changes to one of `cases` (or, without
    cases, to any value not in `ignore`). The first value seen raises nothing: nobody
    knows when it changed."""

    default: EventSpec | None
    cases: tuple[tuple[int, EventSpec], ...] | None
    ignore: frozenset[int]

    def event_for(self, value: int) -> EventSpec | None:
        if value in self.ignore:
            return None
        if self.cases is None:
            return self.default
        for case, spec in self.cases:
            if case == value:
                return spec
        return None


@dataclass(frozen=True, slots=True)
class Point:
    """One value at `address` of function `function` (1 coils, 2 discrete inputs, 3 holding
    registers, 4 input registers). `where` is its key path in the profile, for messages."""

    name: str | None
    where: str
    function: int
    address: int
    type: str
    word_order: str = "big"
    scale: float = 1.0
    unit: str = ""
    metric: str | None = None
    low: float | None = None
    high: float | None = None
    conditions: tuple[Condition, ...] = ()
    on_change: ChangeRule | None = None
    writable: bool = False

    @property
    def width(self) -> int:
        return width(self.type)

    @property
    def end(self) -> int:
        """First address after the point."""
        return self.address + self.width

    @property
    def key(self) -> str:
        """The point's identity within its profile (its name, or where it sits)."""
        return self.name or f"fc{self.function}@0x{self.address:04X}"

    @property
    def is_bit(self) -> bool:
        return self.type == BIT_TYPE

    def label(self) -> str:
        """How a person finds the point in the device's manual, e.g.
        `input register 0x0156 (f32, energy_import_kwh)`."""
        kind = {1: "coil", 2: "discrete input", 3: "holding register",
                4: "input register"}[self.function]
        what = ", ".join(x for x in (self.type, self.metric or self.name) if x)
        return f"{kind} 0x{self.address:04X} ({what})"


@dataclass(frozen=True, slots=True)
class Derived:
    """A metric computed from other metrics of the same poll (a three-phase meter's mean
    voltage, any fire door open)."""

    metric: str
    op: str
    inputs: tuple[str, ...]

    def compute(self, values: list[float]) -> float:
        if self.op == "mean":
            return round(sum(values) / len(values), 9)
        if self.op == "sum":
            return round(sum(values), 9)
        return max(values) if self.op == "max" else min(values)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    source: str
    points: tuple[Point, ...]
    derived: tuple[Derived, ...] = ()
    max_registers: int = 125
    max_bits: int = 2000
    max_gap: int = 4
    path: str = ""

    def point(self, name: str) -> Point | None:
        for p in self.points:
            if p.name == name:
                return p
        return None

    def writable(self) -> list[str]:
        """Names of the points a command may write."""
        return [p.name for p in self.points if p.writable and p.name]
