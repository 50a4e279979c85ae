"""The gateway-side DL/T 645-2007 driver: polls every meter once per period over its link,
one exchange at a time per link, and reports readings and one observation per poll.

Each meter has its own task, and the link's lock is taken per exchange, so meters on a link
take turns request by request. A silent meter costs its neighbours at most one timeout per
attempt: its poll stops at the first unanswered read, and it is asked again only after 1, 2,
4 … periods (up to `silent_retry_max`) until it answers again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from drivers.base import DeviceSpec, Observation, Outcome, Sink
from drivers.dlt645.codec import (
    FrameError,
    decode_values,
    parse_address_reply,
    parse_read_reply,
    read_address_request,
    read_request,
)
from drivers.dlt645.link import Link, LinkDown, NoReply, Transport, make_transport
from drivers.dlt645.profile import Profile, ReadingRule
from drivers.dlt645.settings import Dlt645Settings, LinkSpec, MeterAddress
from drivers.link_budget import LinkBudget, budgets
from telemetry import Reading
from telemetry.backoff import Backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Meter:
    """One configured meter: its spec, its link and address, and its profile."""

    spec: DeviceSpec
    where: MeterAddress
    profile: Profile

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def period(self) -> float:
        return self.spec.period.total_seconds()


@dataclass(slots=True)
class _MeterState:
    meter: Meter
    backoff: Backoff
    bad: Outcome | None = None  # the outcome last logged, while the meter is not OK
    polls: int = 0
    last: Observation | None = field(default=None)


@dataclass(slots=True)
class PollResult:
    observation: Observation
    readings: list[Reading]
    silent: bool = False  # no answer at all: the meter's retry backs off
    cost: float = 0.0     # seconds the poll's exchanges held the link


class Dlt645Driver:
    name = "dlt645"

    def __init__(self, settings: Dlt645Settings, meters: Sequence[Meter], *,
                 transport: Callable[[LinkSpec], Transport] = make_transport) -> None:
        self.settings = settings
        self.meters = list(meters)
        self.links = {name: Link(spec, Backoff(settings.reconnect_min, settings.reconnect_max),
                                 transport)
                      for name, spec in settings.links.items()}
        self._states = {
            m.id: _MeterState(m, Backoff(m.period, max(m.period, settings.silent_retry_max)))
            for m in self.meters}
        #: per link: the link time a round of polls takes against the period
        self.budgets: dict[str, LinkBudget] = budgets(
            "dlt645", {n: link.spec.describe() for n, link in self.links.items()},
            ((m.id, m.where.link, m.period) for m in self.meters), log)

    def devices(self) -> list[DeviceSpec]:
        return [m.spec for m in self.meters]

    def polls(self, device: str) -> int:
        """Polls of `device` completed so far."""
        return self._states[device].polls

    def self_readings(self) -> dict[str, float]:
        """Readings about the driver itself, for the gateway's own device: per link, the
        last poll cycle time and how many cycles overran the period."""
        out: dict[str, float] = {}
        for budget in self.budgets.values():
            out.update(budget.readings())
        return out

    # ------------------------------------------------------------ running

    async def run(self, sink: Sink) -> None:
        """Poll every meter until cancelled."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        log.info("dlt645 driver: %d meters on %d links", len(self.meters), len(self.links))
        try:
            async with asyncio.TaskGroup() as tasks:
                for name in self.links:
                    on_link = [s for s in self._states.values() if s.meter.where.link == name]
                    for i, state in enumerate(on_link):
                        # Spread first polls over a period so that a link's meters do not
                        # all queue for it at once.
                        first = start + state.meter.period * i / len(on_link)
                        tasks.create_task(self._poll_forever(state, sink, first),
                                          name=f"dlt645 {state.meter.id}")
        finally:
            for link in self.links.values():
                await link.close()

    async def _poll_forever(self, state: _MeterState, sink: Sink, due: float) -> None:
        loop = asyncio.get_running_loop()
        meter = state.meter
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            started = loop.time()
            try:
                result = await self.poll(meter)
            except Exception:
                # Our bug, not the meter's: say so once, keep polling; the gateway counts
                # the missed periods against the meter meanwhile.
                if state.bad is not Outcome.FAILED:
                    log.exception("meter %s: the poll failed inside the driver; retrying "
                                  "every period", meter.id)
                state.bad = Outcome.FAILED
                due = started + meter.period
                continue
            for reading in result.readings:
                sink.emit(reading)
            self._observe(state, result.observation, sink)
            interval = state.backoff.next() if result.silent else meter.period
            due = started + interval
            if not result.silent:
                state.backoff.reset()
            self.budgets[meter.where.link].record(meter.id, result.cost, interval)

    def _observe(self, state: _MeterState, observation: Observation, sink: Sink) -> None:
        state.polls += 1
        state.last = observation
        sink.observe(observation)
        meter = state.meter
        if observation.outcome is Outcome.OK:
            if state.bad is not None:
                log.info("meter %s (%s) answers properly again", meter.id, meter.where)
                state.bad = None
        elif state.bad is not observation.outcome:
            log.warning("meter %s %s: %s (logged once until it changes)", meter.id,
                        observation.outcome.value, observation.reason)
            state.bad = observation.outcome

    # ------------------------------------------------------------ one poll

    async def poll(self, meter: Meter) -> PollResult:
        """Read every data identifier of `meter`'s profile once. Public for tests and bench."""
        link_time: list[float] = []
        result = await self._poll(meter, link_time)
        result.cost = sum(link_time)
        return result

    async def _poll(self, meter: Meter, link_time: list[float]) -> PollResult:
        """`poll`, noting in `link_time` how long each exchange held the link."""
        link = self.links[meter.where.link]
        who = f"meter {meter.where}"
        readings: list[Reading] = []
        problems: list[str] = []
        answered = False
        loop = asyncio.get_running_loop()
        for rule in meter.profile.readings:
            request = read_request(meter.where.address, rule.di, wake_up=self.settings.wake_up)
            accept = functools.partial(parse_read_reply, address=meter.where.address,
                                       di=rule.di)
            try:
                async with link.lock:
                    began = loop.time()
                    try:
                        payload = await link.exchange(request, accept)
                    finally:
                        spent = loop.time() - began
                        link_time.append(spent)
                values = decode_values(payload, rule.format)
            except LinkDown as exc:
                return PollResult(Observation(meter.id, Outcome.FAILED, f"{who}: link "
                                              f"{link.name} ({link.spec.describe()}) is down: "
                                              f"{exc}"), readings)
            except NoReply as exc:
                if not answered:
                    return PollResult(Observation(meter.id, Outcome.FAILED,
                                                  f"{who}: {exc} to the read of {rule.label}"),
                                      readings, silent=True)
                # It answered earlier reads: alive but patchy. Stop here all the same, so
                # that it costs the link one timeout at most.
                problems.append(f"{rule.label}: {exc}")
                break
            except FrameError as exc:
                answered = True
                problems.append(f"{rule.label}: {exc.reason}")
                if spent >= link.spec.timeout:
                    break  # a reply that trailed off: one timeout per poll is enough
                continue
            answered = True
            now = datetime.now(UTC)
            for metric, value in zip(rule.metrics, values, strict=True):
                number = float(value * rule.scale)
                trouble = _implausible(number, rule)
                if trouble:
                    problems.append(f"{rule.label}: {metric} = {value} {trouble}")
                else:
                    readings.append(Reading(meter.id, metric, now, number))
        if problems:
            return PollResult(Observation(meter.id, Outcome.DEGRADED,
                                          f"{who}: {'; '.join(problems)}"), readings)
        return PollResult(Observation(meter.id, Outcome.OK), readings)

    async def read_address(self, link: str) -> str:
        """The address of the only meter on `link`, asked with the wildcard address (with
        several meters on the bus they all answer at once and the replies collide)."""
        chosen = self.links[link]
        async with chosen.lock:
            return await chosen.exchange(read_address_request(wake_up=self.settings.wake_up),
                                         parse_address_reply)


def _implausible(number: float, rule: ReadingRule) -> str:
    if not math.isfinite(number):
        return "is not a finite number"
    if rule.min is not None and number < rule.min:
        return f"is implausible (scaled {number:g}, expected at least {rule.min:g})"
    if rule.max is not None and number > rule.max:
        return f"is implausible (scaled {number:g}, expected at most {rule.max:g})"
    return ""
