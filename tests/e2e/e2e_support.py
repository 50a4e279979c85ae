"""A whole community for end-to-end tests: brokers, PostgreSQL and scg processes.

The simulated devices run in this test process (a thread with its own event loop) so a
test can silence them and read exactly what the broker acknowledged; everything else
is a real `scg …` child process, so killing ingest kills a real process.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

from scg.camera_plan import START_FAULTS, START_TAMPER
from scg.field_plan import FieldPlan
from scg.localsvc.process import free_port
from scg.safety_plan import SafetyPlan
from scg.scenario import CommunityScenario, Endpoint
from scg.stack import Stack, psql_rows
from simulators.dlt645 import MeterBus, TcpGateway, make_meters
from simulators.lights import Fleet, make_lights
from simulators.modbus import ModbusFarm
from simulators.onvif import CameraFarm, CameraSpec, Fault
from simulators.safety import SafetyFleet
from simulators.safety.config import parse_devices

T = TypeVar("T")


def wait_until(cond: Callable[[], T], what: str, timeout: float = 30.0,
               interval: float = 0.1) -> T:
    """Poll `cond` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value {last!r}")


def wait_progressing(cond: Callable[[], object], progress: Callable[[], object], what: str,
                     stall: float = 20.0, limit: float = 300.0, interval: float = 0.5) -> None:
    """Poll `cond` until it holds, for as long as `progress()` keeps changing: work whose
    pace depends on the machine's load gets the time it needs, while work that is stuck
    fails after `stall` seconds without change (and anything after `limit` seconds)."""
    start = moved = time.monotonic()
    seen = progress()
    while not cond():
        now = time.monotonic()
        current = progress()
        if current != seen:
            seen, moved = current, now
        elif now - moved > stall:
            raise AssertionError(f"no progress for {stall} s waiting for {what}; progress "
                                 f"stuck at {current!r}")
        if now - start > limit:
            raise AssertionError(f"timed out after {limit} s waiting for {what}; progress "
                                 f"at {current!r}")
        time.sleep(interval)


class LoopThread:
    """An event loop on a thread of its own, for simulators steered from synchronous tests."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Any) -> Any:
        fut: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return fut.result(60)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def invoke() -> T:
            return fn(*args)
        result: T = self.run(invoke())
        return result

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class FleetThread(LoopThread):
    """A light fleet on its own event loop."""

    def __init__(self, fleet_factory: Callable[[], Fleet]) -> None:
        super().__init__()
        self.fleet: Fleet = self.run(self._make(fleet_factory))
        self.stopped = False

    async def _make(self, factory: Callable[[], Fleet]) -> Fleet:
        fleet = factory()
        await fleet.start()
        await asyncio.wait_for(fleet.wait_connected(), 10)
        return fleet

    def total_sent(self) -> int:
        return self.call(lambda: self.fleet.total_sent)

    def stop(self) -> dict[str, int]:
        """Stop the fleet (waiting for outstanding PUBACKs) and return what it sent, per light."""
        if self.stopped:
            return dict(self.fleet.sent)
        self.stopped = True
        self.run(self.fleet.stop())
        self.close()
        return dict(self.fleet.sent)


class SafetyThread(LoopThread):
    """The safety devices of a `SafetyPlan` on their own event loop."""

    def __init__(self, plan: SafetyPlan, broker: Endpoint) -> None:
        super().__init__()
        specs = parse_devices(plan.simulator_devices()).devices
        self.fleet: SafetyFleet = self.run(self._make(specs, broker, plan.period_s))
        self.stopped = False

    async def _make(self, specs: list[Any], broker: Endpoint, period: float) -> SafetyFleet:
        fleet = SafetyFleet(specs, host=broker.host, port=broker.port, period=period,
                            username=broker.username, password=broker.password)
        await fleet.start()
        await asyncio.wait_for(fleet.wait_connected(), 10)
        return fleet

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.run(self.fleet.stop())
            self.close()


class FieldThread(LoopThread):
    """The Modbus devices and the DL/T 645 meter bus of a `FieldPlan` on their own loop;
    fills in `plan.links` with the ports they listen on."""

    def __init__(self, plan: FieldPlan) -> None:
        super().__init__()
        self.plan = plan
        self.farm = ModbusFarm.from_config(plan.modbus_farm_config())
        first, count, faults = plan.dlt645_meters()
        self.bus = MeterBus(make_meters(count, first=first))
        for address, fault, value in faults:
            self.bus.set_fault(address, fault, value)
        self.dlt_gateway = TcpGateway(self.bus)
        self.run(self._start())
        for name in plan.modbus_farm_config()["endpoints"]:
            endpoint = self.farm.endpoint(name)
            plan.links[name] = ("127.0.0.1", endpoint.port)  # type: ignore[attr-defined]
        plan.links["dl1"] = ("127.0.0.1", self.dlt_gateway.port)

    async def _start(self) -> None:
        await self.farm.start()
        await self.bus.start()
        await self.dlt_gateway.start()

    async def _stop(self) -> None:
        await self.dlt_gateway.stop()
        await self.bus.stop()
        await self.farm.stop()

    def stop(self) -> None:
        self.run(self._stop())
        self.close()


class FarmThread(LoopThread):
    """A camera farm on its own event loop."""

    def __init__(self, specs: list[CameraSpec]) -> None:
        super().__init__()
        self.farm = CameraFarm(specs)
        self.run(self.farm.start())

    def set_fault(self, camera: str, fault: str, value: Any) -> None:
        self.call(self.farm.set_fault, camera, Fault(fault), value)

    def raise_event(self, camera: str, kind: str, active: bool) -> None:
        self.call(self.farm.raise_event, camera, kind, active)

    def stop(self) -> None:
        self.run(self.farm.stop())
        self.close()


@dataclass
class Community:
    stack: Stack
    scenario: CommunityScenario
    inventory: Path
    gateway_config: Path
    api: str
    fleets: list[FleetThread] = field(default_factory=list)
    farm: FarmThread | None = None
    safety: SafetyThread | None = None
    field_devices: FieldThread | None = None
    #: Bearer header of the admin every request signs in as (made once the API runs).
    headers: dict[str, str] = field(default_factory=dict)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = httpx.post(self.api + path, json=body, headers=self.headers, timeout=10)
        r.raise_for_status()
        return r.json()

    def get(self, path: str, **params: Any) -> Any:
        r = httpx.get(self.api + path, params=params, headers=self.headers, timeout=10)
        r.raise_for_status()
        return r.json()

    def indicator(self, ident: str) -> dict[str, Any]:
        found = [i for i in self.get(f"/api/communities/{self.scenario.community}/indicators")
                 if i["id"] == ident]
        assert found, f"indicator {ident} missing"
        result: dict[str, Any] = found[0]
        return result

    def rows(self, sql: str) -> list[list[str]]:
        return psql_rows(self.stack, sql)

    def scalar(self, sql: str) -> int:
        return int(self.rows(sql)[0][0])

    def light_readings(self) -> int:
        return self.scalar("SELECT count(*) FROM readings WHERE device LIKE 'light-%'")

    def start_ingest(self) -> None:
        self.stack.start("ingest", "ingest", "run", "--batch-ms", "50",
                         env=self.stack.login_env())
        self.stack.wait_for_log("ingest", "subscribed", timeout=30)

    def fleet(self, count: int | None = None) -> FleetThread:
        s = self.scenario
        devices = self.stack.devices()
        n = s.controllers if count is None else count
        fleet = FleetThread(lambda: Fleet(
            make_lights(n), host=devices.host, port=devices.port, username=devices.username,
            password=devices.password, prefix=s.prefix, period=s.period_s,
            reconnect_min=0.1, reconnect_max=1.0))
        self.fleets.append(fleet)
        return fleet


def camera_specs(scenario: CommunityScenario) -> list[CameraSpec]:
    plan = scenario.cameras
    assert plan is not None
    return [CameraSpec(c.id, username=plan.username, password=plan.password,
                       faults={Fault(f): v for f, v in START_FAULTS.get(c.id, {}).items()})
            for c in plan.cameras]


def start_community(root: Path, scenario: CommunityScenario) -> Iterator[Community]:
    """Start everything but the light fleet (cameras run from the start); yield the
    community; stop everything."""
    stack = Stack(root, durable=False, separate_device_broker=True)
    farm: FarmThread | None = None
    field_sims: FieldThread | None = None
    try:
        if scenario.field_devices is not None:
            field_sims = FieldThread(scenario.field_devices)
        stack.start_infra()
        uplink = stack.uplink(scenario.community, scenario.gateway)
        devices = stack.devices()
        urls: dict[str, str] = {}
        if scenario.cameras is not None:
            farm = FarmThread(camera_specs(scenario))
            for cam in START_TAMPER:
                farm.raise_event(cam, "tamper", True)
            urls = {c.id: farm.farm.device_url(c.id) for c in scenario.cameras.cameras}
        inventory, gateway_config = scenario.write(root / "community", uplink, devices, urls)
        stack.migrate()  # as the owner; ingest and the API run as the runtime role
        stack.run("inventory", "import", str(inventory), env=stack.owner_env())
        port = free_port()
        community = Community(stack, scenario, inventory, gateway_config,
                              f"http://127.0.0.1:{port}", farm=farm,
                              field_devices=field_sims)
        community.start_ingest()
        stack.start("api", "api", "--host", "127.0.0.1", "--port", str(port))
        stack.wait_for_port("api", port)
        # The API refuses anonymous requests: the tests act as an admin with an API token.
        stack.run("user", "add", "e2e-admin", "--role", "admin", "--no-password")
        community.headers = {"Authorization": "Bearer " + stack.run(
            "user", "token", "e2e-admin", "--expires", "1d").strip()}
        stack.start("gateway", "gateway", "run", "--config", str(gateway_config))
        stack.wait_for_log("gateway", "uplink connected", timeout=30)
        if "mqtt" in (yaml.safe_load(gateway_config.read_text()).get("drivers") or {}):
            # What devices publish before the driver subscribed is lost, as with any
            # non-retained MQTT message: tests that publish at once need it subscribed.
            stack.wait_for_log("gateway", "mqtt driver: connected to device broker",
                               timeout=30)
        if scenario.safety is not None:
            community.safety = SafetyThread(scenario.safety, devices)
        yield community
        for fleet in community.fleets:
            fleet.stop()
        if community.safety is not None:
            community.safety.stop()
    finally:
        stack.stop_all()
        if farm is not None:
            farm.stop()
        if field_sims is not None:
            field_sims.stop()
