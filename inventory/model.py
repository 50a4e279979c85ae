"""The community register as values: community, compounds (小区), buildings, devices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from inventory.personal import DeviceCredential, Resident
from inventory.records.geo import Boundary

#: Device kinds the product knows. Indicators select devices by kind.
KINDS: Final[tuple[str, ...]] = (
    "light", "camera", "meter", "charger", "fire_panel", "fire_detector",
    "fire_hazard_sensor", "ebike_detector", "elevator", "elevator_controller", "sos_button",
    "manhole_cover", "access_gate", "perimeter_detector", "throw_camera", "garbage_monitor",
    # GB 26875 user information transmission device (用户信息传输装置): reports its own
    # state and, for panels the gateway config does not list, their events on its own id.
    "fire_transmission_device",
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
#: The fire hazards a device can detect (消防隐患), with their names in the growth seed row 19:
#: 消防通道占用、消防栓异常、防火门打开、电气设施异常.
HAZARD_KINDS: Final[dict[str, str]] = {
    "fire_lane": "消防通道占用",
    "hydrant": "消防栓异常",
    "fire_door": "防火门打开",
    "electrical": "电气设施异常",
}
#: Where a fire-alarm zone is: public areas decide automatic fire alarm coverage.
ZONE_AREAS: Final[tuple[str, ...]] = ("public", "private")
#: Who an access-control gate authenticates (出入口智能门禁: 人员和车辆的通行认证).
GATE_SUBJECTS: Final[tuple[str, ...]] = ("person", "vehicle")


@dataclass(frozen=True, slots=True)
class Community:
    id: str
    name: str
    district: str
    households: int | None = None
    boundary: Boundary | None = None
    #: Declared count of lone elderly residents (60岁及以上独居老人), the SOS coverage base.
    lone_elderly: int | None = None


@dataclass(frozen=True, slots=True)
class Compound:
    """A compound (小区). `closed`, `ebikes` and `elevators` are None when the file does not
    say: a row with no eligible compound is then "no data", not "not applicable"."""

    id: str
    name: str | None = None
    closed: bool | None = None
    ebikes: bool | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    elevators: bool | None = None


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
class FireZone:
    """One zone (回路/防区) of a fire panel: its number in the panel's events (`data.zone`),
    the building it watches and whether that area is public. A GB 26875 panel's zone may
    also say where it is on the panel (`loop`, and `points` for part of a loop, as text
    such as "1-15"), from which `scg inventory gb26875-devices` writes the gateway's site
    map."""

    zone: int
    building: str
    area: str = "public"
    loop: int | None = None
    points: str | None = None

    @property
    def public(self) -> bool:
        return self.area == "public"


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
    # Field devices: the household a meter serves, a charging station's port count, a fire
    # panel's zones, and the hazard kinds a fire panel or hazard sensor detects.
    household: str | None = None
    ports: int | None = None
    zones: tuple[FireZone, ...] = ()
    hazards: tuple[str, ...] = ()
    # Safety devices: the elevator an e-bike detector or lift controller serves, the lone
    # elderly resident an SOS button belongs to, whom an access gate authenticates, and the
    # floors a throw-detection camera watches (inclusive range).
    elevator: str | None = None
    resident: str | None = None
    subjects: tuple[str, ...] = ()
    watched_floors: tuple[int, int] | None = None
    # Lights: the lamp's rated power and the hours a conventional light burns a day at full
    # output, the baseline of the DB37/T 3890.3 energy saving.
    rated_power_w: float | None = None
    burn_hours_per_day: float | None = None


@dataclass(frozen=True, slots=True)
class Inventory:
    community: Community
    compounds: tuple[Compound, ...]
    buildings: tuple[Building, ...]
    devices: tuple[Device, ...]
    source: str = "<inventory>"
    key_positions: tuple[KeyPosition, ...] = ()
    #: Gateways listed before any device names them (`gateways:`); a gateway that a device
    #: names is listed anyway. Ingest accepts messages only from listed gateways.
    gateways: tuple[str, ...] = ()
    #: Personal data, plain text only here: the import seals it (inventory.personal).
    residents: tuple[Resident, ...] = ()
    credentials: tuple[DeviceCredential, ...] = ()

    @property
    def has_personal_data(self) -> bool:
        return bool(self.residents or self.credentials)


class InventoryError(ValueError):
    """The inventory cannot be used; `problems` lists every fault found, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        n = len(problems)
        head = f"inventory {source} has {n} problem{'s' if n != 1 else ''}:"
        super().__init__("\n  ".join([head, *problems]))
