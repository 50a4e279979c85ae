"""Load and validate the gateway's YAML config into frozen dataclasses.

Every mistake is reported with the file, the line, the key path and the fix, all of them
at once in one ConfigError, so an installer fixes a config in one pass. Unknown keys are
errors: a typo must not silently fall back to a default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from drivers.base import DeviceSpec
from gateway import configread as cr
from gateway.configread import parse_duration, parse_size
from gateway.errors import ConfigError
from gateway.registry import UnknownDriver, find_driver
from gateway.rules import RuleSpec, parse_rules
from gateway.uplinkconfig import UplinkConfig, UplinkTls, parse_uplink
from telemetry.topics import TopicError, check_id

__all__ = ["ConfigError", "GatewayConfig", "HealthConfig", "MetricsConfig", "SpoolConfig",
           "UplinkConfig", "UplinkTls", "load_config", "parse_config", "parse_duration",
           "parse_size"]


@dataclass(frozen=True, slots=True)
class SpoolConfig:
    path: Path
    max_bytes: int = 256 * 1024 * 1024
    batch_items: int = 500
    max_inflight: int = 20


@dataclass(frozen=True, slots=True)
class HealthConfig:
    failures_to_offline: int = 3


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """Where the gateway answers Prometheus's GET /metrics (`gateway.metrics`)."""

    port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """A validated gateway config. `drivers` holds the settings section of each driver
    named in the config (absent sections are empty); `source` is the file it came from."""

    source: Path
    community: str
    gateway: str
    uplink: UplinkConfig
    spool: SpoolConfig
    health: HealthConfig
    drivers: Mapping[str, Mapping[str, Any]]
    devices: tuple[DeviceSpec, ...]
    rules: tuple[RuleSpec, ...] = ()
    #: None: no metrics served (the default)
    metrics: MetricsConfig | None = None

    def devices_by_driver(self) -> dict[str, list[DeviceSpec]]:
        """Devices grouped by driver name, in config order."""
        grouped: dict[str, list[DeviceSpec]] = {}
        for device in self.devices:
            grouped.setdefault(device.driver, []).append(device)
        return grouped


# ---------------------------------------------------------------- values

_DEVICE_ID_MAX = 128  # telemetry.Limits.max_id_length: ingest rejects longer ids


def _topic_id(what: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        try:
            return check_id(value, what)
        except TopicError as exc:
            raise cr.Bad(f"is not usable in MQTT topics: {exc}") from None
    return parse


def _device_id(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise cr.Bad(f"must be text, got the number {value!r}; quote it, e.g. '{value}'")
    name = cr.text(value)
    if len(name) > _DEVICE_ID_MAX:
        raise cr.Bad(f"is {len(name)} characters long; use at most {_DEVICE_ID_MAX}")
    bad = [c for c in name if c in "/+#" or c.isspace() or not c.isprintable()]
    if bad:
        raise cr.Bad(f"{name!r} cannot be an MQTT topic level: remove "
                     f"{''.join(sorted(set(bad)))!r} (no '/', '+', '#', spaces or control "
                     "characters)")
    return name


# ---------------------------------------------------------------- the config

_TOP = ("community", "gateway", "uplink", "spool", "health", "drivers", "devices", "rules",
        "metrics")
_UNLISTED_TOP = ("rules", "metrics")  # a config is complete without them
_METRICS = ("host", "port")
_SPOOL = ("path", "max_bytes", "batch_items", "max_inflight")
_HEALTH = ("failures_to_offline",)
_DEVICE = ("id", "driver", "profile", "address", "period", "options")
_MIN_SPOOL_BYTES = 1024 * 1024


def load_config(path: str | Path) -> GatewayConfig:
    """Read and validate the gateway config at `path`; raise ConfigError listing every problem."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [f"cannot read the file: {exc.strerror or exc}; check the "
                                   "path given with --config"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, [f"the file is not UTF-8 text ({exc}); save it as UTF-8"]) \
            from None
    return parse_config(text, source)


def parse_config(text: str, source: Path) -> GatewayConfig:
    """Validate config `text` as if read from `source` (relative paths resolve beside it)."""
    try:
        doc = cr.load_yaml(text)
    except cr.YamlSyntaxError as exc:
        raise ConfigError(source, [str(exc)]) from None
    problems = cr.Problems()
    if not isinstance(doc, dict):
        raise ConfigError(source, [f"the file must hold a mapping with keys "
                                   f"{', '.join(k for k in _TOP if k not in _UNLISTED_TOP)}, "
                                   f"got {cr.describe(doc) if doc is not None else 'nothing'}"])
    top = cr.Section(doc, "", 1, problems, _TOP)
    community = top.required("community", _topic_id("community"), "x", "demo")
    gateway = top.required("gateway", _topic_id("gateway"), "x", "demo-gw1")

    uplink = parse_uplink(top, source, problems, community, gateway)

    sp = top.section("spool", _SPOOL, required=True,
                     example="{path: /var/lib/scg/spool.sqlite}")
    spool_path = sp.required("path", cr.text, "spool.sqlite", "/var/lib/scg/spool.sqlite")
    max_bytes = sp.optional("max_bytes", parse_size, 256 * 1024 * 1024)
    if max_bytes < _MIN_SPOOL_BYTES:
        problems.add(sp.line_of("max_bytes"), sp.key_path("max_bytes"),
                     f"`max_bytes` must be at least 1MiB (the spool must hold more than one "
                     f"envelope), got {sp.data.get('max_bytes')!r}")
    spool = SpoolConfig(
        path=(source.parent / Path(spool_path).expanduser()).absolute(),
        max_bytes=max_bytes,
        # ingest accepts at most 10 000 items per envelope (telemetry.Limits.max_items)
        batch_items=sp.optional("batch_items", cr.int_between(1, 10_000), 500),
        max_inflight=sp.optional("max_inflight", cr.int_between(1, 1000), 20),
    )

    he = top.section("health", _HEALTH, required=False)
    health = HealthConfig(
        failures_to_offline=he.optional("failures_to_offline", cr.int_between(1, 1000), 3))

    metrics = _metrics(top)
    driver_settings = _driver_sections(top, problems)
    devices = _devices(top, problems, gateway)
    _check_drivers(top, problems, driver_settings, devices)
    rules = parse_rules(top, problems, devices)
    settings = {d.driver: driver_settings.get(d.driver, {}) for d in devices}
    settings.update(driver_settings)

    if problems.items:
        raise ConfigError(source, problems.items)
    return GatewayConfig(
        source=source, community=community, gateway=gateway, uplink=uplink, spool=spool,
        health=health,
        drivers=MappingProxyType({k: MappingProxyType(v) for k, v in settings.items()}),
        devices=tuple(devices), rules=rules, metrics=metrics)


def _metrics(top: cr.Section) -> MetricsConfig | None:
    """`metrics: {host, port}`: absent, no metrics are served."""
    if top.data.get("metrics") is None:
        top.section("metrics", _METRICS, required=False)  # reports a value that is no mapping
        return None
    me = top.section("metrics", _METRICS, required=False)
    port = me.required("port", cr.int_between(1, 65535), 0, "9102")
    host = me.optional("host", cr.text, "127.0.0.1")
    return MetricsConfig(port=port, host=host.strip()) if port else None


def _driver_sections(top: cr.Section, problems: cr.Problems) -> dict[str, dict[str, Any]]:
    value = top.data.get("drivers")
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(top.line_of("drivers"), "drivers", "`drivers` must be a mapping of "
                     f"driver name to its settings, e.g. `mqtt: {{host: 127.0.0.1}}`, got "
                     f"{cr.describe(value)}")
        return {}
    lines: dict[Any, int] = getattr(value, "lines", {})
    sections: dict[str, dict[str, Any]] = {}
    for name, settings in value.items():
        if not isinstance(settings, dict) and settings is not None:
            problems.add(lines.get(name), f"drivers.{name}", f"the settings of driver "
                         f"`{name}` must be a mapping of key: value, got "
                         f"{cr.describe(settings)}")
            continue
        sections[str(name)] = cr.plain(settings or {})
    return sections


def _devices(top: cr.Section, problems: cr.Problems, gateway: str) -> list[DeviceSpec]:
    value = top.data.get("devices")
    if value is None:
        problems.add(top.line_of("devices"), "devices", "`devices` is missing; add a list of "
                     "devices, e.g. `devices: [{id: light-001, driver: mqtt, profile: "
                     "street_light, address: light-001, period: 10s}]`")
        return []
    if not isinstance(value, list):
        problems.add(top.line_of("devices"), "devices", f"`devices` must be a list (each entry "
                     f"starting with '- id: ...'), got {cr.describe(value)}")
        return []
    devices: list[DeviceSpec] = []
    first_use: dict[str, tuple[str, int | None]] = {}
    for index, entry in enumerate(value):
        path = f"devices[{index}]"
        if not isinstance(entry, dict):
            problems.add(top.line_of("devices"), path, f"each device must be a mapping with "
                         f"keys {', '.join(_DEVICE[:5])}, got {cr.describe(entry)}")
            continue
        dev = cr.Section(entry, path, None, problems, _DEVICE)
        device_id = dev.required("id", _device_id, "", "light-001")
        devices.append(DeviceSpec(
            id=device_id,
            driver=dev.required("driver", cr.text, "", "mqtt"),
            profile=dev.required("profile", cr.text, "", "street_light"),
            address=dev.required("address", cr.text, "", device_id or "light-001"),
            period=timedelta(seconds=dev.required("period", parse_duration, 1.0, "10s")),
            options=cr.plain(dev.optional("options", cr.mapping, dict[str, Any]())),
        ))
        if device_id and device_id == gateway:
            problems.add(dev.line_of("id"), f"{path}.id", f"`id` {device_id!r} is the gateway's "
                         "own id, which its self-readings (spool size, uplink) use; rename "
                         "the device")
        elif device_id in first_use:
            other, line = first_use[device_id]
            problems.add(dev.line_of("id"), f"{path}.id", f"`id` {device_id!r} is already used "
                         f"by {other}{f' (line {line})' if line else ''}; device ids must be "
                         "unique within a gateway")
        elif device_id:
            first_use[device_id] = (path, dev.line_of("id"))
    return devices


def _check_drivers(top: cr.Section, problems: cr.Problems, sections: dict[str, dict[str, Any]],
                   devices: list[DeviceSpec]) -> None:
    """Every driver named must be importable; report each unknown name once, where it first
    appears, with how many devices use it."""
    users: dict[str, int] = {}
    for spec in devices:
        if spec.driver:
            users[spec.driver] = users.get(spec.driver, 0) + 1
    drivers_lines: dict[Any, int] = getattr(top.data.get("drivers"), "lines", {})
    entries = top.data.get("devices")
    for name in dict.fromkeys([*sections, *users]):
        try:
            find_driver(name)
        except UnknownDriver as exc:
            if name in sections:
                line, path = drivers_lines.get(name), f"drivers.{name}"
            else:
                line, path = _first_use(entries, name)
            count = users.get(name, 0)
            using = "" if not count else \
                " (1 device names it)" if count == 1 else f" ({count} devices name it)"
            problems.add(line, path, f"{exc}{using}")


def _first_use(entries: Any, name: str) -> tuple[int | None, str]:
    """Line and key path of the first device entry naming driver `name`."""
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and entry.get("driver") == name:
            return getattr(entry, "lines", {}).get("driver"), f"devices[{index}].driver"
    return None, "devices"


#END
