"""The `drivers.mqtt` section of the gateway config, validated at load.

    drivers:
      mqtt:
        host: 127.0.0.1          # the device-side broker (default 127.0.0.1)
        port: 1883               # default 1883
        username: null           # optional
        password: null           # optional
        client_id: scg-gw1-devs  # default scg-mqtt-<hash of device ids>: stable, per gateway
        clean_session: false     # default false: the broker keeps messages while we are away
        keepalive: 30            # seconds
        reconnect_min: 0.5       # seconds; the delay doubles after each failure ...
        reconnect_max: 30        # ... up to this ceiling
        command_timeout: 10      # seconds to wait for the broker to acknowledge a command
        prefix: site/lights      # optional: replaces {prefix} of every profile
        prefixes: {street_light: site/lights}   # optional: per profile (wins over prefix)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from drivers.base import DeviceSpec, DriverConfigError


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str = ""
    clean_session: bool = False
    keepalive: int = 30
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    command_timeout: float = 10.0
    prefix: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)

    def prefix_for(self, profile: str, default: str) -> str:
        return self.prefixes.get(profile) or self.prefix or default


_FIELDS = {
    "host": str, "port": int, "username": str, "password": str, "client_id": str,
    "clean_session": bool, "keepalive": int, "reconnect_min": float, "reconnect_max": float,
    "command_timeout": float, "prefix": str, "prefixes": dict,
}


def parse_settings(raw: dict[str, Any] | None, devices: Sequence[DeviceSpec]) -> MqttSettings:
    """Check the settings mapping; DriverConfigError names the key, what is wrong, the fix."""
    if raw is not None and not isinstance(raw, dict):
        raise DriverConfigError("the mqtt driver settings must be a mapping such as "
                                f"{{host: 127.0.0.1, port: 1883}}, got {raw!r}")
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise DriverConfigError(f"unknown mqtt driver setting(s) "
                                f"{', '.join(map(repr, unknown))}; known: "
                                f"{', '.join(_FIELDS)} (check the spelling)")
    values: dict[str, Any] = {}
    for key, kind in _FIELDS.items():
        if raw.get(key) is None:
            continue
        value = raw[key]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise DriverConfigError(f"setting {key!r}: expected {kind.__name__}, got "
                                    f"{value!r}")
        values[key] = value
    s = MqttSettings(**values)
    if not s.host:
        raise DriverConfigError("setting 'host': must name the device broker, e.g. 127.0.0.1")
    if not 0 < s.port < 65536:
        raise DriverConfigError(f"setting 'port': {s.port} is not a TCP port (1..65535)")
    if s.keepalive < 5:
        raise DriverConfigError(f"setting 'keepalive': {s.keepalive} s is too short; use >= 5")
    if not 0 < s.reconnect_min <= s.reconnect_max:
        raise DriverConfigError(f"settings reconnect_min ({s.reconnect_min}) and "
                                f"reconnect_max ({s.reconnect_max}) must satisfy "
                                "0 < reconnect_min <= reconnect_max")
    if s.command_timeout <= 0:
        raise DriverConfigError("setting 'command_timeout': must be > 0 seconds")
    for key, prefix in [("prefix", s.prefix)] + [(f"prefixes.{k}", v)
                                                 for k, v in s.prefixes.items()]:
        if prefix is not None and (not isinstance(prefix, str) or not prefix
                                   or prefix.endswith("/")
                                   or any(c in prefix for c in "+#{}")):
            raise DriverConfigError(f"setting {key!r}: {prefix!r} must be a topic without "
                                    "wildcards or a trailing '/', e.g. site/lights")
    if not s.client_id:
        # A persistent session needs an id that is the same after a restart and differs
        # between gateways: derive it from the devices this driver serves.
        digest = hashlib.sha1("\n".join(sorted(d.id for d in devices)).encode()).hexdigest()
        s = MqttSettings(**{**values, "client_id": f"scg-mqtt-{digest[:12]}"})
    return s
