"""DL/T 645-2007 electricity meters over RS-485 or TCP transparent gateways (household
energy collection): `create(settings, devices)` gives the gateway a ready-to-run driver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drivers.base import DeviceSpec, DriverConfigError
from drivers.dlt645.codec import AbnormalReply, Frame, FrameError, ValueFormat
from drivers.dlt645.driver import Dlt645Driver, Meter, PollResult
from drivers.dlt645.profile import Profile, ProfileError, load_profile, load_shipped
from drivers.dlt645.settings import Dlt645Settings, parse_meter_address, parse_settings

__all__ = ["AbnormalReply", "Dlt645Driver", "Dlt645Settings", "Frame", "FrameError", "Meter",
           "PollResult", "Profile", "ProfileError", "ValueFormat", "create", "load_profile",
           "load_shipped", "parse_meters"]


def create(settings: Mapping[str, Any] | None, devices: Sequence[DeviceSpec]) -> Dlt645Driver:
    """Validate settings, meters and their profiles; DriverConfigError says what to fix."""
    parsed = parse_settings(settings)
    return Dlt645Driver(parsed, parse_meters(devices, parsed))


def parse_meters(devices: Sequence[DeviceSpec], settings: Dlt645Settings) -> list[Meter]:
    """Check each meter's driver, profile, address, period and options."""
    profiles: dict[str, Profile] = {}
    seen: dict[tuple[str, str], str] = {}
    meters = []
    for d in devices:
        where = f"device {d.id}"
        if d.driver != "dlt645":
            raise DriverConfigError(f"{where}: driver is {d.driver!r}, not 'dlt645'")
        if d.profile not in profiles:
            try:
                profiles[d.profile] = load_shipped(d.profile)
            except ProfileError as exc:
                raise DriverConfigError(f"{where}: {exc}") from None
        try:
            address = parse_meter_address(d.address, settings.links)
        except ValueError as exc:
            raise DriverConfigError(f"{where}: {exc}") from None
        key = (address.link, address.address)
        if key in seen:
            raise DriverConfigError(f"{where}: address {address} is also used by device "
                                    f"{seen[key]}; each meter has its own address on a link")
        seen[key] = d.id
        if d.options:
            raise DriverConfigError(f"{where}: unknown option(s) "
                                    f"{', '.join(sorted(map(str, d.options)))} for the dlt645 "
                                    "driver; it takes none, remove them")
        if d.period.total_seconds() <= 0:
            raise DriverConfigError(f"{where}: period must be longer than zero, e.g. 15m")
        meters.append(Meter(d, address, profiles[d.profile]))
    return meters
