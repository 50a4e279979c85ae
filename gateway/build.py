"""Turns a validated gateway config into running drivers: one per driver name its devices
use, each with its settings from the config (`registry` finds a driver by name)."""

from __future__ import annotations

from drivers.base import DeviceSpec, Driver, DriverConfigError
from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.registry import UnknownDriver, find_driver


def build_drivers(config: GatewayConfig) -> dict[str, Driver]:
    """One driver per driver name the devices use; a driver's own refusal of its settings
    or profiles becomes a ConfigError naming the config file."""
    built: dict[str, Driver] = {}
    problems: list[str] = []
    for name, devices in config.devices_by_driver().items():
        try:
            built[name] = create_driver(config, name, devices)
        except (UnknownDriver, DriverConfigError) as exc:
            problems.append(f"drivers.{name}: {exc}")
    if problems:
        raise ConfigError(config.source, problems)
    return built


def create_driver(config: GatewayConfig, name: str, devices: list[DeviceSpec]) -> Driver:
    """Create driver `name` for `devices` with its settings from the config."""
    factory = find_driver(name)
    return factory(dict(config.drivers.get(name, {})), list(devices))
