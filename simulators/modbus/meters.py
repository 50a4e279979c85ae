"""Simulated energy meters, each exposing its manufacturer's register map as the firmware
does: Eastron SDM120 / SDM630 (input registers, float32), CHINT DDSU666 (input registers,
float32), CHINT DTSU666 (holding registers, float32 with scale factors), Acrel ADW300
(holding registers, scaled integers). Load wanders around a base power, so energy rises
with it; tests pin exact values with `set_values`.
"""

from __future__ import annotations

import math
import random
from typing import Any, ClassVar

from simulators.modbus.device import Image, SimDevice, f32, i16, put, u32

QUANTITIES = ("voltage_l1", "voltage_l2", "voltage_l3", "current_l1", "current_l2",
              "current_l3", "power_l1", "power_l2", "power_l3", "power", "frequency",
              "power_factor", "import_kwh", "export_kwh")


class Meter(SimDevice):
    """What every meter measures; models lay it out in registers."""

    phases: ClassVar[int] = 1

    def __init__(self, *, base_w: float = 1200.0, import_kwh: float = 1000.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rng = random.Random(f"{self.model}:{self.seed}")
        self.base_w = base_w
        self.values: dict[str, float] = dict.fromkeys(QUANTITIES, 0.0)
        self.values.update(frequency=50.0, power_factor=0.95, import_kwh=import_kwh)
        self.frozen = False
        self._t = self.rng.uniform(0, 86400)
        self._update_load()

    def set_values(self, **values: float) -> None:
        """Pin these quantities (and stop the load from wandering) until `release()`."""
        unknown = sorted(set(values) - set(QUANTITIES))
        if unknown:
            raise ValueError(f"unknown meter quantities {', '.join(unknown)}; known: "
                             f"{', '.join(QUANTITIES)}")
        self.values.update({k: float(v) for k, v in values.items()})
        self.frozen = True

    def release(self) -> None:
        self.frozen = False

    def step(self, seconds: float) -> None:
        if self.frozen:
            return
        self._t += seconds
        self.values["import_kwh"] += self.values["power"] * seconds / 3.6e6
        self._update_load()

    def _update_load(self) -> None:
        v = self.values
        daily = 1 + 0.5 * math.sin(2 * math.pi * self._t / 86400)
        total = 0.0
        for n in range(1, self.phases + 1):
            volts = 230.0 + self.rng.uniform(-3, 3)
            watts = self.base_w / self.phases * daily * (1 + self.rng.uniform(-0.05, 0.05))
            v[f"voltage_l{n}"] = volts
            v[f"power_l{n}"] = watts
            v[f"current_l{n}"] = watts / (volts * v["power_factor"])
            total += watts
        v["power"] = total
        v["frequency"] = 50.0 + self.rng.uniform(-0.05, 0.05)

    def _mean(self, name: str) -> float:
        return sum(self.values[f"{name}_l{n}"] for n in range(1, self.phases + 1)) / self.phases

    def _apparent(self, n: int) -> float:
        return self.values[f"voltage_l{n}"] * self.values[f"current_l{n}"]


class EastronSdm120(Meter):
    """Input registers 3X, float32 high word first; undefined parameters read 0; at most
    30 parameters (60 registers) per request."""

    model = "eastron_sdm120"
    max_registers = 60

    def image(self, table: str) -> Image:
        if table != "ir":
            return {}
        v = self.values
        s = self._apparent(1)
        image: Image = {}
        for address, value in ((0x0000, v["voltage_l1"]), (0x0006, v["current_l1"]),
                               (0x000C, v["power"]), (0x0012, s),
                               (0x0018, math.sqrt(max(0.0, s * s - v["power"] ** 2))),
                               (0x001E, v["power_factor"]), (0x0024, 0.0),
                               (0x0046, v["frequency"]), (0x0048, v["import_kwh"]),
                               (0x004A, v["export_kwh"]),
                               (0x0156, v["import_kwh"] + v["export_kwh"])):
            put(image, address, f32(value))
        return image

    def reads_as_zero(self, table: str, address: int) -> bool:
        return table == "ir" and address < 0x0200


class EastronSdm630(EastronSdm120):
    model = "eastron_sdm630"
    phases = 3

    def image(self, table: str) -> Image:
        if table != "ir":
            return {}
        v = self.values
        image: Image = {}
        for n in (1, 2, 3):
            o = 2 * (n - 1)
            put(image, 0x0000 + o, f32(v[f"voltage_l{n}"]))
            put(image, 0x0006 + o, f32(v[f"current_l{n}"]))
            put(image, 0x000C + o, f32(v[f"power_l{n}"]))
            put(image, 0x0012 + o, f32(self._apparent(n)))
            put(image, 0x001E + o, f32(v["power_factor"]))
        put(image, 0x002A, f32(self._mean("voltage")))
        put(image, 0x002E, f32(self._mean("current")))
        put(image, 0x0030, f32(self._mean("current") * 3))
        put(image, 0x0034, f32(v["power"]))
        put(image, 0x0038, f32(sum(self._apparent(n) for n in (1, 2, 3))))
        put(image, 0x003E, f32(v["power_factor"]))
        put(image, 0x0046, f32(v["frequency"]))
        put(image, 0x0048, f32(v["import_kwh"]))
        put(image, 0x004A, f32(v["export_kwh"]))
        put(image, 0x0156, f32(v["import_kwh"] + v["export_kwh"]))
        return image


class ChintDdsu666(Meter):
    """Input registers (function 04), float32 high word first, power in kW; undefined
    addresses are refused (ILLEGAL DATA ADDRESS)."""

    model = "chint_ddsu666"

    def image(self, table: str) -> Image:
        if table != "ir":
            return {}
        v = self.values
        s = self._apparent(1)
        image: Image = {}
        for address, value in ((0x2000, v["voltage_l1"]), (0x2002, v["current_l1"]),
                               (0x2004, v["power"] / 1000),
                               (0x2006, math.sqrt(max(0.0, s * s - v["power"] ** 2)) / 1000),
                               (0x2008, s / 1000), (0x200A, v["power_factor"]),
                               (0x200E, v["frequency"]), (0x4000, v["import_kwh"]),
                               (0x400A, v["export_kwh"])):
            put(image, address, f32(value))
        return image


class ChintDtsu666(Meter):
    """Holding registers, float32 high word first, carrying scaled numbers: volts x10,
    amps x1000, watts x10, power factor x1000, hertz x100; energies in kWh."""

    model = "chint_dtsu666"
    phases = 3

    def image(self, table: str) -> Image:
        if table != "hr":
            return {}
        v = self.values
        image: Image = {}
        volts = [v[f"voltage_l{n}"] for n in (1, 2, 3)]
        line = [volts[0] * math.sqrt(3), volts[1] * math.sqrt(3), volts[2] * math.sqrt(3)]
        for i in range(3):
            put(image, 0x2000 + 2 * i, f32(line[i] * 10))
            put(image, 0x2006 + 2 * i, f32(volts[i] * 10))
            put(image, 0x200C + 2 * i, f32(v[f"current_l{i + 1}"] * 1000))
            put(image, 0x2014 + 2 * i, f32(v[f"power_l{i + 1}"] * 10))
            put(image, 0x201C + 2 * i, f32(0.0))
            put(image, 0x202C + 2 * i, f32(v["power_factor"] * 1000))
            put(image, 0x4020 + 2 * i, f32(v["import_kwh"] / 3))
            put(image, 0x402A + 2 * i, f32(v["export_kwh"] / 3))
        put(image, 0x2012, f32(v["power"] * 10))
        put(image, 0x201A, f32(0.0))
        put(image, 0x202A, f32(v["power_factor"] * 1000))
        put(image, 0x2044, f32(v["frequency"] * 100))
        put(image, 0x401E, f32(v["import_kwh"]))
        put(image, 0x4026, f32(v["import_kwh"] - v["export_kwh"]))
        put(image, 0x4028, f32(v["export_kwh"]))
        return image


class AcrelAdw300(Meter):
    """Holding registers with scaled integers: volts x10 and amps x100 in one register,
    watts as signed 32-bit, energies x100 kWh as signed 32-bit, high word first. Reserved
    registers of the first 0x50 read 0."""

    model = "acrel_adw300"
    phases = 3

    def image(self, table: str) -> Image:
        if table != "hr":
            return {}
        v = self.values
        image: Image = {}
        for i in range(3):
            n = i + 1
            image[0x0014 + i] = round(v[f"voltage_l{n}"] * 10) & 0xFFFF
            image[0x0017 + i] = round(v[f"voltage_l{n}"] * math.sqrt(3) * 10) & 0xFFFF
            image[0x001A + i] = round(v[f"current_l{n}"] * 100) & 0xFFFF
            put(image, 0x001E + 2 * i, u32(round(v[f"power_l{n}"])))
        put(image, 0x0024, u32(round(v["power"])))
        image[0x0031] = i16(round(v["power_factor"] * 1000))
        image[0x0032] = round(v["frequency"] * 100)
        put(image, 0x003E, u32(round(v["import_kwh"] * 100)))
        put(image, 0x0040, u32(round(v["export_kwh"] * 100)))
        return image

    def reads_as_zero(self, table: str, address: int) -> bool:
        return table == "hr" and address < 0x0050
