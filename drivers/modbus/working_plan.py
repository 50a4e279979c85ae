"""The read plan one device actually answers, learned from the profile's plan.

Manufacturers' maps leave registers out, and a strict device answers a read that touches
one of them with exception 02 ILLEGAL DATA ADDRESS, losing every point of the request. A
refused request is split in two (by its points) and each half read again, down to single
points; a single point still refused is a point this device does not have. The requests
that were answered become the device's working plan, and the missing points are left out
of it, so the bisection costs a few requests once, not every poll.

When to try the profile's plan again (a device's firmware may change): after its link
reconnects (a TCP device or gateway that was power-cycled or replaced), after the device
itself was silent (an RTU meter that lost power, perhaps swapped), and every
`REPROBE_AFTER` seconds in any case. A re-probe that finds the same points missing says
nothing new; the missing points are logged only when the set changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.modbus.model import BIT_FUNCTIONS, Point
from drivers.modbus.plan import Block

#: Modbus exception 02: the request touched an address the device does not have.
ILLEGAL_DATA_ADDRESS = 2
#: At the latest, a learned plan is tried against the profile's again after this long.
REPROBE_AFTER = 24 * 3600.0


def block_of(function: int, points: Sequence[Point]) -> Block:
    """The one request that reads exactly `points` (sorted by address) and what lies
    between them."""
    start = points[0].address
    end = max(p.end for p in points)
    return Block(function, start, end - start, tuple(points))


def halves(block: Block) -> tuple[Block, Block]:
    """`block` split by its points into two requests (the first half has the fewer)."""
    points = block.points
    middle = len(points) // 2
    return block_of(block.function, points[:middle]), block_of(block.function, points[middle:])


def joined(blocks: Sequence[Block], max_registers: int, max_bits: int) -> list[Block]:
    """`blocks` with neighbours that touch (no address between them) made one request
    while it stays within the limit: both halves were answered, so their union is too."""
    out: list[Block] = []
    for block in sorted(blocks, key=lambda b: (b.function, b.address)):
        last = out[-1] if out else None
        limit = max_bits if block.function in BIT_FUNCTIONS else max_registers
        if (last is not None and last.function == block.function and last.end == block.address
                and block.end - last.address <= limit):
            out[-1] = Block(last.function, last.address, block.end - last.address,
                            last.points + block.points)
        else:
            out.append(block)
    return out


@dataclass(slots=True)
class WorkingPlan:
    """One device's requests: the profile's, or the ones it was found to answer."""

    planned: tuple[Block, ...]
    blocks: tuple[Block, ...] = ()
    #: points the device answered exception 02 for, each on its own
    missing: tuple[Point, ...] = ()
    #: loop time the plan was last confirmed (None: the profile's plan, still untried)
    learned_at: float | None = None
    #: the link's connection count at that time
    connects: int = 0

    def __post_init__(self) -> None:
        if not self.blocks:
            self.blocks = self.planned

    @property
    def confirmed(self) -> bool:
        return self.learned_at is not None

    def due(self, now: float, connects: int, came_back: bool) -> bool:
        """Whether the next poll should start again from the profile's plan."""
        return self.learned_at is not None and (
            came_back or connects != self.connects or now - self.learned_at >= REPROBE_AFTER)

    def restart(self) -> None:
        self.blocks, self.learned_at = self.planned, None

    def settle(self, answered: Sequence[Block], missing: Sequence[Point], now: float,
               connects: int) -> bool:
        """Keep `answered` as the plan and `missing` as what the device lacks, after a
        poll that went through the whole plan; True when the missing points changed."""
        before = {p.key for p in self.missing}
        if self.learned_at is not None:  # a confirmed plan lost more points
            missing = (*self.missing, *missing)
        self.blocks, self.missing = tuple(answered), tuple(missing)
        self.learned_at, self.connects = now, connects
        return {p.key for p in self.missing} != before


def describe_missing(points: Sequence[Point]) -> str:
    """`input register 0x0046 (f32, frequency_hz), …` for the log."""
    return ", ".join(p.label() for p in sorted(points, key=lambda p: (p.function, p.address)))
