"""A simulated community described once, written out as the files real users write.

The demo and the end-to-end tests both need a community whose inventory (central) and
gateway config (edge) agree on device ids and addresses; this module writes the two
YAML files from one description, so neither side is special-cased for simulation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scg.camera_plan import CameraPlan
from scg.field_plan import FieldPlan
from scg.gb26875_plan import Gb26875Plan
from scg.safety_plan import SafetyPlan

LIGHT_CAPABILITIES = ["dimming", "remote_control", "fault_report"]


@dataclass(frozen=True)
class Endpoint:
    """A broker and the account to log in with: the password inline (the device side, as
    a site's device broker config has it) or in a file (the uplink, as `scg broker
    config` hands it to the installer)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_file: Path | None = None

    def login(self) -> dict[str, Any]:
        """The login keys of a gateway config section (none for an anonymous broker)."""
        keys: dict[str, Any] = {}
        if self.username is not None:
            keys["username"] = self.username
        if self.password_file is not None:
            keys["password_file"] = str(self.password_file)
        elif self.password is not None:
            keys["password"] = self.password
        return keys


@dataclass
class CommunityScenario:
    """`lights` public street lights, the first `controllers` of them with a controller, and
    optionally the cameras of a `CameraPlan` (their URLs are known once the simulator runs)."""

    community: str = "demo"
    name: str = "演示社区"
    district: str = "370102"
    gateway: str = "demo-gw1"
    lights: int = 120
    controllers: int = 100
    period_s: float = 5.0
    prefix: str = "scg-sim/lights"
    compounds: list[str] = field(default_factory=lambda: ["north", "south", "east"])
    cameras: CameraPlan | None = None
    safety: SafetyPlan | None = None
    field_devices: FieldPlan | None = None
    fire_transmission: Gb26875Plan | None = None
    #: building rows in place of two per compound (`{c}-b1`, `{c}-b2`), for a test that
    #: needs its own
    buildings: list[dict[str, Any]] | None = None
    #: serve the gateway's Prometheus metrics on 127.0.0.1 at this port (None: not served)
    metrics_port: int | None = None

    def light_id(self, n: int) -> str:
        return f"light-{n:03d}"

    @property
    def all_lights(self) -> list[str]:
        return [self.light_id(n) for n in range(1, self.lights + 1)]

    @property
    def controlled_lights(self) -> list[str]:
        return [self.light_id(n) for n in range(1, self.controllers + 1)]

    def inventory(self, camera_urls: dict[str, str] | None = None) -> dict[str, Any]:
        names = {"north": "北苑", "south": "南苑", "east": "东苑", "west": "西苑"}
        compounds = [{"id": c, "name": names.get(c, c), "closed": True, "ebikes": True}
                     for c in self.compounds]
        buildings = self.buildings if self.buildings is not None else [
            {"id": f"{c}-b{i}", "compound": c, "floors": 6 + 6 * i, "residential": True,
             "attrs": {"name": f"{names.get(c, c)}{i}号楼"}}
            for c in self.compounds for i in (1, 2)]
        devices: list[dict[str, Any]] = []
        for n in range(1, self.lights + 1):
            dev: dict[str, Any] = {"id": self.light_id(n), "kind": "light",
                                   "compound": self.compounds[n % len(self.compounds)],
                                   "public": True}
            if n <= self.controllers:
                dev.update(gateway=self.gateway, protocol="mqtt", address=self.light_id(n),
                           capabilities=list(LIGHT_CAPABILITIES))
            devices.append(dev)
        doc: dict[str, Any] = {
            "community": {"id": self.community, "name": self.name, "district": self.district},
            "compounds": compounds, "buildings": buildings}
        if self.cameras is not None:
            doc["community"]["boundary"] = self.cameras.boundary
            doc["key_positions"] = self.cameras.key_positions
            devices += self.cameras.inventory_devices(self.gateway, camera_urls or {})
        if self.safety is not None:
            doc["community"]["lone_elderly"] = self.safety.lone_elderly
            devices += self.safety.inventory_devices(self.gateway)
            doc["residents"] = self.safety.residents()
        if self.field_devices is not None:
            doc["community"]["households"] = self.field_devices.households
            devices += self.field_devices.inventory_devices(self.gateway)
        if self.fire_transmission is not None:
            devices += self.fire_transmission.inventory_devices(self.gateway)
        doc["devices"] = devices
        return doc

    def gateway_config(self, uplink: Endpoint, device_broker: Endpoint, spool_path: Path,
                       camera_urls: dict[str, str] | None = None,
                       camera_password_file: Path | None = None) -> dict[str, Any]:
        drivers: dict[str, Any] = {}
        devices: list[dict[str, Any]] = [
            {"id": d, "driver": "mqtt", "profile": "street_light", "address": d,
             "period": f"{self.period_s}s"} for d in self.controlled_lights]
        rules: list[dict[str, Any]] = []
        if self.safety is not None:
            devices += self.safety.gateway_devices()
            rules = self.safety.rules()
        if devices:
            drivers["mqtt"] = {"host": device_broker.host, "port": device_broker.port,
                               **device_broker.login()}
        if self.cameras is not None:
            drivers["onvif"] = self.cameras.driver_settings()
            devices += self.cameras.gateway_devices(camera_urls or {}, camera_password_file)
        if self.field_devices is not None:
            drivers.update(self.field_devices.driver_settings())
            devices += self.field_devices.gateway_devices()
        if self.fire_transmission is not None:
            drivers.update(self.fire_transmission.driver_settings())
            devices += self.fire_transmission.gateway_devices()
        config: dict[str, Any] = {
            "community": self.community,
            "gateway": self.gateway,
            "uplink": {"host": uplink.host, "port": uplink.port, **uplink.login(),
                       "reconnect_min": 0.2, "reconnect_max": 2},
            "spool": {"path": str(spool_path), "max_bytes": "64MiB"},
            "health": {"failures_to_offline": 3},
            "drivers": drivers,
            "devices": devices,
        }
        if rules:
            config["rules"] = rules
        if self.metrics_port is not None:
            config["metrics"] = {"host": "127.0.0.1", "port": self.metrics_port}
        return config

    def write(self, folder: Path, uplink: Endpoint, device_broker: Endpoint,
              camera_urls: dict[str, str] | None = None) -> tuple[Path, Path]:
        """Write inventory.yaml and gateway.yaml into `folder`; return their paths.

        The inventory holds residents and camera logins in plain text, as an operator's
        does: it is written readable by its owner only. The cameras' password goes into
        camera.password (0600), which gateway.yaml names instead of the password."""
        folder.mkdir(parents=True, exist_ok=True)
        inventory = folder / "inventory.yaml"
        gateway = folder / "gateway.yaml"
        header = "# Written by scg from a simulated community; edit freely.\n"
        _write_private(inventory, header + yaml.safe_dump(
            self.inventory(camera_urls), allow_unicode=True, sort_keys=False))
        password_file = None
        if self.cameras is not None:
            password_file = folder.absolute() / "camera.password"
            _write_private(password_file, self.cameras.password + "\n")
        gateway.write_text(header + yaml.safe_dump(
            self.gateway_config(uplink, device_broker, folder / "spool.sqlite", camera_urls,
                                password_file),
            allow_unicode=True, sort_keys=False))
        return inventory, gateway


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by its owner only (mode 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
