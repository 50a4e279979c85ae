"""A simulated Modbus fire-alarm gateway implementing its register map: 16 zones of four
discrete inputs each (fire, fault, supervisory, disabled), four fire-door inputs, hydrant
pressure and residual current as input registers, and the gateway's own hazard alarm bits
(raised when pressure or residual current crosses its thresholds).

The register map is the gateway's, whatever is wired to it: a gateway with four zones and
two doors connected still answers for all 16 zones and 4 doors (the unwired ones read 0),
as the firmware's fixed map does. A gateway reading an unwired zone is not an error.
"""

from __future__ import annotations

from typing import Any, Final

from simulators.modbus.device import Image, SimDevice

ZONE_FLAGS: Final = ("fire", "fault", "supervisory", "disabled")
DOOR_BASE: Final = 0x0100
#: the size of the register map: zones and fire-door inputs the firmware answers for
MAP_ZONES: Final = 16
MAP_DOORS: Final = 4


class FireAlarmGateway(SimDevice):
    model = "fire_alarm_gateway"

    def __init__(self, *, zones: int = 16, doors: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 1 <= zones <= MAP_ZONES or not 0 <= doors <= MAP_DOORS:
            raise ValueError(f"a fire-alarm gateway has 1..{MAP_ZONES} zones and 0..{MAP_DOORS} "
                             f"fire doors, got zones={zones!r}, doors={doors!r}")
        self.zones = {z: dict.fromkeys(ZONE_FLAGS, False) for z in range(1, zones + 1)}
        self.doors = dict.fromkeys(range(1, doors + 1), False)
        self.hydrant_mpa = 0.350
        self.residual_ma = 12.0
        self.low_pressure_mpa = 0.15   # the gateway's thresholds
        self.residual_limit_ma = 300.0

    def set_zone(self, zone: int, flag: str, on: bool = True) -> None:
        if zone not in self.zones:
            raise ValueError(f"zone {zone} does not exist; zones are 1..{len(self.zones)}")
        if flag not in ZONE_FLAGS:
            raise ValueError(f"unknown zone flag {flag!r}; known: {', '.join(ZONE_FLAGS)}")
        self.zones[zone][flag] = on

    def set_door(self, door: int, open_: bool = True) -> None:
        if door not in self.doors:
            raise ValueError(f"door {door} does not exist; doors are 1..{len(self.doors)}")
        self.doors[door] = open_

    def set_pressure(self, mpa: float) -> None:
        self.hydrant_mpa = mpa

    def set_residual_current(self, ma: float) -> None:
        self.residual_ma = ma

    def image(self, table: str) -> Image:
        if table == "di":
            image: Image = {}
            for zone, flags in self.zones.items():
                for i, flag in enumerate(ZONE_FLAGS):
                    image[4 * (zone - 1) + i] = int(flags[flag])
            for door, is_open in self.doors.items():
                image[DOOR_BASE + door - 1] = int(is_open)
            return image
        if table == "ir":
            alarms = (int(self.hydrant_mpa < self.low_pressure_mpa)
                      | int(self.residual_ma > self.residual_limit_ma) << 1)
            return {0x0000: max(0, min(0xFFFF, round(self.hydrant_mpa * 1000))),
                    0x0001: max(0, min(0xFFFF, round(self.residual_ma * 10))),
                    0x0002: alarms}
        return {}

    def reads_as_zero(self, table: str, address: int) -> bool:
        """Unwired zones and doors inside the map read as 0 (no fire, door closed)."""
        return table == "di" and (address < len(ZONE_FLAGS) * MAP_ZONES
                                  or DOOR_BASE <= address < DOOR_BASE + MAP_DOORS)
