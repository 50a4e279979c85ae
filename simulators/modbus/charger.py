"""A simulated 10-port e-bike charging station implementing the station's register map
(holding registers): per-port state, power, session energy and end reason, station alarms,
per-port fault bits, a function self-test, a charge timer and a remote stop.

Sessions end the way real ones do: auto power-off when the battery is full, the timer
running out, the rider unplugging early, an over-power cut, or a fault. With `auto=True`
bikes arrive, charge and leave on their own (for demos); tests drive ports explicitly.
With `self_test_every` the station runs its function self-test on that (simulated)
period, as stations do on a maintenance schedule: each run changes the self-test register,
which is what lets a gateway see the functions work without waiting for a bike to fill up.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Final

from pymodbus.constants import ExcCodes

from simulators.modbus.device import Image, SimDevice, i16, put, u32

IDLE, CHARGING, FINISHED, FAULT = 0, 1, 2, 3
END_REASONS: Final = {"full": 1, "timer": 2, "over_power": 3, "unplugged": 4, "fault": 5,
                      "remote": 6}
ALARM_BITS: Final = {"over_temperature": 0, "smoke": 1, "door_open": 2}
PORT_BASE: Final = 0x0100
PORT_STRIDE: Final = 0x10
MAX_TIMER_MIN: Final = 1440


@dataclass
class Port:
    number: int
    state: int = IDLE
    power_w: float = 0.0
    energy_kwh: float = 0.0       # the current session's, or the last one's
    end_reason: int = 0
    fault: bool = False
    timer_min: int = 0            # the setting: applies to sessions that start
    # the running session
    need_kwh: float = 0.0
    rate_w: float = 0.0
    elapsed_s: float = 0.0
    timer_s: float | None = None
    leave_after_s: float | None = None
    over_power_after_s: float | None = None
    # auto mode
    wait_s: float | None = None   # until the next bike arrives (idle) or leaves (finished)


class ChargingStation(SimDevice):
    model = "ebike_charger_10p"

    def __init__(self, *, ports: int = 10, auto: bool = False,
                 self_test_every: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self_test_every is not None and not self_test_every > 0:
            raise ValueError(f"self_test_every must be a positive number of seconds, got "
                             f"{self_test_every!r}")
        self.rng = random.Random(f"{self.model}:{self.seed}")
        self.ports = [Port(n) for n in range(1, ports + 1)]
        self.auto = auto
        self.alarms = dict.fromkeys(ALARM_BITS, False)
        self.temperature_c = 24.5
        self.self_test_runs = 0
        self.self_test_flags = (False, False, False)
        self.self_test_every = self_test_every
        self._since_self_test = 0.0
        #: (port, reason name, energy kWh) of every session that ended, in order
        self.ended: list[tuple[int, str, float]] = []
        if auto:
            for port in self.ports:
                port.wait_s = self.rng.expovariate(1 / 900)

    def port(self, number: int) -> Port:
        if not 1 <= number <= len(self.ports):
            raise ValueError(f"port {number} does not exist; ports are 1..{len(self.ports)}")
        return self.ports[number - 1]

    # ------------------------------------------------------------ run-time control

    def start_session(self, number: int, *, need_kwh: float = 0.5, power_w: float = 200.0,
                      timer_min: int | None = None) -> None:
        """A bike is plugged in and needs `need_kwh`; it charges at `power_w` until full,
        or until the timer (`timer_min`, else the port's timer setting) runs out."""
        self.advance()
        self._plug(self.port(number), need_kwh, power_w, timer_min)

    def _plug(self, port: Port, need_kwh: float, power_w: float,
              timer_min: int | None) -> None:
        """Start a session on `port` now. It does not advance the clock: the time loop
        (`step`) plugs bikes in too, and advancing from inside it would re-enter it."""
        number = port.number
        if port.state == CHARGING:
            raise ValueError(f"port {number} is already charging")
        if port.fault:
            raise ValueError(f"port {number} is in fault; clear it first")
        minutes = port.timer_min if timer_min is None else timer_min
        port.state, port.end_reason, port.energy_kwh = CHARGING, 0, 0.0
        port.need_kwh, port.rate_w, port.power_w = need_kwh, power_w, power_w
        port.elapsed_s, port.timer_s = 0.0, minutes * 60.0 if minutes else None
        port.leave_after_s = port.over_power_after_s = port.wait_s = None

    def end_session(self, number: int, reason: str, *, energy_kwh: float | None = None) -> None:
        """End port `number`'s session now with `reason` (full, timer, over_power,
        unplugged, fault, remote); `energy_kwh` overrides what was delivered."""
        self.advance()
        port = self.port(number)
        if port.state != CHARGING:
            raise ValueError(f"port {number} is not charging")
        if energy_kwh is not None:
            port.energy_kwh = energy_kwh
        self._end(port, reason)

    def unplug(self, number: int) -> None:
        """The rider takes the bike: an unfinished session ends `unplugged`."""
        self.advance()
        port = self.port(number)
        if port.state == CHARGING:
            self._end(port, "unplugged")
        elif port.state == FINISHED:
            port.state = IDLE

    def set_port_fault(self, number: int, on: bool = True) -> None:
        self.advance()
        port = self.port(number)
        if on and port.state == CHARGING:
            self._end(port, "fault")
        port.fault = on
        port.state = FAULT if on else (IDLE if port.state == FAULT else port.state)

    def set_alarm(self, name: str, on: bool = True) -> None:
        if name not in ALARM_BITS:
            raise ValueError(f"unknown alarm {name!r}; known: {', '.join(ALARM_BITS)}")
        self.alarms[name] = on
        if name == "over_temperature":
            self.temperature_c = 78.5 if on else 24.5

    def run_self_test(self, *, auto_power_off: bool = True, timed_charging: bool = True,
                      fault_alarm: bool = True) -> None:
        self.self_test_runs = (self.self_test_runs % 255) + 1
        self.self_test_flags = (auto_power_off, timed_charging, fault_alarm)

    # ------------------------------------------------------------ time

    def step(self, seconds: float) -> None:
        if self.self_test_every is not None:
            self._since_self_test += seconds
            if self._since_self_test >= self.self_test_every:
                self._since_self_test %= self.self_test_every
                self.run_self_test()
        for port in self.ports:
            if port.state == CHARGING:
                self._charge(port, seconds)
            elif self.auto:
                self._come_and_go(port, seconds)

    def _charge(self, port: Port, seconds: float) -> None:
        rate_kwh_s = port.rate_w / 3.6e6
        ends = {"full": (port.need_kwh - port.energy_kwh) / rate_kwh_s if rate_kwh_s else math.inf}
        for reason, at in (("timer", port.timer_s), ("unplugged", port.leave_after_s),
                           ("over_power", port.over_power_after_s)):
            if at is not None:
                ends[reason] = at - port.elapsed_s
        reason, after = min(ends.items(), key=lambda kv: kv[1])
        if after > seconds:
            port.elapsed_s += seconds
            port.energy_kwh += rate_kwh_s * seconds
            return
        after = max(0.0, after)
        port.elapsed_s += after
        port.energy_kwh = port.need_kwh if reason == "full" else \
            port.energy_kwh + rate_kwh_s * after
        self._end(port, reason)
        if self.auto:
            self._come_and_go(port, seconds - after)

    def _end(self, port: Port, reason: str) -> None:
        port.end_reason = END_REASONS[reason]
        port.power_w = 0.0
        port.state = {"unplugged": IDLE, "fault": FAULT}.get(reason, FINISHED)
        if reason == "fault":
            port.fault = True
        self.ended.append((port.number, reason, round(port.energy_kwh, 3)))
        port.wait_s = self.rng.uniform(300, 3600) if self.auto else None

    def _come_and_go(self, port: Port, seconds: float) -> None:
        if port.state not in (IDLE, FINISHED) or port.wait_s is None:
            return
        port.wait_s -= seconds
        if port.wait_s > 0:
            return
        if port.state == FINISHED:
            port.state, port.wait_s = IDLE, self.rng.expovariate(1 / 1800)
            return
        rng = self.rng
        need, watts = rng.uniform(0.15, 0.9), rng.uniform(120, 260)
        timer = rng.choice((30, 60, 90, 120)) if rng.random() < 0.35 else 0
        self._plug(port, need, watts, timer)
        full_after = need / (watts / 3.6e6)
        if rng.random() < 0.15:
            port.leave_after_s = full_after * rng.uniform(0.1, 0.9)
        elif rng.random() < 0.04:
            port.over_power_after_s = full_after * rng.uniform(0.1, 0.9)

    # ------------------------------------------------------------ registers

    def image(self, table: str) -> Image:
        if table != "hr":
            return {}
        image: Image = {
            0x0000: sum(1 << bit for name, bit in ALARM_BITS.items() if self.alarms[name]),
            0x0001: i16(round(self.temperature_c * 10)),
            0x0002: (self.self_test_runs << 8) | sum(
                1 << i for i, ok in enumerate(self.self_test_flags) if ok)
            if self.self_test_runs else 0,
        }
        for port in self.ports:
            base = PORT_BASE + PORT_STRIDE * (port.number - 1)
            image[base] = port.state
            image[base + 1] = min(0xFFFF, round(port.power_w * 10))
            put(image, base + 2, u32(round(port.energy_kwh * 1000)))
            image[base + 4] = port.end_reason
            image[base + 5] = 1 if port.fault else 0
            image[base + 6] = port.timer_min
            image[base + 7] = 0
        return image

    def reads_as_zero(self, table: str, address: int) -> bool:
        return table == "hr" and (address < 0x0010 or PORT_BASE <= address
                                  < PORT_BASE + PORT_STRIDE * len(self.ports))

    def store(self, table: str, address: int, values: list[int]) -> ExcCodes | None:
        if table != "hr" or not PORT_BASE <= address < PORT_BASE + PORT_STRIDE * len(
                self.ports):
            return ExcCodes.ILLEGAL_ADDRESS
        for i, value in enumerate(values):
            number, offset = divmod(address + i - PORT_BASE, PORT_STRIDE)
            port = self.ports[number]
            if offset == 6:
                if not 0 <= value <= MAX_TIMER_MIN:
                    return ExcCodes.ILLEGAL_VALUE
                port.timer_min = value
                if port.state == CHARGING:  # a timer set while charging counts from now
                    port.timer_s = port.elapsed_s + value * 60.0 if value else None
            elif offset == 7:
                if value not in (0, 1):
                    return ExcCodes.ILLEGAL_VALUE
                if value == 1 and port.state == CHARGING:
                    self._end(port, "remote")
            else:
                return ExcCodes.ILLEGAL_ADDRESS
        return None
