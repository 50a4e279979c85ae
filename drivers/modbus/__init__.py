"""Modbus devices (meters, e-bike charging stations, fire-alarm gateways, lighting
controllers) over RTU serial lines, Modbus TCP and RTU over TCP, described by profiles
that are data: `create(settings, devices)` gives the gateway a ready-to-run driver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drivers.base import DeviceSpec, DriverConfigError
from drivers.modbus.checks import ProfileError
from drivers.modbus.driver import CommandError, ModbusDriver
from drivers.modbus.model import Profile
from drivers.modbus.plan import Block, plan_blocks, plan_profile
from drivers.modbus.profile import find_profile, load_profile, parse_profile, shipped_profiles
from drivers.modbus.settings import ModbusSettings, parse_devices, parse_settings

__all__ = ["Block", "CommandError", "ModbusDriver", "ModbusSettings", "Profile",
           "ProfileError", "create", "find_profile", "load_profile", "parse_profile",
           "plan_blocks", "plan_profile", "shipped_profiles"]


def create(settings: Mapping[str, Any] | None, devices: Sequence[DeviceSpec]) -> ModbusDriver:
    """Validate the settings, every device's address and its profile; DriverConfigError
    (ProfileError for a bad profile file) says what to fix."""
    parsed = parse_settings(settings)
    profiles: dict[str, Profile] = {}
    for d in devices:
        if d.profile not in profiles:
            try:
                profiles[d.profile] = find_profile(d.profile, parsed.profile_dirs)
            except ProfileError as exc:
                raise DriverConfigError(f"device {d.id}: {exc}") from None
    return ModbusDriver(parsed, parse_devices(devices, parsed, profiles))
