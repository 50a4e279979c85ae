"""Household meters, e-bike charging stations and fire-alarm gateways of a simulated community.

Like the camera and safety plans, one plan feeds the inventory, the gateway config (Modbus
and DL/T 645 links and devices) and the simulators' configuration, so the right answers are
known:

- `households` households, one meter each, spread over the scenario's six buildings; the
  first 60 % on Modbus (three TCP gateways, models alternating Eastron SDM120, Chint
  DDSU666, Acrel ADW300), the rest on DL/T 645-2007 behind one TCP transparent gateway;
- every tenth meter silent, and 3 % answering garbage (`GARBAGE`): with 400 households,
  40 + 12 meters never give a valid reading, so 348 / 400 are collected;
- one 10-port charging station per compound;
- one fire-alarm gateway per building (zones 1-2 public areas, 3-4 private), all of them
  detecting hydrant, fire-door and electrical hazards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODBUS_MODELS = ("eastron_sdm120", "chint_ddsu666", "acrel_adw300")
BUILDINGS = ("north-b1", "north-b2", "south-b1", "south-b2", "east-b1", "east-b2")
COMPOUNDS = ("north", "south", "east")
#: meters answering garbage (3 % of 400), none of them among the silent tenths
GARBAGE = (7, 47, 87, 127, 167, 207, 237, 247, 287, 327, 367, 397)


@dataclass
class FieldPlan:
    households: int = 400
    modbus_share: float = 0.6
    units_per_gateway: int = 80
    meter_period_s: float = 3.0
    #: DL/T 645 meters share one slow bus: every poll of a silent meter costs a timeout and
    #: every garbage reply a drain of the line, so they are read less often (real
    #: installations read household meters every 15 minutes).
    dlt645_period_s: float = 8.0
    station_period_s: float = 1.0
    timeout_s: float = 0.3
    dead_panels: tuple[str, ...] = ()
    #: stations run charging sessions by themselves (the demo); tests drive them instead
    auto_sessions: bool = False
    #: stations run their function self-test on this simulated period (None: never), so the
    #: functions smart charging asks for show without waiting for a bike to fill up
    self_test_every_s: float | None = None
    #: filled in once the simulators listen: link name -> (host, port)
    links: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def modbus_meters(self) -> int:
        return int(self.households * self.modbus_share)

    def silent(self, n: int) -> bool:
        return n % 10 == 0

    def garbage(self, n: int) -> bool:
        return n in GARBAGE

    def collected(self) -> int:
        return sum(1 for n in range(1, self.households + 1)
                   if not self.silent(n) and not self.garbage(n))

    def _meter(self, n: int) -> dict[str, Any]:
        row: dict[str, Any] = {"id": f"meter-{n:03d}", "household": f"hh-{n:03d}",
                               "building": BUILDINGS[(n - 1) % len(BUILDINGS)]}
        if n <= self.modbus_meters:
            gw, unit = divmod(n - 1, self.units_per_gateway)
            row.update(protocol="modbus", address=f"mb{gw}/{unit + 1}",
                       profile=MODBUS_MODELS[n % len(MODBUS_MODELS)])
        else:
            row.update(protocol="dlt645", address=f"dl1/{n:012d}", profile="dlt645_2007")
        return row

    def inventory_devices(self, gateway: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for n in range(1, self.households + 1):
            m = self._meter(n)
            out.append({"id": m["id"], "kind": "meter", "building": m["building"],
                        "household": m["household"], "gateway": gateway,
                        "protocol": m["protocol"], "address": m["address"]})
        for i, compound in enumerate(COMPOUNDS, start=1):
            out.append({"id": f"charger-{compound}", "kind": "charger", "compound": compound,
                        "ports": 10, "gateway": gateway, "protocol": "modbus",
                        "address": f"ch/{i}"})
        for i, building in enumerate(BUILDINGS, start=1):
            out.append({"id": f"fire-{building}", "kind": "fire_panel", "building": building,
                        "gateway": gateway, "protocol": "modbus", "address": f"fire/{i}",
                        "zones": [{"zone": z, "building": building,
                                   "area": "public" if z <= 2 else "private"}
                                  for z in (1, 2, 3, 4)],
                        "hazards": ["hydrant", "fire_door", "electrical"]})
        return out

    def gateway_devices(self) -> list[dict[str, Any]]:
        def period(protocol: str) -> str:
            return f"{self.dlt645_period_s if protocol == 'dlt645' else self.meter_period_s}s"

        out = [{"id": m["id"], "driver": m["protocol"], "profile": m["profile"],
                "address": m["address"], "period": period(m["protocol"])}
               for m in map(self._meter, range(1, self.households + 1))]
        out += [{"id": f"charger-{c}", "driver": "modbus", "profile": "ebike_charger_10p",
                 "address": f"ch/{i}", "period": f"{self.station_period_s}s"}
                for i, c in enumerate(COMPOUNDS, start=1)]
        out += [{"id": f"fire-{b}", "driver": "modbus", "profile": "fire_alarm_gateway",
                 "address": f"fire/{i}", "period": f"{self.station_period_s}s"}
                for i, b in enumerate(BUILDINGS, start=1)]
        return out

    def driver_settings(self) -> dict[str, Any]:
        timeout = f"{self.timeout_s}s"

        def link(name: str) -> dict[str, Any]:
            host, port = self.links[name]
            return {"type": "tcp", "host": host, "port": port, "timeout": timeout}

        modbus = [n for n in self.links if n != "dl1"]
        return {"modbus": {"links": {n: link(n) for n in modbus},
                           "reconnect_min": "0.2s", "reconnect_max": "2s"},
                "dlt645": {"links": {"dl1": link("dl1")}}}

    def modbus_farm_config(self, speed: float = 60.0) -> dict[str, Any]:
        """`ModbusFarm.from_config` / `scg sim modbus` document (ports picked by the system)."""
        endpoints: dict[str, Any] = {}
        for n in range(1, self.modbus_meters + 1):
            m = self._meter(n)
            name, unit = m["address"].split("/")
            spec: dict[str, Any] = {"model": m["profile"]}
            if self.silent(n):
                spec["health"] = "dead"
            elif self.garbage(n):
                spec["health"] = "garbage"
            endpoints.setdefault(name, {"type": "tcp", "port": 0, "units": {}})
            endpoints[name]["units"][int(unit)] = spec
        station: dict[str, Any] = {"model": "ebike_charger_10p", "auto": self.auto_sessions}
        if self.self_test_every_s is not None:
            station["self_test_every"] = self.self_test_every_s
        endpoints["ch"] = {"type": "tcp", "port": 0, "units": {
            i: dict(station) for i in range(1, len(COMPOUNDS) + 1)}}
        endpoints["fire"] = {"type": "tcp", "port": 0, "units": {
            i: {"model": "fire_alarm_gateway", "zones": 4, "doors": 2,
                **({"health": "dead"} if b in self.dead_panels else {})}
            for i, b in enumerate(BUILDINGS, start=1)}}
        return {"speed": speed, "seed": 1, "endpoints": endpoints}

    def simulator_files(self) -> tuple[dict[str, Any], list[Any]]:
        """For `scg sim modbus --config` and `scg sim dlt645 --faults`: the Modbus farm (its
        endpoints on port 0: the simulator binds and reports them) and the DL/T 645 faults."""
        _, _, faults = self.dlt645_meters()
        return (self.modbus_farm_config(),
                [{"meter": a, "fault": f, "value": v} for a, f, v in faults])

    def use_links(self, modbus: dict[str, Any], dlt645: dict[str, Any]) -> None:
        """Record where the simulators listen, from their ready files (`scg sim modbus
        --ready-file`: {endpoints: {name: {host, port}}}; `scg sim dlt645`: {host, port})."""
        for name, where in modbus["endpoints"].items():
            self.links[name] = (str(where["host"]), int(where["port"]))
        self.links["dl1"] = (str(dlt645["host"]), int(dlt645["port"]))

    def dlt645_meters(self) -> tuple[str, int, list[tuple[str, str, Any]]]:
        """(first address, count, faults as (address, fault, value)) of the DL/T 645 bus."""
        first = self.modbus_meters + 1
        faults = [(f"{n:012d}", "silent", True) if self.silent(n) else
                  (f"{n:012d}", "garbage", "checksum")
                  for n in range(first, self.households + 1)
                  if self.silent(n) or self.garbage(n)]
        return f"{first:012d}", self.households - first + 1, faults
