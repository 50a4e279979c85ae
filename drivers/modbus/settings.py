"""The `drivers.modbus` section of the gateway config and each device's `LINK/UNIT` address,
validated at load so a typo is reported with the key and the fix before anything runs.

    drivers:
      modbus:
        links:                   # one lock per link: one request at a time on it
          bus1: {type: rtu, port: /dev/ttyUSB0, baudrate: 9600, parity: N, stopbits: 1,
                 timeout: 1s}
          gw2:  {type: tcp, host: 192.0.2.5, port: 502, timeout: 1s}
          gw3:  {type: rtu_over_tcp, host: 192.0.2.6, port: 4001, timeout: 1s}
        reconnect_min: 0.5s      # a lost link is reopened after this, doubling ...
        reconnect_max: 30s       # ... up to this ceiling
        retry_max: 5m            # a silent device is retried after 1, 2, 4 ... periods, at
                                 # most this far apart (its neighbours are not held up)
        profile_dirs: [/etc/scg/modbus-profiles]   # site profiles, searched before shipped
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from drivers.base import DeviceSpec, DriverConfigError
from drivers.modbus.model import Profile

LINK_TYPES: Final = ("rtu", "tcp", "rtu_over_tcp")
_KEYS: Final = ("links", "reconnect_min", "reconnect_max", "retry_max", "profile_dirs")
_SERIAL_KEYS: Final = ("type", "port", "baudrate", "parity", "stopbits", "bytesize", "timeout")
_TCP_KEYS: Final = ("type", "host", "port", "timeout")
_LINK_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """One serial line or TCP endpoint."""

    name: str
    type: str
    timeout: float = 1.0
    host: str = ""
    port: int = 502
    device: str = ""          # serial: /dev/ttyUSB0
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8

    @property
    def is_serial(self) -> bool:
        return self.type == "rtu"

    def describe(self) -> str:
        """e.g. `rtu /dev/ttyUSB0 9600 8N1` or `tcp 192.0.2.5:502`."""
        if self.is_serial:
            return (f"rtu {self.device} {self.baudrate} "
                    f"{self.bytesize}{self.parity}{self.stopbits}")
        return f"{self.type} {self.host}:{self.port}"

    @property
    def frame_gap(self) -> float:
        """Silence an RS-485 line needs between two frames: 3.5 character times (a
        character is start + data + parity + stop bits); Modbus fixes it at 1.75 ms above
        19200 baud. TCP needs none."""
        if not self.is_serial:
            return 0.0
        if self.baudrate > 19200:
            return 0.00175
        bits = 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits
        return 3.5 * bits / self.baudrate


@dataclass(frozen=True, slots=True)
class ModbusSettings:
    links: dict[str, LinkSpec]
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    retry_max: float = 300.0
    profile_dirs: tuple[Path, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ModbusDevice:
    """One configured device: its spec, where it is, and its profile."""

    spec: DeviceSpec
    link: str
    unit: int
    profile: Profile

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def period(self) -> float:
        return self.spec.period.total_seconds()


def seconds(key: str, value: Any, example: str) -> float:
    """A duration: a number of seconds or text such as 500ms, 1s, 5m, 1h."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        result = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    else:
        raise DriverConfigError(f"modbus setting {key!r}: expected a duration such as "
                                f"{example} (or a number of seconds), got {value!r}")
    if not math.isfinite(result) or result <= 0:
        raise DriverConfigError(f"modbus setting {key!r}: must be longer than zero, e.g. "
                                f"{example}; got {value!r}")
    return result


def parse_settings(raw: Mapping[str, Any] | None) -> ModbusSettings:
    """Check the settings mapping; DriverConfigError names the key, what is wrong, the fix."""
    if raw is None or not isinstance(raw, Mapping):
        raise DriverConfigError("the modbus driver needs settings with its links, e.g. "
                                "{links: {bus1: {type: rtu, port: /dev/ttyUSB0}}}; got "
                                f"{raw!r}")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise DriverConfigError(f"unknown modbus driver setting(s) "
                                f"{', '.join(map(repr, unknown))}; known: {', '.join(_KEYS)} "
                                "(check the spelling)")
    links_raw = raw.get("links")
    if not isinstance(links_raw, Mapping) or not links_raw:
        raise DriverConfigError("modbus setting 'links': list at least one serial line or "
                                "TCP endpoint, e.g. links: {gw2: {type: tcp, host: "
                                "192.0.2.5, port: 502}}")
    links = {str(name): _link(str(name), spec) for name, spec in links_raw.items()}
    low = seconds("reconnect_min", raw.get("reconnect_min", 0.5), "0.5s")
    high = seconds("reconnect_max", raw.get("reconnect_max", 30.0), "30s")
    if low > high:
        raise DriverConfigError(f"modbus settings reconnect_min ({low:g} s) must not exceed "
                                f"reconnect_max ({high:g} s)")
    retry_max = seconds("retry_max", raw.get("retry_max", 300.0), "5m")
    dirs_raw = raw.get("profile_dirs") or []
    if not isinstance(dirs_raw, list) or not all(isinstance(d, str) and d for d in dirs_raw):
        raise DriverConfigError("modbus setting 'profile_dirs': expected a list of folders, "
                                f"e.g. [/etc/scg/modbus-profiles]; got {dirs_raw!r}")
    dirs = tuple(Path(d) for d in dirs_raw)
    for d in dirs:
        if not d.is_dir():
            raise DriverConfigError(f"modbus setting 'profile_dirs': {d} is not a folder; "
                                    "create it or remove it from the list")
    return ModbusSettings(links, low, high, retry_max, dirs)


def _link(name: str, raw: Any) -> LinkSpec:
    where = f"modbus link {name!r}"
    if not _LINK_NAME.match(name):
        raise DriverConfigError(f"{where}: a link name uses letters, digits, '_', '-' and "
                                "'.', e.g. bus1 (device addresses are LINK/UNIT)")
    if not isinstance(raw, Mapping):
        raise DriverConfigError(f"{where}: expected a mapping such as {{type: tcp, host: "
                                f"192.0.2.5, port: 502}}, got {raw!r}")
    kind = raw.get("type")
    if kind not in LINK_TYPES:
        raise DriverConfigError(f"{where}: 'type' must be one of {', '.join(LINK_TYPES)}, "
                                f"got {kind!r}")
    allowed = _SERIAL_KEYS if kind == "rtu" else _TCP_KEYS
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise DriverConfigError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))} for "
                                f"a {kind} link; known: {', '.join(allowed)}")
    timeout = seconds(f"links.{name}.timeout", raw.get("timeout", 1.0), "1s")
    if kind == "rtu":
        device = raw.get("port")
        if not isinstance(device, str) or not device:
            raise DriverConfigError(f"{where}: 'port' must name the serial device, e.g. "
                                    f"/dev/ttyUSB0; got {device!r}")
        baudrate = _choice(where, raw, "baudrate", 9600,
                           (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200))
        parity = _choice(where, raw, "parity", "N", ("N", "E", "O"))
        stopbits = _choice(where, raw, "stopbits", 1, (1, 2))
        bytesize = _choice(where, raw, "bytesize", 8, (7, 8))
        return LinkSpec(name, kind, timeout, device=device, baudrate=baudrate, parity=parity,
                        stopbits=stopbits, bytesize=bytesize)
    host = raw.get("host")
    if not isinstance(host, str) or not host:
        raise DriverConfigError(f"{where}: 'host' must name the device or gateway, e.g. "
                                f"192.0.2.5; got {host!r}")
    port = raw.get("port", 502)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise DriverConfigError(f"{where}: 'port' must be a TCP port 1..65535 (Modbus TCP "
                                f"uses 502), got {port!r}")
    return LinkSpec(name, kind, timeout, host=host, port=port)


def _choice(where: str, raw: Mapping[str, Any], key: str, default: Any,
            options: tuple[Any, ...]) -> Any:
    value = raw.get(key, default)
    if isinstance(value, bool) or value not in options:
        raise DriverConfigError(f"{where}: {key!r} must be one of "
                                f"{', '.join(map(str, options))}, got {value!r}")
    return value


def parse_address(value: str, links: Mapping[str, LinkSpec]) -> tuple[str, int]:
    """`LINK/UNIT` -> (link name, unit id); ValueError says what is wrong."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise ValueError(f"address {value!r} must be LINK/UNIT, e.g. bus1/3 "
                         f"(links: {', '.join(links)})")
    link, unit_text = value.split("/")
    if link not in links:
        raise ValueError(f"address {value!r} names link {link!r}, which is not among the "
                         f"modbus links ({', '.join(links)}); add it under drivers.modbus.links")
    if not unit_text.isdigit():
        raise ValueError(f"address {value!r}: the unit id {unit_text!r} is not a number")
    unit = int(unit_text)
    low, high = (1, 247) if links[link].type != "tcp" else (0, 255)
    if not low <= unit <= high:
        raise ValueError(f"address {value!r}: unit id {unit} is out of range for a "
                         f"{links[link].type} link ({low}..{high}"
                         + ("; 0 is broadcast, 248..255 are reserved" if low == 1 else "")
                         + ")")
    return link, unit


def parse_devices(devices: Sequence[DeviceSpec], settings: ModbusSettings,
                  profiles: Mapping[str, Profile]) -> list[ModbusDevice]:
    """Each device's driver, address, period and options; no two share a LINK/UNIT."""
    out: list[ModbusDevice] = []
    seen: dict[tuple[str, int], str] = {}
    for d in devices:
        where = f"device {d.id}"
        if d.driver != "modbus":
            raise DriverConfigError(f"{where}: driver is {d.driver!r}, not 'modbus'")
        try:
            link, unit = parse_address(d.address, settings.links)
        except ValueError as exc:
            raise DriverConfigError(f"{where}: {exc}") from None
        other = seen.get((link, unit))
        if other is not None:
            raise DriverConfigError(f"{where}: address {d.address} is also used by device "
                                    f"{other}; two devices cannot share a unit id on one link")
        seen[(link, unit)] = d.id
        if d.options:
            raise DriverConfigError(f"{where}: the modbus driver takes no device options "
                                    f"(got {', '.join(map(str, d.options))}); remove them "
                                    "(the profile says everything about the device)")
        if d.period.total_seconds() <= 0:
            raise DriverConfigError(f"{where}: period must be longer than zero, e.g. 10s")
        out.append(ModbusDevice(d, link, unit, profiles[d.profile]))
    return out
