"""The community register as values: community, compounds (小区), buildings, devices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

#: Device kinds the product knows. Indicators select devices by kind.
KINDS: Final[tuple[str, ...]] = (
    "light", "camera", "meter", "charger", "fire_panel", "fire_detector",
    "fire_hazard_sensor", "ebike_detector", "elevator", "sos_button", "manhole_cover",
    "access_control", "perimeter_detector", "throw_camera", "garbage_monitor",
)
#: Protocols a gateway has (or will have) a driver for.
PROTOCOLS: Final[tuple[str, ...]] = ("mqtt", "modbus", "onvif", "dlt645", "gb26875")


@dataclass(frozen=True, slots=True)
class Community:
    id: str
    name: str
    district: str
    households: int | None = None


@dataclass(frozen=True, slots=True)
class Compound:
    id: str
    name: str | None = None
    closed: bool = False
    ebikes: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Building:
    id: str
    compound: str | None = None
    floors: int | None = None
    residential: bool = True
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Device:
    """One registered device. `protocol` None means nothing can report it (a plain light)."""

    id: str
    kind: str
    name: str | None = None
    compound: str | None = None
    building: str | None = None
    public: bool = True
    gateway: str | None = None
    protocol: str | None = None
    address: str | None = None
    capabilities: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Inventory:
    community: Community
    compounds: tuple[Compound, ...]
    buildings: tuple[Building, ...]
    devices: tuple[Device, ...]
    source: str = "<inventory>"


class InventoryError(ValueError):
    """The inventory cannot be used; `problems` lists every fault found, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        n = len(problems)
        head = f"inventory {source} has {n} problem{'s' if n != 1 else ''}:"
        super().__init__("\n  ".join([head, *problems]))
