"""A simulated single-lamp street-lighting controller implementing its register map: relay
coil, dimming holding register, power and energy input registers (energy sent low word
first) and lamp / gear / relay fault bits.
"""

from __future__ import annotations

from typing import Any, Final

from pymodbus.constants import ExcCodes

from simulators.modbus.device import Image, SimDevice, put, u32

FAULT_BITS: Final = {"lamp": 0, "gear": 1, "relay": 2}


class LightController(SimDevice):
    model = "street_light_controller"

    def __init__(self, *, rated_w: float = 100.0, energy_kwh: float = 250.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rated_w = rated_w
        self.on = True
        self.dim = 100
        self.energy_kwh = energy_kwh
        self.faults = dict.fromkeys(FAULT_BITS, False)

    @property
    def power_w(self) -> float:
        if not self.on or self.faults["lamp"]:
            return 0.0
        return self.rated_w * self.dim / 100

    def set_fault(self, name: str, on: bool = True) -> None:
        if name not in FAULT_BITS:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULT_BITS)}")
        self.faults[name] = on

    def step(self, seconds: float) -> None:
        self.energy_kwh += self.power_w * seconds / 3.6e6

    def image(self, table: str) -> Image:
        if table == "co":
            return {0x0000: int(self.on)}
        if table == "hr":
            return {0x0000: self.dim}
        if table == "ir":
            image: Image = {0x0000: round(self.power_w * 10),
                            0x0003: sum(1 << b for f, b in FAULT_BITS.items() if self.faults[f])}
            put(image, 0x0001, u32(round(self.energy_kwh * 1000), low_word_first=True))
            return image
        return {}

    def store(self, table: str, address: int, values: list[int]) -> ExcCodes | None:
        if table == "co" and address == 0 and len(values) == 1:
            self.on = bool(values[0])
            return None
        if table == "hr" and address == 0 and len(values) == 1:
            if not 0 <= values[0] <= 100:
                return ExcCodes.ILLEGAL_VALUE
            self.dim = values[0]
            return None
        return ExcCodes.ILLEGAL_ADDRESS
