"""MQTT devices described by YAML profiles (street lights, e-bike detector cameras, elevator
controllers, SOS buttons, fire-hazard sensors, perimeter detectors, access gates, throw
cameras, manhole covers): `create(settings, devices)` gives the gateway a driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drivers.base import DeviceSpec, DriverConfigError
from drivers.mqtt.driver import CommandError, MqttDriver
from drivers.mqtt.profile import Profile, ProfileError, load_profile, load_shipped
from drivers.mqtt.settings import MqttSettings, parse_settings

__all__ = ["CommandError", "MqttDriver", "MqttSettings", "Profile", "ProfileError", "create",
           "load_profile", "load_shipped"]

_DEVICE_OPTIONS: frozenset[str] = frozenset()  # no shipped profile needs any


def create(settings: dict[str, Any] | None, devices: Sequence[DeviceSpec]) -> MqttDriver:
    """Validate settings, devices and their profiles; DriverConfigError says what to fix."""
    parsed = parse_settings(settings, devices)
    profiles: dict[str, Profile] = {}
    seen: dict[tuple[str, str], str] = {}
    for d in devices:
        where = f"device {d.id}"
        if d.driver != "mqtt":
            raise DriverConfigError(f"{where}: driver is {d.driver!r}, not 'mqtt'")
        if d.profile not in profiles:
            try:
                profiles[d.profile] = load_shipped(d.profile)
            except ProfileError as exc:
                raise DriverConfigError(f"{where}: {exc}") from None
        if not d.address or any(c in d.address for c in "/+#"):
            raise DriverConfigError(f"{where}: address {d.address!r} must be one MQTT topic "
                                    "level (no '/', '+', '#'), e.g. light-001")
        other = seen.get((d.profile, d.address))
        if other is not None:
            raise DriverConfigError(f"{where}: address {d.address!r} is also used by device "
                                    f"{other} with profile {d.profile}; give each its own")
        seen[(d.profile, d.address)] = d.id
        unknown = sorted(set(d.options) - _DEVICE_OPTIONS)
        if unknown:
            raise DriverConfigError(f"{where}: unknown option(s) {', '.join(unknown)} for the "
                                    "mqtt driver; remove them")
    return MqttDriver(parsed, devices, profiles)
