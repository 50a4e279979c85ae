"""The `drivers.dlt645` section of the gateway config and each meter's `LINK/ADDR` address,
validated at load so a typo is reported with the key and the fix before anything runs.

    drivers:
      dlt645:
        links:                     # one request at a time on each link
          bus2: {type: serial, port: /dev/ttyUSB1, baudrate: 2400, parity: E, timeout: 2s}
          tgw:  {type: tcp, host: 192.0.2.7, port: 8899, timeout: 2s}  # transparent gateway
        reconnect_min: 0.5s        # a lost link is reopened after this, doubling ...
        reconnect_max: 30s         # ... up to this
        silent_retry_max: 5m       # a silent meter is asked again after 1, 2, 4 ... periods,
                                   # at most this far apart (never less than its period)
        wake_up: true              # lead each request with FE FE FE FE
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.base import DriverConfigError
from drivers.dlt645.codec import BROADCAST, WILDCARD

LINK_TYPES = ("serial", "tcp")
_PARITIES = {"N": "none", "E": "even", "O": "odd"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class SerialLink:
    name: str
    port: str
    baudrate: int = 2400
    bytesize: int = 8
    parity: str = "E"
    stopbits: int = 1
    timeout: float = 2.0

    def describe(self) -> str:
        return f"{self.port} {self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


@dataclass(frozen=True, slots=True)
class TcpLink:
    name: str
    host: str
    port: int
    timeout: float = 2.0

    def describe(self) -> str:
        return f"tcp://{self.host}:{self.port}"


LinkSpec = SerialLink | TcpLink


@dataclass(frozen=True, slots=True)
class Dlt645Settings:
    links: dict[str, LinkSpec]
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    silent_retry_max: float = 300.0
    wake_up: bool = True


@dataclass(frozen=True, slots=True)
class MeterAddress:
    link: str
    address: str  # 12 BCD digits, as printed on the meter

    def __str__(self) -> str:
        return f"{self.link}/{self.address}"


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def _fail(key: str, problem: str) -> DriverConfigError:
    return DriverConfigError(f"dlt645 setting {key!r}: {problem}")


def _seconds(key: str, value: Any, example: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION_RE.match(value)):
        seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    else:
        raise _fail(key, f"expected a duration such as {example} (or a number of seconds), "
                         f"got {value!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise _fail(key, f"must be longer than zero, e.g. {example}; got {value!r}")
    return seconds


def _keys(where: str, raw: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(str(k) for k in set(raw) - set(allowed))
    if unknown:
        raise DriverConfigError(f"unknown dlt645 setting(s) "
                                f"{', '.join(repr(f'{where}{k}') for k in unknown)}; known: "
                                f"{', '.join(allowed)} (check the spelling)")


def _int(key: str, value: Any, allowed: Sequence[int] | None = None, *, low: int = 1,
         high: int = 10**7) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high \
            or (allowed is not None and value not in allowed):
        choice = (f"one of {', '.join(map(str, allowed))}" if allowed
                  else f"a whole number from {low} to {high}")
        raise _fail(key, f"expected {choice}, got {value!r}")
    return value


_SERIAL_KEYS = ("type", "port", "baudrate", "bytesize", "parity", "stopbits", "timeout")
_TCP_KEYS = ("type", "host", "port", "timeout")
_KEYS = ("links", "reconnect_min", "reconnect_max", "silent_retry_max", "wake_up")


def parse_link(name: str, raw: Any) -> LinkSpec:
    where = f"links.{name}"
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise _fail(where, "a link name is letters, digits, '_', '.' or '-' (no '/'), "
                           "e.g. bus1")
    if not isinstance(raw, Mapping):
        raise _fail(where, "expected a mapping such as {type: tcp, host: 192.0.2.7, "
                           f"port: 8899, timeout: 2s}}, got {raw!r}")
    kind = raw.get("type")
    if kind not in LINK_TYPES:
        raise _fail(f"{where}.type", f"expected {' or '.join(LINK_TYPES)}, got {kind!r}")
    timeout = _seconds(f"{where}.timeout", raw.get("timeout", 2.0), "2s")
    if kind == "tcp":
        _keys(f"{where}.", raw, _TCP_KEYS)
        host = raw.get("host")
        if not isinstance(host, str) or not host.strip():
            raise _fail(f"{where}.host", f"name the transparent gateway, e.g. 192.0.2.7; "
                                         f"got {host!r}")
        port = _int(f"{where}.port", raw.get("port"), low=1, high=65535)
        return TcpLink(name, host.strip(), port, timeout)
    _keys(f"{where}.", raw, _SERIAL_KEYS)
    port_name = raw.get("port")
    if not isinstance(port_name, str) or not port_name.strip():
        raise _fail(f"{where}.port", f"name the serial device, e.g. /dev/ttyUSB0; got "
                                     f"{port_name!r}")
    parity = raw.get("parity", "E")
    if parity not in _PARITIES:
        raise _fail(f"{where}.parity", f"expected N, E or O (DL/T 645 meters use E, even); "
                                       f"got {parity!r}")
    return SerialLink(name, port_name.strip(),
                      baudrate=_int(f"{where}.baudrate", raw.get("baudrate", 2400),
                                    low=300, high=115200),
                      bytesize=_int(f"{where}.bytesize", raw.get("bytesize", 8), (7, 8)),
                      parity=parity,
                      stopbits=_int(f"{where}.stopbits", raw.get("stopbits", 1), (1, 2)),
                      timeout=timeout)


def parse_settings(raw: Mapping[str, Any] | None) -> Dlt645Settings:
    """Check the settings mapping; DriverConfigError names the key, what is wrong, the fix."""
    if raw is not None and not isinstance(raw, Mapping):
        raise DriverConfigError("the dlt645 driver settings must be a mapping such as "
                                "{links: {tgw: {type: tcp, host: 192.0.2.7, port: 8899}}}, "
                                f"got {raw!r}")
    raw = dict(raw or {})
    _keys("", raw, _KEYS)
    links_raw = raw.get("links")
    if not isinstance(links_raw, Mapping) or not links_raw:
        raise _fail("links", "name at least one link, e.g. links: {tgw: {type: tcp, host: "
                             f"192.0.2.7, port: 8899}}}}; got {links_raw!r}")
    links = {str(n): parse_link(n, spec) for n, spec in links_raw.items()}
    seen: dict[str, str] = {}
    for link in links.values():
        where = link.port if isinstance(link, SerialLink) else f"{link.host}:{link.port}"
        if where in seen:
            raise _fail(f"links.{link.name}", f"{where} is also link {seen[where]}; one "
                                              "device or gateway port is one link")
        seen[where] = link.name
    low = _seconds("reconnect_min", raw.get("reconnect_min", 0.5), "0.5s")
    high = _seconds("reconnect_max", raw.get("reconnect_max", 30.0), "30s")
    if low > high:
        raise _fail("reconnect_min", f"{low:g} s is more than reconnect_max ({high:g} s)")
    silent = _seconds("silent_retry_max", raw.get("silent_retry_max", 300.0), "5m")
    wake_up = raw.get("wake_up", True)
    if not isinstance(wake_up, bool):
        raise _fail("wake_up", f"expected true or false, got {wake_up!r}")
    return Dlt645Settings(links, low, high, silent, wake_up)


def parse_meter_address(text: Any, links: Mapping[str, LinkSpec]) -> MeterAddress:
    """`tgw/000012345678`: a configured link and the meter's 12-digit address."""
    example = f"{next(iter(links), 'tgw')}/000012345678"
    if not isinstance(text, str) or text.count("/") != 1:
        raise ValueError(f"address {text!r} must be LINK/ADDR, e.g. {example}")
    link, address = (part.strip() for part in text.split("/"))
    if link not in links:
        raise ValueError(f"address {text!r}: there is no link {link!r}; configured links: "
                         f"{', '.join(links)}")
    if len(address) != 12 or not address.isdigit() or not address.isascii():
        hint = (" (pad with leading zeros to 12 digits)"
                if address.isdigit() and len(address) < 12 else "")
        raise ValueError(f"address {text!r}: the meter address must be the 12 digits printed "
                         f"on the meter, e.g. {example}{hint}")
    if address in (BROADCAST, WILDCARD):
        raise ValueError(f"address {text!r}: {address} is the broadcast address, not a meter")
    return MeterAddress(link, address)
