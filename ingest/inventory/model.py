"""The community register as values: community, compounds (小区), buildings, devices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ingest.records.geo import Boundary

#: Device kinds the product knows. Indicators select devices by kind.
KINDS: Final[tuple[str, ...]] = (
    "light", "camera", "meter", "charger", "fire_panel", "fire_detector",
    "fire_hazard_sensor", "ebike_detector", "elevator", "sos_button", "manhole_cover",
    "access_control", "perimeter_detector", "throw_camera", "garbage_monitor",
)
#: Protocols a gateway has (or will have) a driver for.
PROTOCOLS: Final[tuple[str, ...]] = ("mqtt", "modbus", "onvif", "dlt645", "gb26875")
#: The key positions (重点点位) of the video indicators, with their names in the seeds.
KEY_POSITION_TYPES: Final[dict[str, str]] = {
    "community_entrance": "小区出入口",
    "parking_entrance": "停车库出入口",
    "main_road": "社区主干道",
    "fire_lane": "消防通道",
}


@dataclass(frozen=True, slots=True)
class Community:
    id: str
    name: str
    district: str
    households: int | None = None
    boundary: Boundary | None = None


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
class KeyPosition:
    """A place that must be watched (重点点位); it counts in coverage with or without a camera."""

    id: str
    type: str
    name: str | None = None
    compound: str | None = None


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
    # The camera record (一机一档): GB/T 28181 code, GB/T 2260 civil code, WGS-84 position.
    # Stored as given: record compliance is measured, not enforced at import.
    code: str | None = None
    civil_code: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    key_position: str | None = None


@dataclass(frozen=True, slots=True)
class Inventory:
    community: Community
    compounds: tuple[Compound, ...]
    buildings: tuple[Building, ...]
    devices: tuple[Device, ...]
    source: str = "<inventory>"
    key_positions: tuple[KeyPosition, ...] = ()


class InventoryError(ValueError):
    """The inventory cannot be used; `problems` lists every fault found, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        n = len(problems)
        head = f"inventory {source} has {n} problem{'s' if n != 1 else ''}:"
        super().__init__("\n  ".join([head, *problems]))
