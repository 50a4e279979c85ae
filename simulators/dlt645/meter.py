"""One simulated DL/T 645-2007 meter: a household load that wanders, energy that rises with
it, voltage, current and power per phase, and the replies (good, abnormal or garbled) the
meter gives to the requests addressed to it.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulators.dlt645.faults import Fault, Garbage, fault_value
from simulators.dlt645.wire import PREAMBLE, Layout, Request, bcd, frame, reseal

_ENERGY = Layout(4, 2)
_VOLT = Layout(2, 1)
_AMP = Layout(3, 3, signed=True)
_KW = Layout(3, 4, signed=True)

NO_DATA = 0x02      # error bit 1: no requested data
OTHER_ERROR = 0x01  # error bit 0


@dataclass
class MeterSpec:
    """A meter's identity and the household behind it."""

    address: str                 # 12 digits, as printed on the meter
    phases: int = 1              # 1 or 3
    energy_kwh: float = 1000.0   # reading at start
    mean_kw: float = 0.6         # the load wanders around this ...
    peak_kw: float = 4.0         # ... between 0.05 kW and this
    voltage: float = 220.0       # nominal phase voltage
    preamble: bool = True        # lead replies with FE FE FE FE (some brands do not)
    seed: int = 0
    faults: dict[Fault, Any] | None = None

    def __post_init__(self) -> None:
        if len(self.address) != 12 or not self.address.isdigit() \
                or self.address == "999999999999":
            raise ValueError(f"meter address {self.address!r} must be 12 digits (not all 9s), "
                             "e.g. 000000000001")
        if self.phases not in (1, 3):
            raise ValueError(f"meter {self.address}: phases must be 1 or 3, got {self.phases}")
        if not 0 < self.mean_kw <= self.peak_kw or self.energy_kwh < 0:
            raise ValueError(f"meter {self.address}: need 0 < mean_kw <= peak_kw and "
                             "energy_kwh >= 0")


class SimMeter:
    """A meter's live state. `clock` is monotonic seconds; `speed` runs the household
    faster than real time (60: a minute of load per second)."""

    def __init__(self, spec: MeterSpec, *, speed: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec
        self.address = spec.address
        self.speed = speed
        self._clock = clock
        self._rng = random.Random(f"{spec.seed}/{spec.address}")
        self._then = clock()
        self.energy_kwh = Decimal(str(spec.energy_kwh))
        self.power_kw = spec.mean_kw
        self.voltages = [spec.voltage] * spec.phases
        self.faults: dict[Fault, Any] = {}
        for fault, value in (spec.faults or {}).items():
            self.set_fault(fault, value)
        #: requests addressed to this meter, and the values last sent per data identifier
        self.requests = 0
        self.answered: dict[int, tuple[Decimal, ...]] = {}

    def set_fault(self, fault: Fault | str, value: Any = True) -> None:
        """Set (or with None / False clear) a fault; ValueError for a bad value."""
        normal = fault_value(fault, value, where=f"meter {self.address}")
        if normal is None:
            self.faults.pop(Fault(fault), None)
        else:
            self.faults[Fault(fault)] = normal

    # ------------------------------------------------------------ the household

    def _advance(self) -> None:
        now = self._clock()
        dt = max(0.0, now - self._then) * self.speed
        self._then = now
        self.energy_kwh += Decimal(repr(round(self.power_kw * dt / 3600, 9)))
        if dt:
            # A load that wanders around its mean: kettles, fridges, a washing machine.
            pull = 0.02 * (self.spec.mean_kw - self.power_kw) * min(dt, 50)
            step = self._rng.gauss(0, 0.05) * math.sqrt(min(dt, 600))
            self.power_kw = min(self.spec.peak_kw, max(0.05, self.power_kw + pull + step))
            self.voltages = [min(1.1 * self.spec.voltage, max(0.9 * self.spec.voltage,
                                 v + self._rng.gauss(0, 0.3))) for v in self.voltages]

    def _phase_kw(self) -> list[float]:
        if self.spec.phases == 1:
            return [self.power_kw]
        return [self.power_kw * share for share in (0.4, 0.35, 0.25)]

    def values(self, di: int) -> tuple[Layout, tuple[Decimal, ...]] | None:
        """What the meter holds under data identifier `di` (None: not kept by this meter)."""
        self._advance()
        phases = self.spec.phases
        kw = self._phase_kw()
        amps = [p * 1000 / v for p, v in zip(kw, self.voltages, strict=True)]
        table: dict[int, tuple[Layout, list[float] | list[Decimal]]] = {
            0x00010000: (_ENERGY, [self.energy_kwh]),
            0x00020000: (_ENERGY, [Decimal(0)]),
            0x02030000: (_KW, [self.power_kw]),
            0x02800002: (Layout(2, 2), [50.0]),
        }
        for n in range(phases):
            table[0x02010100 + 0x100 * n] = (_VOLT, [self.voltages[n]])
            table[0x02020100 + 0x100 * n] = (_AMP, [amps[n]])
            table[0x02030100 + 0x100 * n] = (_KW, [kw[n]])
        if phases == 3:  # single-phase meters keep no phase blocks
            table[0x0201FF00] = (_VOLT, list(self.voltages))
            table[0x0202FF00] = (_AMP, amps)
            table[0x0203FF00] = (_KW, [self.power_kw, *kw])
        if di not in table:
            return None
        layout, numbers = table[di]
        exact = tuple(Decimal(str(n)).quantize(Decimal(1).scaleb(-layout.decimals))
                      for n in numbers)
        return layout, exact

    # ------------------------------------------------------------ the protocol

    def answer(self, request: Request) -> tuple[bytes | None, float]:
        """The reply to a request addressed to this meter (None: no reply), and how many
        seconds the meter takes before it starts sending."""
        if request.control & 0x80:
            return None, 0.0  # another meter's reply: not for us
        self.requests += 1
        if Fault.SILENT in self.faults:
            return None, 0.0
        delay = float(self.faults.get(Fault.SLOW, 0.0))
        function = request.control & 0x1F
        if request.control == 0x13:
            raw = frame(self.address, 0x93, bytes.fromhex(self.address)[::-1])
        elif request.control == 0x11 and len(request.data) >= 4:
            raw = self._read(int.from_bytes(request.data[:4], "little"))
        else:
            raw = frame(self.address, 0xC0 | function, bytes([OTHER_ERROR]))
        garbage = self.faults.get(Fault.GARBAGE)
        if garbage is not None:
            raw = garble(raw, Garbage(garbage))
        return (PREAMBLE if self.spec.preamble else b"") + raw, delay

    def _read(self, di: int) -> bytes:
        error = self.faults.get(Fault.ABNORMAL)
        found = None if error else self.values(di)
        if found is None:
            return frame(self.address, 0xD1, bytes([error or NO_DATA]))
        layout, exact = found
        self.answered[di] = exact
        payload = di.to_bytes(4, "little") + b"".join(bcd(v, layout) for v in exact)
        return frame(self.address, 0x91, payload)


def garble(raw: bytes, kind: Garbage) -> bytes:
    """A good reply frame (no wake-up bytes) broken the way `kind` says."""
    data_at = 10
    if kind is Garbage.CHECKSUM:
        return raw[:-2] + bytes([(raw[-2] + 1) & 0xFF, raw[-1]])
    if kind is Garbage.TRUNCATED:
        return raw[:len(raw) // 2]
    if kind is Garbage.BAD_START:
        return b"\x69" + raw[1:]
    if kind is Garbage.NO_END:
        return raw[:-1] + b"\x61"
    if kind is Garbage.WRONG_ADDRESS:
        other = bytearray(raw)
        other[1] = 0x99 if raw[1] != 0x99 else 0x98  # lowest address digits
        return reseal(bytes(other))
    changed = bytearray(raw)
    length = raw[9]
    if kind is Garbage.WRONG_DI and length >= 4:
        changed[data_at] = (changed[data_at] + 1) & 0xFF      # DI0 off by one
    elif kind is Garbage.NON_BCD and length > 4:
        changed[data_at + 4] = (0xAB + 0x33) & 0xFF           # first value byte: digits A, B
    elif kind is Garbage.NON_BCD and length:
        changed[data_at] = (0xAB + 0x33) & 0xFF
    return reseal(bytes(changed))
