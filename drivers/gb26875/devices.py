"""The GB 26875 devices of a gateway config: transmission devices by address, and the panels
behind them with the site's map from loop and point to the zones (and detectors) the
community inventory registers.

    devices:
      - id: uitd-b                  # the user information transmission device
        driver: gb26875
        profile: transmission_device
        address: "100000000001"     # its 6-byte address (decimal, or 0x + hex)
        period: 30s                 # its heartbeat
      - id: panel-b                 # a fire alarm controller reporting through it
        driver: gb26875
        profile: fire_alarm_controller
        address: uitd-b/1           # transmission device id / system address (系统地址)
        period: 30s                 # as its transmission device: it is heard through it
        options:
          zones:                    # the zone numbers of the inventory's fire_panel zones
            - {zone: 1, loop: 1}                 # every point of loop 1
            - {zone: 2, loop: 2, points: 1-40}   # or points: [41, 42] or "1-10,15"
          detectors:                # optional: points the inventory registers as detectors
            - {id: det-b-0301, loop: 1, point: 1}

Listed points win over a whole loop. A point in no zone still reports, without a zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from drivers.base import DeviceSpec, DriverConfigError
from drivers.gb26875.codec import parse_address
from drivers.gb26875.profile import Profile, ProfileError, find_profile
from drivers.gb26875.settings import Gb26875Settings

_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_RANGE_RE: Final = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
MAX_POINTS: Final = 65536


@dataclass(frozen=True, slots=True)
class Panel:
    """A system (系统) behind a transmission device: a fire alarm controller, usually."""

    spec: DeviceSpec
    via: str                       # the transmission device's id
    system_type: int
    system_address: int
    profile: Profile
    loop_zones: dict[int, int] = field(default_factory=dict, repr=False)
    point_zones: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)
    detectors: dict[tuple[int, int], str] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> str:
        return self.spec.id

    def zone_of(self, loop: int, point: int) -> int | None:
        zone = self.point_zones.get((loop, point))
        return zone if zone is not None else self.loop_zones.get(loop)


@dataclass(frozen=True, slots=True)
class TransmissionDevice:
    spec: DeviceSpec
    address: int
    profile: Profile
    #: rules for the systems that report through it but are not configured
    fallback: Profile | None
    panels: dict[tuple[int, int], Panel] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def period(self) -> float:
        return self.spec.period.total_seconds()


def parse_devices(devices: Sequence[DeviceSpec],
                  settings: Gb26875Settings) -> list[TransmissionDevice]:
    """Check every device's driver, profile, address and options; the panels come back
    inside their transmission devices."""
    profiles: dict[str, Profile] = {}

    def profile_of(d: DeviceSpec, name: str, where: str) -> Profile:
        if name not in profiles:
            try:
                profiles[name] = find_profile(name, settings.profile_dirs)
            except ProfileError as exc:
                raise DriverConfigError(f"{where}: {exc}") from None
        return profiles[name]

    boxes: dict[str, TransmissionDevice] = {}
    by_address: dict[int, str] = {}
    later: list[tuple[DeviceSpec, Profile]] = []
    for d in devices:
        where = f"device {d.id}"
        if d.driver != "gb26875":
            raise DriverConfigError(f"{where}: driver is {d.driver!r}, not 'gb26875'")
        if d.period.total_seconds() <= 0:
            raise DriverConfigError(f"{where}: period must be longer than zero, e.g. 30s "
                                    "(the heartbeat of its transmission device)")
        profile = profile_of(d, d.profile, where)
        if profile.role == "system":
            later.append((d, profile))
            continue
        try:
            address = parse_address(d.address)
        except ValueError as exc:
            raise DriverConfigError(f"{where}: {exc} (the transmission device's own "
                                    "address, as set on the device)") from None
        if address in by_address:
            raise DriverConfigError(f"{where}: address {address} is also device "
                                    f"{by_address[address]}; each transmission device has "
                                    "its own address")
        if d.options:
            raise DriverConfigError(f"{where}: a transmission device takes no options (got "
                                    f"{', '.join(sorted(map(str, d.options)))}); zones belong "
                                    "to its panels")
        by_address[address] = d.id
        fallback = (profile_of(d, profile.unconfigured_systems, f"{where}: profile "
                               f"{profile.name}: unconfigured_systems")
                    if profile.unconfigured_systems else None)
        if fallback is not None and fallback.role != "system":
            raise DriverConfigError(f"{where}: profile {profile.name}: unconfigured_systems "
                                    f"names {fallback.name}, which is not a system profile")
        boxes[d.id] = TransmissionDevice(d, address, profile, fallback)
    for d, profile in later:
        panel = _panel(d, profile, boxes)
        box = boxes[panel.via]
        key = (panel.system_type, panel.system_address)
        if key in box.panels:
            raise DriverConfigError(f"device {d.id}: system {key[1]} (type {key[0]}) behind "
                                    f"{panel.via} is also device {box.panels[key].id}")
        if d.period < box.spec.period:
            raise DriverConfigError(f"device {d.id}: period {d.period.total_seconds():g} s is "
                                    f"shorter than the heartbeat of {box.id} "
                                    f"({box.period:g} s); a panel is heard through its "
                                    "transmission device, give it the same period")
        box.panels[key] = panel
    return list(boxes.values())


def _panel(d: DeviceSpec, profile: Profile, boxes: Mapping[str, TransmissionDevice]) -> Panel:
    where = f"device {d.id}"
    via, sep, system = d.address.rpartition("/") if isinstance(d.address, str) else ("", "",
                                                                                      "")
    example = f"{next(iter(boxes), 'uitd-b')}/1"
    if not sep or not via:
        raise DriverConfigError(f"{where}: address {d.address!r} must be DEVICE/SYSTEM_ADDRESS: "
                                f"the id of its transmission device and the panel's system "
                                f"address (系统地址), e.g. {example}")
    if via.strip() not in boxes:
        raise DriverConfigError(f"{where}: address {d.address!r}: there is no transmission "
                                f"device {via.strip()!r} in this config; gb26875 transmission "
                                f"devices: {', '.join(boxes) or '(none: add one)'}")
    if not system.strip().isdigit() or not 0 <= int(system) <= 255:
        raise DriverConfigError(f"{where}: address {d.address!r}: the system address must be "
                                f"0..255, e.g. {example}")
    unknown = sorted(map(str, set(d.options) - {"zones", "detectors"}))
    if unknown:
        raise DriverConfigError(f"{where}: unknown option(s) {', '.join(unknown)}; a panel "
                                "takes zones and detectors")
    assert profile.system_type is not None  # a system profile always has one
    loop_zones, point_zones = _zones(where, d.options.get("zones", []), profile)
    return Panel(d, via.strip(), profile.system_type, int(system), profile, loop_zones,
                 point_zones, _detectors(where, d.options.get("detectors", []), profile))


def _zones(where: str, raw: Any, profile: Profile) -> tuple[dict[int, int],
                                                            dict[tuple[int, int], int]]:
    if not isinstance(raw, list):
        raise DriverConfigError(f"{where}: options.zones must be a list of {{zone: N, loop: L, "
                                f"points: 1-40}}, got {raw!r}")
    loops: dict[int, int] = {}
    points: dict[tuple[int, int], int] = {}
    for i, row in enumerate(raw):
        at = f"{where}: options.zones[{i}]"
        if not isinstance(row, dict) or not {"zone", "loop"} <= set(row) \
                or set(row) - {"zone", "loop", "points"}:
            raise DriverConfigError(f"{at}: must be {{zone: N, loop: L}} (plus points: 1-40 "
                                    f"for part of a loop), got {row!r}")
        zone = _number(at, "zone", row["zone"], 0, 10**6)
        loop = _number(at, "loop", row["loop"], 0, profile.loop.maximum)
        if "points" not in row:
            if loop in loops:
                raise DriverConfigError(f"{at}: loop {loop} is already zone {loops[loop]}; a "
                                        "whole loop belongs to one zone")
            loops[loop] = zone
            continue
        for point in _points(at, row["points"], profile.point.maximum):
            if (loop, point) in points:
                raise DriverConfigError(f"{at}: loop {loop} point {point} is already in zone "
                                        f"{points[(loop, point)]}")
            points[(loop, point)] = zone
    return loops, points


def _detectors(where: str, raw: Any, profile: Profile) -> dict[tuple[int, int], str]:
    if not isinstance(raw, list):
        raise DriverConfigError(f"{where}: options.detectors must be a list of {{id: ID, "
                                f"loop: L, point: P}}, got {raw!r}")
    out: dict[tuple[int, int], str] = {}
    for i, row in enumerate(raw):
        at = f"{where}: options.detectors[{i}]"
        if not isinstance(row, dict) or set(row) != {"id", "loop", "point"}:
            raise DriverConfigError(f"{at}: must be {{id: det-b-0301, loop: 1, point: 1}}, got "
                                    f"{row!r}")
        if not isinstance(row["id"], str) or not _ID_RE.match(row["id"]):
            raise DriverConfigError(f"{at}: id {row['id']!r} must be the detector's inventory "
                                    "id (letters, digits, '_', '.', '-')")
        key = (_number(at, "loop", row["loop"], 0, profile.loop.maximum),
               _number(at, "point", row["point"], 0, profile.point.maximum))
        if key in out:
            raise DriverConfigError(f"{at}: loop {key[0]} point {key[1]} is already detector "
                                    f"{out[key]}")
        out[key] = row["id"]
    return out


def _number(at: str, key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DriverConfigError(f"{at}: {key} must be a whole number {low}..{high}, got "
                                f"{value!r}")
    return value


def _points(at: str, raw: Any, high: int) -> list[int]:
    """`5`, `[41, 42]`, `"1-40"` or `"1-10,15,20-25"` -> the point numbers."""
    parts: list[Any] = raw if isinstance(raw, list) else (
        raw.split(",") if isinstance(raw, str) else [raw])
    out: list[int] = []
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            first = last = part
        elif isinstance(part, str) and (m := _RANGE_RE.match(part)):
            first = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else first
        else:
            raise DriverConfigError(f"{at}: points {raw!r}: expected numbers and ranges such "
                                    "as 1-40, [41, 42] or \"1-10,15\"")
        if not 0 <= first <= last <= high or len(out) + last - first >= MAX_POINTS:
            raise DriverConfigError(f"{at}: points {raw!r}: ranges run low-high within "
                                    f"0..{high}")
        out.extend(range(first, last + 1))
    return out
