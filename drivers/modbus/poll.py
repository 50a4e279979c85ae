"""One poll of one device: its planned read requests on its link, the registers decoded into
readings, condition events on edges, momentary events on enum changes, and one observation
that says what went wrong in words a person can act on (device, register, expected,
received). A request refused with exception 02 is split until the device answers
(`working_plan`), and the points it does not have are logged once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from drivers.base import Observation, Outcome
from drivers.modbus.codec import decode, engineering
from drivers.modbus.link import EXCEPTIONS, Answer, Link
from drivers.modbus.model import BitRef, EventSpec, Point, PointRef
from drivers.modbus.plan import Block
from drivers.modbus.settings import ModbusDevice
from drivers.modbus.working_plan import (
    ILLEGAL_DATA_ADDRESS,
    REPROBE_AFTER,
    WorkingPlan,
    describe_missing,
    halves,
    joined,
)
from telemetry import Event, Item, Reading

log = logging.getLogger(__name__)

#: Exception codes by which a gateway says the device behind it did not answer: the
#: device is silent (FAILED), not answering wrongly.
_GATEWAY_NO_ANSWER = (10, 11)


@dataclass(slots=True)
class PollResult:
    outcome: Outcome
    reason: str = ""
    items: list[Item] = field(default_factory=list)
    #: the device did not answer (a timeout), as opposed to the link being down
    silent: bool = False
    #: already logged where it happened (the link's outage, once for all its devices)
    logged_elsewhere: bool = False

    def observation(self, device: str) -> Observation:
        return Observation(device, self.outcome, self.reason)


@dataclass(slots=True)
class _Value:
    raw: int | float | bool
    value: float


class DevicePoller:
    """Polls one device; remembers what edge and change detection need between polls."""

    def __init__(self, device: ModbusDevice, link: Link, blocks: list[Block]) -> None:
        self.device = device
        self.link = link
        #: the requests the device answers (the profile's until a poll learns otherwise)
        self.plan = WorkingPlan(tuple(blocks))
        #: the device missed its last poll: its requests wait behind healthy devices'
        self.suspect = False
        #: link time (s) the last poll's requests took, for the link's cycle budget
        self.last_cost = 0.0
        self._conditions: dict[tuple[str, int | None, str], bool] = {}
        self._enums: dict[str, int] = {}

    def where(self) -> str:
        return f"device {self.device.id} (unit {self.device.unit} on link {self.link.name})"

    @property
    def blocks(self) -> tuple[Block, ...]:
        return self.plan.blocks

    @property
    def missing(self) -> tuple[Point, ...]:
        """Points this device answered exception 02 for, read no more until a re-probe."""
        return self.plan.missing

    async def poll(self) -> PollResult:
        loop = asyncio.get_running_loop()
        if self.plan.due(loop.time(), self.link.connects, came_back=self.suspect):
            self.plan.restart()
        values: dict[str, _Value] = {}
        problems: list[str] = []
        answered: list[Block] = []
        missing: list[Point] = []
        split = False
        pending = list(self.plan.blocks)
        self.last_cost = 0.0
        while pending:
            block = pending.pop(0)
            answer = await self.link.request(self.device.unit, block.function, block.address,
                                             block.count, urgent=not self.suspect)
            self.last_cost += answer.took
            if answer.kind == "ok":
                self._decode(block, answer, values, problems)
                answered.append(block)
            elif answer.kind == "down":
                return PollResult(Outcome.FAILED, f"{self.where()}: {answer.detail}",
                                  logged_elsewhere=True)
            elif answer.kind == "timeout":
                return PollResult(Outcome.FAILED,
                                  f"{self.where()}: {answer.detail} to the read of "
                                  f"{block.label()}; check its power, wiring, unit id and "
                                  "the link's baud rate and parity", silent=True)
            elif answer.kind == "exception" and answer.exception in _GATEWAY_NO_ANSWER:
                return PollResult(Outcome.FAILED,
                                  f"{self.where()}: the gateway answered the read of "
                                  f"{block.label()} with {answer.exception_text()}: the "
                                  "device behind it is silent", silent=True)
            elif answer.kind == "exception" and answer.exception == ILLEGAL_DATA_ADDRESS:
                split = True
                if len(block.points) == 1:
                    missing.append(block.points[0])
                else:
                    pending[:0] = halves(block)
            elif answer.kind == "exception":
                problems.append(f"read of {block.label()} answered with "
                                f"{answer.exception_text()}{_hint(answer.exception)}")
                answered.append(block)
            else:
                problems.append(f"read of {block.label()}: expected a Modbus answer, "
                                f"{answer.detail}")
                answered.append(block)
        if split or not self.plan.confirmed:
            self._settle(answered, missing, loop.time())
        items = self._items(values, datetime.now(UTC))
        profile = self.device.profile.name
        if self.plan.missing and not values:
            problems.append(f"the device has none of the profile's points (every read "
                            f"answered {answer_text(ILLEGAL_DATA_ADDRESS)}): check the "
                            "profile, its function codes and the unit id against the "
                            "device's manual")
        if problems:
            return PollResult(Outcome.DEGRADED,
                              f"{self.where()}, profile {profile}: " + "; ".join(problems),
                              items)
        return PollResult(Outcome.OK, "", items)

    def _settle(self, answered: list[Block], missing: list[Point], now: float) -> None:
        profile = self.device.profile
        blocks = joined(answered, profile.max_registers, profile.max_bits)
        if not self.plan.settle(blocks, missing, now, self.link.connects):
            return
        if self.plan.missing:
            log.warning("%s, profile %s: the device does not have %s (it answers %s); "
                        "reading its other points without them, in %d requests (tried again "
                        "after a reconnect, after it was silent, or in %g h; logged once "
                        "until this changes)", self.where(), profile.name,
                        describe_missing(self.plan.missing),
                        answer_text(ILLEGAL_DATA_ADDRESS), len(self.plan.blocks),
                        REPROBE_AFTER / 3600)
        else:
            log.info("%s, profile %s: the device now answers every point of its profile",
                     self.where(), profile.name)

    # ------------------------------------------------------------ decoding

    def _decode(self, block: Block, answer: Answer, values: dict[str, _Value],
                problems: list[str]) -> None:
        for point in block.points:
            offset = point.address - block.address
            raw: int | float | bool
            if point.is_bit:
                raw = answer.bits[offset]
            else:
                words = answer.registers[offset:offset + point.width]
                raw = decode(point.type, words, point.word_order)
                if isinstance(raw, float) and not math.isfinite(raw):
                    problems.append(f"{point.label()}: expected a finite number, received "
                                    f"{' '.join(f'{w:04X}' for w in words)} ({raw})")
                    continue
            value = engineering(point.type, raw, point.scale)
            if (point.low is not None and value < point.low) or (
                    point.high is not None and value > point.high):
                problems.append(f"{point.label()}: expected {_range(point)}"
                                f"{' ' + point.unit if point.unit else ''}, received {value:g}")
                continue
            values[point.key] = _Value(raw, value)

    # ------------------------------------------------------------ items

    def _items(self, values: dict[str, _Value], time: datetime) -> list[Item]:
        device = self.device.id
        profile = self.device.profile
        items: list[Item] = []
        metrics: dict[str, float] = {}
        for point in profile.points:
            got = values.get(point.key)
            if got is None:
                continue
            if point.metric:
                metrics[point.metric] = got.value
                items.append(Reading(device, point.metric, time, got.value))
            for cond in point.conditions:
                active = cond.active(got.raw)
                key = (point.key, cond.bit, cond.event.type)
                before = self._conditions.get(key)
                self._conditions[key] = active
                if before == active or (before is None and not active):
                    continue
                items.append(self._event(cond.event, time, active, got, values))
            if point.on_change is not None:
                raw = int(got.raw)
                before_value = self._enums.get(point.key)
                self._enums[point.key] = raw
                if before_value is not None and before_value != raw:
                    spec = point.on_change.event_for(raw)
                    if spec is not None:
                        items.append(self._event(spec, time, None, got, values))
        for derived in profile.derived:
            inputs = [metrics[m] for m in derived.inputs if m in metrics]
            if len(inputs) == len(derived.inputs):
                items.append(Reading(device, derived.metric, time, derived.compute(inputs)))
        return items

    def _event(self, spec: EventSpec, time: datetime, active: bool | None, own: _Value,
               values: dict[str, _Value]) -> Event:
        data: dict[str, Any] = {}
        for key, value in spec.data:
            if isinstance(value, PointRef):
                other = _find(self.device.profile.points, value.point, values)
                if other is not None:
                    data[key] = other.value
            elif isinstance(value, BitRef):
                data[key] = bool((int(own.raw) >> value.bit) & 1)
            else:
                data[key] = value
        return Event(self.device.id, spec.type, spec.severity, time, active, data)


def _find(points: tuple[Point, ...], name: str, values: dict[str, _Value]) -> _Value | None:
    for p in points:
        if p.name == name:
            return values.get(p.key)
    return None


def _range(point: Point) -> str:
    if point.low is not None and point.high is not None:
        return f"a value in {point.low:g} .. {point.high:g}"
    if point.low is not None:
        return f"a value of at least {point.low:g}"
    return f"a value of at most {point.high:g}"


def _hint(code: int) -> str:
    if code == 2:
        return " (the device has no such register: check the profile against its manual)"
    if code == 1:
        return " (the device does not support this function code for these points)"
    if code == 3:
        return (" (the device refuses this request size or range: lower max_registers or "
                "max_gap in the profile)")
    if code in (4, 6):
        return " (the device reports an internal fault or is busy)"
    return ""


def answer_text(code: int) -> str:
    return f"exception {code:02d} {EXCEPTIONS[code]}"
