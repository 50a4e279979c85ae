"""The `drivers.gb26875` section of the gateway config, validated at load so a typo is
reported with the key and the fix before anything listens.

    drivers:
      gb26875:
        listen: {host: 0.0.0.0, port: 5200}   # the centre's TCP port the devices dial
        centre_address: 0             # this centre's 6-byte address, put in every reply
                                      # (frames are taken whatever destination they name:
                                      # many devices leave it 0)
        utc_offset: "+08:00"          # time labels are the devices' local time
        max_clock_skew: 10m           # a time label further off is replaced by arrival time
        idle_timeout: 5m              # a connection silent this long is closed
        query_on_connect: true        # read a device's and its panels' state on connect
        sync_time: false              # set a device's clock (control command) on connect
        max_connections: 256          # connections at once (strangers cannot exhaust us)
        profile_dirs: [/etc/scg/gb26875-profiles]   # site profiles, before the shipped ones

Devices (see `devices.py`) name the transmission devices by address and the panels
behind them by `DEVICE/SYSTEM_ADDRESS`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path
from typing import Any, Final

from drivers.base import DriverConfigError
from drivers.gb26875.codec import parse_address, parse_offset

_KEYS: Final = ("listen", "centre_address", "utc_offset", "max_clock_skew", "idle_timeout",
                "query_on_connect", "sync_time", "max_connections", "profile_dirs")
_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
DEFAULT_PORT: Final = 5200


@dataclass(frozen=True, slots=True)
class Gb26875Settings:
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    centre_address: int = 0
    tz: timezone = field(default_factory=lambda: parse_offset("+08:00"))
    max_clock_skew: float = 600.0
    idle_timeout: float = 300.0
    query_on_connect: bool = True
    sync_time: bool = False
    max_connections: int = 256
    profile_dirs: tuple[Path, ...] = ()


def fail(key: str, problem: str) -> DriverConfigError:
    return DriverConfigError(f"gb26875 setting {key!r}: {problem}")


def seconds(key: str, value: Any, example: str) -> float:
    """A duration: a number of seconds or text such as 500ms, 30s, 5m, 1h."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        result = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    else:
        raise fail(key, f"expected a duration such as {example} (or a number of seconds), "
                        f"got {value!r}")
    if not math.isfinite(result) or result <= 0:
        raise fail(key, f"must be longer than zero, e.g. {example}; got {value!r}")
    return result


def _flag(raw: Mapping[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise fail(key, f"expected true or false, got {value!r}")
    return value


def parse_settings(raw: Mapping[str, Any] | None) -> Gb26875Settings:
    """Check the settings mapping; DriverConfigError names the key, what is wrong, the fix."""
    if raw is not None and not isinstance(raw, Mapping):
        raise DriverConfigError("the gb26875 driver settings must be a mapping such as "
                                f"{{listen: {{host: 0.0.0.0, port: {DEFAULT_PORT}}}}}, got "
                                f"{raw!r}")
    raw = dict(raw or {})
    unknown = sorted(str(k) for k in set(raw) - set(_KEYS))
    if unknown:
        raise DriverConfigError(f"unknown gb26875 setting(s) {', '.join(map(repr, unknown))}; "
                                f"known: {', '.join(_KEYS)} (check the spelling)")
    listen = raw.get("listen", {})
    if not isinstance(listen, Mapping) or set(map(str, listen)) - {"host", "port"}:
        raise fail("listen", f"expected {{host: 0.0.0.0, port: {DEFAULT_PORT}}}, got "
                             f"{listen!r}")
    host = listen.get("host", "0.0.0.0")
    if not isinstance(host, str) or not host.strip():
        raise fail("listen.host", f"name the address to listen on, e.g. 0.0.0.0; got {host!r}")
    port = listen.get("port", DEFAULT_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise fail("listen.port", f"expected a TCP port 1..65535 (0: any free port), got "
                                  f"{port!r}")
    try:
        centre = parse_address(raw.get("centre_address", 0))
        tz = parse_offset(raw.get("utc_offset", "+08:00"))
    except ValueError as exc:
        key = "utc_offset" if "offset" in str(exc) else "centre_address"
        raise fail(key, str(exc)) from None
    connections = raw.get("max_connections", 256)
    if isinstance(connections, bool) or not isinstance(connections, int) \
            or not 1 <= connections <= 65535:
        raise fail("max_connections", f"expected a whole number 1..65535, got {connections!r}")
    dirs = raw.get("profile_dirs", [])
    if not isinstance(dirs, Sequence) or isinstance(dirs, str) or not all(
            isinstance(d, str) and d for d in dirs):
        raise fail("profile_dirs", f"expected a list of folders, got {dirs!r}")
    for d in dirs:
        if not Path(d).is_dir():
            raise fail("profile_dirs", f"{d} is not a folder; create it or remove it")
    return Gb26875Settings(
        host=host.strip(), port=port, centre_address=centre, tz=tz,
        max_clock_skew=seconds("max_clock_skew", raw.get("max_clock_skew", 600.0), "10m"),
        idle_timeout=seconds("idle_timeout", raw.get("idle_timeout", 300.0), "5m"),
        query_on_connect=_flag(raw, "query_on_connect", True),
        sync_time=_flag(raw, "sync_time", False), max_connections=connections,
        profile_dirs=tuple(Path(d) for d in dirs))
