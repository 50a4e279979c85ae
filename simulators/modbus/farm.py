"""A described set of simulated Modbus devices (from YAML, for `scg sim modbus` and demos):
endpoints with their units, and faults on a schedule (a unit dies, a charger smells smoke,
a zone goes into fire, an endpoint is power-cycled), each optionally undone after a while.

    speed: 60                      # simulated seconds per real second (sessions, kWh)
    seed: 1
    endpoints:
      gw2:  {type: tcp, host: 127.0.0.1, port: 5020,
             units: {1: {model: ebike_charger_10p, auto: true}, 2: {model: fire_alarm_gateway}}}
      bus1: {type: rtu, port: /tmp/scg-bus1,                 # the path the gateway opens
             units: {"3-9": {model: eastron_sdm120}, 10: {model: chint_ddsu666, health: dead}}}
      gw3:  {type: rtu_over_tcp, host: 127.0.0.1, port: 4001,
             units: {1: {model: acrel_adw300}}}
    faults:
      - {at: 30s, endpoint: bus1, unit: 3, health: dead, duration: 20s}
      - {at: 10s, endpoint: gw2, unit: 1, alarm: smoke, duration: 30s}
      - {at: 12s, endpoint: gw2, unit: 1, port_fault: 4, duration: 60s}
      - {at: 20s, endpoint: gw2, unit: 2, zone: 3, flag: fire, duration: 30s}
      - {at: 40s, endpoint: gw2, power_off: 5s}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import yaml

from simulators.modbus.charger import ALARM_BITS, ChargingStation
from simulators.modbus.device import Health, SimDevice
from simulators.modbus.fire import ZONE_FLAGS, FireAlarmGateway
from simulators.modbus.lighting import FAULT_BITS, LightController
from simulators.modbus.meters import (
    AcrelAdw300,
    ChintDdsu666,
    ChintDtsu666,
    EastronSdm120,
    EastronSdm630,
)
from simulators.modbus.server import Endpoint, SerialBus, TcpEndpoint

log = logging.getLogger(__name__)

MODELS: Final[dict[str, type[SimDevice]]] = {
    cls.model: cls for cls in (EastronSdm120, EastronSdm630, ChintDdsu666, ChintDtsu666,
                               AcrelAdw300, ChargingStation, FireAlarmGateway,
                               LightController)}
#: options each model's constructor takes from the YAML
MODEL_OPTIONS: Final[dict[str, tuple[str, ...]]] = {
    **{m: ("base_w", "import_kwh") for m in ("eastron_sdm120", "eastron_sdm630",
                                              "chint_ddsu666", "chint_dtsu666",
                                              "acrel_adw300")},
    "ebike_charger_10p": ("ports", "auto", "self_test_every"),
    "fire_alarm_gateway": ("zones", "doors"),
    "street_light_controller": ("rated_w", "energy_kwh"),
}
_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_FAULT_KINDS: Final = ("health", "alarm", "port_fault", "zone", "door", "pressure",
                       "residual", "light_fault", "power_off")


@dataclass(frozen=True, slots=True)
class Fault:
    """Something that happens `at` seconds after start; `undo` runs `duration` later."""

    at: float
    describe: str
    do: Callable[[], Any]
    undo: Callable[[], Any] | None = None
    duration: float | None = None


class ModbusFarm:
    """Endpoints and their scheduled faults. `start()` / `stop()`, or `async with`."""

    def __init__(self, endpoints: dict[str, Endpoint], faults: list[Fault] | None = None) -> None:
        self.endpoints = endpoints
        self.faults = sorted(faults or [], key=lambda f: f.at)
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_file(cls, path: str | Path) -> ModbusFarm:
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read the device description: {exc}") from None
        return cls.from_config(doc, source=str(path))

    @classmethod
    def from_config(cls, doc: Any, *, source: str = "config") -> ModbusFarm:
        return _Parser(source).farm(doc)

    def endpoint(self, name: str) -> Endpoint:
        if name not in self.endpoints:
            raise ValueError(f"no endpoint {name!r}; endpoints: {', '.join(self.endpoints)}")
        return self.endpoints[name]

    def unit(self, endpoint: str, unit: int) -> SimDevice:
        return self.endpoint(endpoint).unit(unit)

    async def start(self) -> None:
        started: list[Endpoint] = []
        try:
            for endpoint in self.endpoints.values():
                await endpoint.start()
                started.append(endpoint)
        except BaseException:
            for endpoint in started:
                await endpoint.stop()
            raise
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for fault in self.faults:
            self._tasks.append(asyncio.create_task(self._run_fault(fault, t0)))

    async def _run_fault(self, fault: Fault, t0: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, t0 + fault.at - loop.time()))
        log.info("fault at %gs: %s", fault.at, fault.describe)
        result = fault.do()
        if asyncio.iscoroutine(result):
            await result
        if fault.undo is not None and fault.duration is not None:
            await asyncio.sleep(fault.duration)
            log.info("fault undone after %gs: %s", fault.duration, fault.describe)
            result = fault.undo()
            if asyncio.iscoroutine(result):
                await result

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for endpoint in self.endpoints.values():
            await endpoint.stop()

    def listening(self) -> dict[str, dict[str, Any]]:
        """Where each endpoint listens (ports as bound, when the description said 0)."""
        out: dict[str, dict[str, Any]] = {}
        for name, ep in self.endpoints.items():
            if isinstance(ep, TcpEndpoint):
                out[name] = {"type": ep.kind, "host": ep.host, "port": ep.port}
            elif isinstance(ep, SerialBus):
                out[name] = {"type": ep.kind, "port": ep.client_port}
        return out

    def describe(self) -> list[str]:
        """One line per endpoint: where it listens and which units answer there."""
        lines = []
        for name, ep in self.endpoints.items():
            units = ", ".join(f"{u}={d.model}{'' if d.health is Health.OK else f' ({d.health})'}"
                              for u, d in sorted(ep.units.items()))
            lines.append(f"{name}: {ep.describe()} units {units}")
        return lines

    async def __aenter__(self) -> ModbusFarm:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()


class _Parser:
    """Builds a farm from its YAML, failing with the key path and the fix."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> ValueError:
        return ValueError(f"{self.source}: {where}: {problem}")

    def mapping(self, value: Any, where: str, allowed: tuple[str, ...] | None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping, got {value!r}")
        if allowed is not None:
            unknown = sorted(set(map(str, value)) - set(allowed))
            if unknown:
                raise self.fail(where, f"unknown key(s) {', '.join(unknown)}; allowed: "
                                       f"{', '.join(allowed)}")
        return value

    def seconds(self, value: Any, where: str) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
        if isinstance(value, str) and (m := _DURATION.match(value)):
            return float(m.group(1)) * _SECONDS[m.group(2)]
        raise self.fail(where, f"expected a duration such as 30s or 5m, got {value!r}")

    def farm(self, doc: Any) -> ModbusFarm:
        top = self.mapping(doc, "(top level)", ("speed", "seed", "endpoints", "faults"))
        speed = top.get("speed", 1.0)
        if isinstance(speed, bool) or not isinstance(speed, int | float) or speed <= 0:
            raise self.fail("speed", f"must be a positive number, got {speed!r}")
        seed = top.get("seed", 0)
        endpoints_raw = self.mapping(top.get("endpoints"), "endpoints", None)
        if not endpoints_raw:
            raise self.fail("endpoints", "list at least one endpoint")
        endpoints = {str(name): self.endpoint(str(name), raw, float(speed), seed)
                     for name, raw in endpoints_raw.items()}
        faults_raw = top.get("faults") or []
        if not isinstance(faults_raw, list):
            raise self.fail("faults", f"must be a list, got {faults_raw!r}")
        faults = [self.fault(raw, f"faults[{i}]", endpoints) for i, raw in enumerate(faults_raw)]
        return ModbusFarm(endpoints, faults)

    def endpoint(self, name: str, raw: Any, speed: float, seed: Any) -> Endpoint:
        where = f"endpoints.{name}"
        ep = self.mapping(raw, where, ("type", "host", "port", "baudrate", "parity",
                                       "stopbits", "units"))
        units_raw = self.mapping(ep.get("units"), f"{where}.units", None)
        units: dict[int, SimDevice] = {}
        for key, spec in units_raw.items():
            for unit in self.unit_ids(key, f"{where}.units"):
                if unit in units:
                    raise self.fail(f"{where}.units", f"unit {unit} is listed twice")
                units[unit] = self.device(spec, f"{where}.units.{key}", speed,
                                          f"{seed}:{name}:{unit}")
        kind = ep.get("type")
        if kind in ("tcp", "rtu_over_tcp"):
            port = ep.get("port", 502 if kind == "tcp" else 0)
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536:
                raise self.fail(f"{where}.port", f"must be a TCP port (0: any free one), got "
                                                 f"{port!r}")
            return TcpEndpoint(units, host=str(ep.get("host", "127.0.0.1")), port=port,
                               rtu=kind == "rtu_over_tcp")
        if kind == "rtu":
            port = ep.get("port")
            if port is not None and not isinstance(port, str):
                raise self.fail(f"{where}.port", "must be the path the gateway opens, e.g. "
                                                 f"/tmp/scg-bus1; got {port!r}")
            return SerialBus(units, client_port=port, baudrate=int(ep.get("baudrate", 9600)),
                             parity=str(ep.get("parity", "N")),
                             stopbits=int(ep.get("stopbits", 1)))
        raise self.fail(f"{where}.type", f"must be tcp, rtu_over_tcp or rtu, got {kind!r}")

    def unit_ids(self, key: Any, where: str) -> list[int]:
        text = str(key)
        first, _, last = text.partition("-")
        if first.strip().isdigit() and (not last or last.strip().isdigit()):
            low, high = int(first), int(last or first)
            if 1 <= low <= high <= 247:
                return list(range(low, high + 1))
        raise self.fail(where, f"unit {key!r} must be an id 1..247 or a range such as 3-9")

    def device(self, raw: Any, where: str, speed: float, seed: str) -> SimDevice:
        spec = self.mapping(raw, where, None)
        model = spec.get("model")
        if model not in MODELS:
            raise self.fail(f"{where}.model", f"unknown model {model!r}; known: "
                                              f"{', '.join(MODELS)}")
        allowed = ("model", "health", "exception_code", *MODEL_OPTIONS[model])
        self.mapping(spec, where, allowed)
        options = {k: spec[k] for k in MODEL_OPTIONS[model] if k in spec}
        if "self_test_every" in options:
            options["self_test_every"] = self.seconds(options["self_test_every"],
                                                      f"{where}.self_test_every")
        try:
            device = MODELS[model](speed=speed, seed=seed, **options)
        except (TypeError, ValueError) as exc:
            raise self.fail(where, str(exc)) from None
        self.set_health(device, spec.get("health", "ok"), spec.get("exception_code", 4), where)
        return device

    def set_health(self, device: SimDevice, health: Any, code: Any, where: str) -> None:
        if health == "ok":
            device.revive()
        elif health == "dead":
            device.kill()
        elif health == "exception":
            device.fail_with(int(code))
        elif health == "garbage":
            device.send_garbage()
        else:
            raise self.fail(f"{where}.health", f"must be ok, dead, exception or garbage, got "
                                               f"{health!r}")

    def fault(self, raw: Any, where: str, endpoints: dict[str, Endpoint]) -> Fault:
        f = self.mapping(raw, where, ("at", "duration", "endpoint", "unit", "flag", "on",
                                      "exception_code", *_FAULT_KINDS))
        at = self.seconds(f.get("at", 0), f"{where}.at")
        duration = self.seconds(f["duration"], f"{where}.duration") if "duration" in f else None
        name = str(f.get("endpoint"))
        if name not in endpoints:
            raise self.fail(f"{where}.endpoint", f"{name!r} is not among the endpoints "
                                                 f"({', '.join(endpoints)})")
        ep = endpoints[name]
        kinds = [k for k in _FAULT_KINDS if k in f]
        if len(kinds) != 1:
            raise self.fail(where, f"give exactly one of {', '.join(_FAULT_KINDS)}")
        kind = kinds[0]
        if kind == "power_off":
            if not isinstance(ep, TcpEndpoint):
                raise self.fail(where, "power_off needs a tcp or rtu_over_tcp endpoint")
            off = self.seconds(f["power_off"], f"{where}.power_off")
            return Fault(at, f"{name} powered off for {off:g}s", ep.stop, ep.start, off)
        unit = f.get("unit")
        if unit not in ep.units:
            raise self.fail(f"{where}.unit", f"{unit!r} is not a unit of {name} "
                                             f"({sorted(ep.units)})")
        device = ep.units[unit]
        label = f"{name}/{unit}"
        return self.unit_fault(kind, f, device, label, at, duration, where)

    def unit_fault(self, kind: str, f: dict[str, Any], device: SimDevice, label: str,
                   at: float, duration: float | None, where: str) -> Fault:
        value = f[kind]
        if kind == "health":
            def do() -> None:
                self.set_health(device, value, f.get("exception_code", 4), where)
            return Fault(at, f"{label} {value}", do, device.revive, duration)
        if kind == "alarm" and isinstance(device, ChargingStation) and value in ALARM_BITS:
            return Fault(at, f"{label} alarm {value}", lambda: device.set_alarm(value, True),
                         lambda: device.set_alarm(value, False), duration)
        if kind == "port_fault" and isinstance(device, ChargingStation):
            return Fault(at, f"{label} port {value} fault",
                         lambda: device.set_port_fault(int(value), True),
                         lambda: device.set_port_fault(int(value), False), duration)
        if kind == "zone" and isinstance(device, FireAlarmGateway) and f.get("flag") in ZONE_FLAGS:
            flag = f["flag"]
            return Fault(at, f"{label} zone {value} {flag}",
                         lambda: device.set_zone(int(value), flag, True),
                         lambda: device.set_zone(int(value), flag, False), duration)
        if kind == "door" and isinstance(device, FireAlarmGateway):
            return Fault(at, f"{label} door {value} open",
                         lambda: device.set_door(int(value), True),
                         lambda: device.set_door(int(value), False), duration)
        if kind == "pressure" and isinstance(device, FireAlarmGateway):
            before = device.hydrant_mpa
            return Fault(at, f"{label} hydrant pressure {value} MPa",
                         lambda: device.set_pressure(float(value)),
                         lambda: device.set_pressure(before), duration)
        if kind == "residual" and isinstance(device, FireAlarmGateway):
            before_ma = device.residual_ma
            return Fault(at, f"{label} residual current {value} mA",
                         lambda: device.set_residual_current(float(value)),
                         lambda: device.set_residual_current(before_ma), duration)
        if kind == "light_fault" and isinstance(device, LightController) and value in FAULT_BITS:
            return Fault(at, f"{label} {value} fault", lambda: device.set_fault(value, True),
                         lambda: device.set_fault(value, False), duration)
        raise self.fail(where, f"{kind}: {value!r} does not apply to a {device.model} "
                               "(alarm/port_fault: chargers; zone+flag/door/pressure/residual: "
                               "fire gateways; light_fault: light controllers)")
