"""Request planning: which read requests fetch every point of a profile. Points of the same
function code are merged into contiguous ranges, across gaps of at most `max_gap` unused
registers (or bits), up to `max_registers` registers (`max_bits` bits) per request, so
adjacent registers cost one round trip instead of one each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drivers.modbus.model import BIT_FUNCTIONS, FUNCTIONS, Point, PointRef, Profile


@dataclass(frozen=True, slots=True)
class Block:
    """One read request: `count` registers (or bits) from `address` with `function`."""

    function: int
    address: int
    count: int
    points: tuple[Point, ...]

    @property
    def end(self) -> int:
        return self.address + self.count

    def label(self) -> str:
        """e.g. `input registers 0x0000..0x003B (fc 4)`, for messages."""
        return (f"{FUNCTIONS[self.function]} 0x{self.address:04X}..0x{self.end - 1:04X} "
                f"(fc {self.function})")


def plan_blocks(points: Iterable[Point], *, max_registers: int = 125, max_bits: int = 2000,
                max_gap: int = 4) -> list[Block]:
    """Read requests covering `points`, in (function, address) order. A point is never
    split across two requests."""
    ordered = sorted(points, key=lambda p: (p.function, p.address))
    blocks: list[Block] = []
    start: Point | None = None
    members: list[Point] = []
    end = 0
    for p in ordered:
        limit = max_bits if p.function in BIT_FUNCTIONS else max_registers
        if (start is not None and p.function == start.function
                and p.address - end <= max_gap and p.end - start.address <= limit):
            members.append(p)
            end = max(end, p.end)
            continue
        if start is not None:
            blocks.append(Block(start.function, start.address, end - start.address,
                                tuple(members)))
        start, members, end = p, [p], p.end
    if start is not None:
        blocks.append(Block(start.function, start.address, end - start.address,
                            tuple(members)))
    return blocks


def plan_profile(profile: Profile) -> list[Block]:
    """The read requests of one poll of a device with `profile`."""
    readable = [p for p in profile.points
                if p.metric or p.conditions or p.on_change or _referenced(profile, p)]
    return plan_blocks(readable, max_registers=profile.max_registers,
                       max_bits=profile.max_bits, max_gap=profile.max_gap)


def _referenced(profile: Profile, point: Point) -> bool:
    """Whether another point's event data names `point` (so it must be read too)."""
    for p in profile.points:
        specs = [c.event for c in p.conditions]
        if p.on_change is not None:
            if p.on_change.default is not None:
                specs.append(p.on_change.default)
            specs += [s for _, s in p.on_change.cases or ()]
        for spec in specs:
            if any(isinstance(v, PointRef) and v.point == point.name for _, v in spec.data):
                return True
    return False
