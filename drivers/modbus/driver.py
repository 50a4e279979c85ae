"""The gateway-side Modbus driver: keeps every link connected, polls each device at its
period on its link (a silent device is retried after 1, 2, 4 ... periods, and its requests
wait behind healthy devices', so it never holds up its neighbours by more than one
timeout), reports readings, events and one observation per poll, and writes commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from drivers.base import DeviceSpec, Outcome, Sink
from drivers.link_budget import LinkBudget, budgets
from drivers.modbus.codec import BIT_TYPE, encode, engineering, limits
from drivers.modbus.link import Link, check_cancelled
from drivers.modbus.plan import plan_profile
from drivers.modbus.poll import DevicePoller, PollResult
from drivers.modbus.settings import ModbusDevice, ModbusSettings
from telemetry.backoff import Backoff

log = logging.getLogger(__name__)


class CommandError(RuntimeError):
    """A write did not reach the device or was refused; the message says why."""


class ModbusDriver:
    name = "modbus"

    def __init__(self, settings: ModbusSettings, devices: Sequence[ModbusDevice]) -> None:
        self.settings = settings
        self.links = {name: Link(spec, reconnect_min=settings.reconnect_min,
                                 reconnect_max=settings.reconnect_max)
                      for name, spec in settings.links.items()
                      if any(d.link == name for d in devices)}
        plans = {d.profile.name: plan_profile(d.profile) for d in devices}
        self.pollers = {d.id: DevicePoller(d, self.links[d.link], plans[d.profile.name])
                        for d in devices}
        #: per link: the link time a round of polls takes against the period
        self.budgets: dict[str, LinkBudget] = budgets(
            "modbus", {n: link.spec.describe() for n, link in self.links.items()},
            ((d.id, d.link, d.period) for d in devices), log)
        #: polls completed (any outcome), per device id
        self.polls: dict[str, int] = dict.fromkeys(self.pollers, 0)
        self._bad: dict[str, str] = {}
        self._crashed: set[str] = set()
        self._running = False

    def devices(self) -> list[DeviceSpec]:
        return [p.device.spec for p in self.pollers.values()]

    def missing_points(self, device_id: str) -> list[str]:
        """The points of `device_id`'s profile the device answered exception 02 for, as
        `input register 0x0046 (f32, frequency_hz)`; left out of its polls."""
        return [p.label() for p in self.pollers[device_id].missing]

    def self_readings(self) -> dict[str, float]:
        """Readings about the driver itself, for the gateway's own device: per link, the
        last poll cycle time and how many cycles overran the period."""
        out: dict[str, float] = {}
        for budget in self.budgets.values():
            out.update(budget.readings())
        return out

    # ------------------------------------------------------------ polling

    async def run(self, sink: Sink) -> None:
        """Connect the links and poll every device until cancelled."""
        by_link: dict[str, list[DevicePoller]] = {}
        for poller in self.pollers.values():
            by_link.setdefault(poller.device.link, []).append(poller)
        log.info("modbus driver: %d devices on %d links (%s)", len(self.pollers),
                 len(self.links), ", ".join(f"{n}: {len(p)}" for n, p in by_link.items()))
        self._running = True
        try:
            async with asyncio.TaskGroup() as tasks:
                for link in self.links.values():
                    tasks.create_task(link.run(), name=f"modbus link {link.name}")
                for members in by_link.values():
                    for i, poller in enumerate(members):
                        # Spread the first polls of a link's devices over their period.
                        offset = poller.device.period * i / len(members)
                        tasks.create_task(self._poll_forever(poller, sink, offset),
                                          name=f"modbus poll {poller.device.id}")
        finally:
            self._running = False

    async def _poll_forever(self, poller: DevicePoller, sink: Sink, offset: float) -> None:
        loop = asyncio.get_running_loop()
        period = poller.device.period
        retry = Backoff(period, max(period, self.settings.retry_max))
        link = poller.link
        with contextlib.suppress(TimeoutError):  # else the first poll says why it is down
            await asyncio.wait_for(link.up.wait(), timeout=max(period, link.spec.timeout))
        due = loop.time() + offset
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            started = loop.time()
            result = await self._poll_safely(poller)
            check_cancelled()
            self.polls[poller.device.id] += 1
            for item in result.items:
                sink.emit(item)
            sink.observe(result.observation(poller.device.id))
            self._log_health(poller, result)
            interval = period
            if result.silent:
                # Back a silent device off on its own: 1, 2, 4 ... periods.
                poller.suspect = True
                interval = retry.next()
                due = started + interval
            else:
                poller.suspect = False
                retry.reset()
                due += period
                if due < loop.time():
                    due = loop.time()  # overran a whole period: skip, do not catch up
            self.budgets[poller.device.link].record(poller.device.id, poller.last_cost,
                                                    interval)

    async def _poll_safely(self, poller: DevicePoller) -> PollResult:
        device = poller.device.id
        try:
            result = await poller.poll()
        except Exception:
            # Our bug, not the device's: say so once, keep polling; it counts as a failure.
            if device not in self._crashed:
                log.exception("%s: the poll failed inside the driver; retrying every period",
                              poller.where())
                self._crashed.add(device)
            return PollResult(Outcome.FAILED, f"{poller.where()}: internal driver error "
                                              "(see the gateway log)", logged_elsewhere=True)
        self._crashed.discard(device)
        return result

    def _log_health(self, poller: DevicePoller, result: PollResult) -> None:
        device = poller.device.id
        if result.outcome is Outcome.OK:
            if device in self._bad:
                del self._bad[device]
                log.info("%s answers correctly again", poller.where())
            return
        if result.logged_elsewhere:
            return  # a link outage or a driver error, logged once where it happened
        kind = f"{result.outcome}:{'silent' if result.silent else result.reason[:60]}"
        if self._bad.get(device) != kind:
            log.warning("%s (logged once until it changes)", result.reason)
            self._bad[device] = kind

    # ------------------------------------------------------------ commands

    async def write(self, device_id: str, name: str, value: float | bool) -> None:
        """Write `value` (in the point's unit, as readings are) to the writable point `name`
        of device `device_id`; CommandError says what went wrong."""
        poller = self.pollers.get(device_id)
        if poller is None:
            raise CommandError(f"device {device_id!r} is not served by the modbus driver")
        profile = poller.device.profile
        point = profile.point(name)
        if point is None or not point.writable:
            raise CommandError(f"{poller.where()}: profile {profile.name} has no writable "
                               f"point {name!r}; writable: "
                               f"{', '.join(profile.writable()) or '(none)'}")
        if not isinstance(value, int | float):  # bool is an int
            raise CommandError(f"{name}: value {value!r} is not a number or boolean")
        if (point.low is not None and float(value) < point.low) or (
                point.high is not None and float(value) > point.high):
            bounds = " .. ".join("no limit" if b is None else f"{b:g}"
                                 for b in (point.low, point.high))
            raise CommandError(f"{poller.where()}: {name}={value!r} is outside its range "
                               f"{bounds}")
        words: list[int] | list[bool]
        if point.type == BIT_TYPE:
            if float(value) not in (0.0, 1.0):
                raise CommandError(f"{name} is a coil: write true/false or 1/0, not {value!r}")
            function, words = 5, [bool(value)]
        else:
            raw = float(value) / point.scale
            if point.type != "f32":
                if abs(raw - round(raw)) > 1e-6:
                    raise CommandError(f"{name}: {value!r} is not a multiple of its "
                                       f"resolution {point.scale:g} {point.unit}".rstrip())
                raw = round(raw)
            low, high = limits(point.type)
            if not low <= raw <= high:
                raise CommandError(f"{name}: {value!r} does not fit the register "
                                   f"({point.type}: {engineering(point.type, low, point.scale):g}"
                                   f" .. {engineering(point.type, high, point.scale):g})")
            words = encode(point.type, raw, point.word_order)
            function = 6 if len(words) == 1 else 16
        if not self._running:
            raise CommandError("the modbus driver is not running; start it before writing")
        answer = await poller.link.request(poller.device.unit, function, point.address,
                                           len(words), words, urgent=True)
        what = f"{poller.where()}: write of {name}={value!r} to {point.label()}"
        if answer.kind == "ok":
            log.info("%s done", what)
            return
        if answer.kind == "exception":
            raise CommandError(f"{what} was refused with {answer.exception_text()}")
        raise CommandError(f"{what} failed: {answer.detail}")
