"""One poll of one device: its planned read requests on its link, the registers decoded into
readings, condition events on edges, momentary events on enum changes, and one observation
that says what went wrong in words a person can act on (device, register, expected,
received).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from drivers.base import Observation, Outcome
from drivers.modbus.codec import decode, engineering
from drivers.modbus.link import Answer, Link
from drivers.modbus.model import BitRef, EventSpec, Point, PointRef
from drivers.modbus.plan import Block
from drivers.modbus.settings import ModbusDevice
from telemetry import Event, Item, Reading

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
        self.blocks = blocks
        #: the device missed its last poll: its requests wait behind healthy devices'
        self.suspect = False
        self._conditions: dict[tuple[str, int | None, str], bool] = {}
        self._enums: dict[str, int] = {}

    def where(self) -> str:
        return f"device {self.device.id} (unit {self.device.unit} on link {self.link.name})"

    async def poll(self) -> PollResult:
        values: dict[str, _Value] = {}
        problems: list[str] = []
        for block in self.blocks:
            answer = await self.link.request(self.device.unit, block.function, block.address,
                                             block.count, urgent=not self.suspect)
            if answer.kind == "ok":
                self._decode(block, answer, values, problems)
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
            elif answer.kind == "exception":
                problems.append(f"read of {block.label()} answered with "
                                f"{answer.exception_text()}{_hint(answer.exception)}")
            else:
                problems.append(f"read of {block.label()}: expected a Modbus answer, "
                                f"{answer.detail}")
        items = self._items(values, datetime.now(UTC))
        if problems:
            profile = self.device.profile.name
            return PollResult(Outcome.DEGRADED,
                              f"{self.where()}, profile {profile}: " + "; ".join(problems),
                              items)
        return PollResult(Outcome.OK, "", items)

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
