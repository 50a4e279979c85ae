"""The shared RS-485 bus of many simulated meters: a request is answered only by the meter
it is addressed to, one at a time; the wildcard address read is answered by the meter when
it is alone on the bus (several meters answer together and their replies collide).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from simulators.dlt645.faults import Fault, FaultEntry
from simulators.dlt645.meter import MeterSpec, SimMeter
from simulators.dlt645.wire import BROADCAST, WILDCARD, Request

log = logging.getLogger(__name__)


def make_meters(count: int, *, first: str = "000000000001", phases: int = 1,
                seed: int = 0) -> list[MeterSpec]:
    """`count` meters with consecutive addresses from `first`. Every second meter sends no
    FE wake-up bytes in its replies, as some brands do, so a reader must cope with both."""
    if count < 0:
        raise ValueError(f"meter count must be >= 0, got {count}")
    if len(first) != 12 or not first.isdigit():
        raise ValueError(f"first address {first!r} must be 12 digits, e.g. 000000000001")
    start = int(first)
    if start + count > 10**12 - 1:
        raise ValueError(f"{count} meters from {first} run past 999999999998")
    return [MeterSpec(f"{start + i:012d}", phases=phases, preamble=i % 2 == 0, seed=seed,
                      energy_kwh=1000.0 + 37.5 * i, mean_kw=0.4 + 0.1 * (i % 7))
            for i in range(count)]


class MeterBus:
    """Meters sharing one bus; `handle` is what a port calls for each request it hears."""

    def __init__(self, specs: Sequence[MeterSpec], *, schedule: Sequence[FaultEntry] = (),
                 speed: float = 1.0, clock: Callable[[], float] | None = None) -> None:
        extra: dict[str, Any] = {} if clock is None else {"clock": clock}
        self.meters: dict[str, SimMeter] = {}
        for spec in specs:
            if spec.address in self.meters:
                raise ValueError(f"meter address {spec.address} appears twice on the bus")
            self.meters[spec.address] = SimMeter(spec, speed=speed, **extra)
        for entry in schedule:
            if entry.meter not in self.meters:
                raise ValueError(f"fault for meter {entry.meter}: no such meter on the bus "
                                 f"(addresses {self._range()})")
        self.schedule = list(schedule)
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        #: requests heard, replies sent
        self.heard = 0
        self.replies = 0

    def _range(self) -> str:
        addresses = sorted(self.meters)
        return f"{addresses[0]} … {addresses[-1]}" if addresses else "none"

    def meter(self, address: str) -> SimMeter:
        try:
            return self.meters[address]
        except KeyError:
            raise ValueError(f"no meter {address} on the bus (addresses {self._range()})") \
                from None

    def set_fault(self, address: str, fault: Fault | str, value: Any = True) -> None:
        """Set a fault of one meter at run time (value None or False clears it)."""
        self.meter(address).set_fault(fault, value)

    def clear_faults(self, address: str) -> None:
        self.meter(address).faults.clear()

    async def start(self) -> None:
        """Run the fault schedule (faults at 0 s are set before this returns)."""
        for entry in self.schedule:
            if entry.at == 0:
                self.set_fault(entry.meter, entry.fault, entry.value)
            self._tasks.append(asyncio.create_task(self._scheduled(entry)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _scheduled(self, entry: FaultEntry) -> None:
        if entry.at:
            await asyncio.sleep(entry.at)
            self.set_fault(entry.meter, entry.fault, entry.value)
        log.info("meter %s: fault %s = %s", entry.meter, entry.fault.value, entry.value)
        if entry.duration is not None:
            await asyncio.sleep(entry.duration)
            self.set_fault(entry.meter, entry.fault, None)
            log.info("meter %s: fault %s cleared", entry.meter, entry.fault.value)

    async def handle(self, request: Request) -> bytes | None:
        """The bytes that come back on the bus after `request` (None: silence)."""
        async with self._lock:  # half duplex: one conversation on the wire at a time
            self.heard += 1
            if request.address == BROADCAST:
                return None  # broadcast time sync: everyone listens, nobody answers
            if request.address == WILDCARD:
                reply = await self._everyone(request)
            else:
                meter = self.meters.get(request.address)
                if meter is None:
                    return None
                reply, delay = meter.answer(request)
                if reply is not None and delay:
                    await asyncio.sleep(delay)
            if reply is not None:
                self.replies += 1
            return reply

    async def _everyone(self, request: Request) -> bytes | None:
        replies = []
        delay = 0.0
        for meter in self.meters.values():
            reply, wait = meter.answer(request)
            if reply is not None:
                replies.append(reply)
                delay = max(delay, wait)
        if not replies:
            return None
        if delay:
            await asyncio.sleep(delay)
        if len(replies) == 1:
            return replies[0]
        # Several transmitters on one pair: a driven 0 wins, so the line shows the AND.
        merged = bytearray(max(map(len, replies)))
        for i in range(len(merged)):
            merged[i] = 0xFF
            for reply in replies:
                merged[i] &= reply[i] if i < len(reply) else 0xFF
        return bytes(merged)
