"""`scg demo`: a whole simulated community on this machine, stopped cleanly by Ctrl-C.

Starts, as children of this process: mosquitto, a PostgreSQL cluster under the state
folder, the street-light simulators, the edge gateway, ingest and the API. Each is the
same command an operator would run, with its log under STATE/logs/.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType

import yaml

from scg.camera_plan import CameraPlan
from scg.duty_officer import DutyOfficer
from scg.field_plan import FieldPlan
from scg.localsvc.process import free_port
from scg.safety_plan import SafetyPlan
from scg.scenario import CommunityScenario, Endpoint
from scg.stack import Stack

# Of the 100 controllers, these never come up (dead controllers: offline at the gateway),
# and these report lamp / gear faults on a schedule.
SILENT_CONTROLLERS = 2
FAULTS = [
    {"light": "light-007", "flag": "lamp", "at": 20, "duration": 60},
    {"light": "light-023", "flag": "gear", "at": 40, "duration": 120},
    {"light": "light-051", "flag": "relay", "at": 10, "duration": 30},
]


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def run_demo(args: argparse.Namespace) -> int:
    state = Path(args.state_dir).resolve()
    if not _port_free(args.api_port):
        print(f"scg demo: port {args.api_port} on 127.0.0.1 is in use; stop what uses it or "
              f"pass --api-port", file=sys.stderr)
        return 2
    if args.fresh and state.exists():
        shutil.rmtree(state)
    stack = Stack(state)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        _start(stack, args.api_port)
        _watch(stack, DutyOfficer(f"http://127.0.0.1:{args.api_port}", "demo"))
    except _Stop:
        print("\nscg demo: stopping …", flush=True)
    except RuntimeError as exc:
        print(f"scg demo: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop_all()
    print("scg demo: every process it started has stopped.")
    return 0


def _start(stack: Stack, api_port: int) -> None:
    plan = CameraPlan()
    safety = SafetyPlan()
    field = FieldPlan(meter_period_s=30, dlt645_period_s=60, station_period_s=5,
                      timeout_s=0.5, dead_panels=("east-b2",), auto_sessions=True)
    scenario = CommunityScenario(cameras=plan, safety=safety, field_devices=field)
    folder = stack.state_dir / "community"
    print(f"scg demo: state folder {stack.state_dir}", flush=True)
    stack.start_infra()
    print(f"  mosquitto   {stack.broker.url}")
    print(f"  PostgreSQL  {stack.database_url}  (data in {stack.pg.datadir})", flush=True)

    folder.mkdir(parents=True, exist_ok=True)
    camera_faults = folder / "camera-faults.yaml"
    camera_faults.write_text(yaml.safe_dump(plan.fault_schedule(), sort_keys=False))
    camera_list = folder / "cameras.yaml"
    camera_list.unlink(missing_ok=True)
    stack.start("sim-cameras", "sim", "cameras", "--count", str(len(plan.cameras)),
                "--base-port", "0", "--no-discovery", "--faults", str(camera_faults),
                "--list-file", str(camera_list))
    stack.wait_for_log("sim-cameras", "cameras up")
    urls = yaml.safe_load(camera_list.read_text())

    ports = {name: free_port() for name in (*field.modbus_farm_config()["endpoints"], "dl1")}
    modbus_farm, dlt645_faults = field.simulator_files(ports)
    modbus_file = folder / "modbus-devices.yaml"
    modbus_file.write_text(yaml.safe_dump(modbus_farm, sort_keys=False))
    dlt645_file = folder / "dlt645-faults.yaml"
    dlt645_file.write_text(yaml.safe_dump(dlt645_faults, sort_keys=False))
    first, count, _ = field.dlt645_meters()
    stack.start("sim-modbus", "sim", "modbus", "--config", str(modbus_file))
    stack.start("sim-dlt645", "sim", "dlt645", "--meters", str(count), "--first-address",
                first, "--port", str(ports["dl1"]), "--faults", str(dlt645_file))
    for name in ("sim-modbus", "sim-dlt645"):
        for port in ([ports["dl1"]] if name == "sim-dlt645" else
                     [p for n, p in ports.items() if n != "dl1"]):
            stack.wait_for_port(name, port)

    broker = Endpoint(stack.broker.host, stack.broker.port)
    inventory, gateway_config = scenario.write(folder, broker, broker, urls)
    faults = folder / "light-faults.yaml"
    faults.write_text(yaml.safe_dump(FAULTS, sort_keys=False))
    safety_devices = folder / "safety-devices.yaml"
    safety_devices.write_text(yaml.safe_dump(safety.simulator_devices(), sort_keys=False))
    safety_story = folder / "safety-story.yaml"
    safety_story.write_text(yaml.safe_dump(safety.demo_story(), sort_keys=False,
                                           allow_unicode=True))
    stack.run("db", "migrate")
    stack.run("inventory", "import", str(inventory))
    print(f"  inventory   {inventory}: {scenario.lights} public lights, "
          f"{scenario.controllers} with controllers; {len(plan.cameras)} cameras at "
          f"{len(plan.key_positions)} key positions")

    stack.start("ingest", "ingest", "run")
    stack.wait_for_log("ingest", "subscribed")
    stack.start("api", "api", "--host", "127.0.0.1", "--port", str(api_port))
    stack.wait_for_port("api", api_port)
    live = scenario.controllers - SILENT_CONTROLLERS
    stack.start("sim-lights", "sim", "lights", "--broker", f"{broker.host}:{broker.port}",
                "--count", str(live), "--period", str(scenario.period_s),
                "--prefix", scenario.prefix, "--faults", str(faults))
    stack.start("sim-safety", "sim", "safety", "--broker", f"{broker.host}:{broker.port}",
                "--devices", str(safety_devices), "--story", str(safety_story))
    stack.start("gateway", "gateway", "run", "--config", str(gateway_config))
    bad_meters = field.households - field.collected()
    print(f"  simulators  {live} light controllers ({SILENT_CONTROLLERS} dead, {len(FAULTS)} "
          "with scheduled faults)")
    print(f"              {len(plan.cameras)} ONVIF cameras ({len(plan.fault_schedule())} "
          "failing: unreachable, wrong password, skewed clock, black, blank, frozen, corrupt "
          "picture; 6 with defective records)")
    print(f"              {len(safety.gateway_devices())} safety devices playing a 5-minute "
          "story (an e-bike in a lift, SOS calls, a blocked fire lane, an intrusion, a throw)")
    print(f"              {field.households} household meters ({field.modbus_meters} Modbus, "
          f"{field.households - field.modbus_meters} DL/T 645; {bad_meters} silent or "
          "answering garbage), 3 charging stations, 6 fire-alarm gateways (1 dead)")
    print(f"  gateway     {scenario.gateway} (config {gateway_config})")
    print(f"  logs        {stack.logs}/")
    base = f"http://127.0.0.1:{api_port}"
    print(f"""
scg demo is running. Open:
  {base}/api/communities/demo/indicators   smart lighting and the five video indicators, live
  {base}/api/communities/demo/cameras/records  each camera's record checks
  {base}/api/communities/demo/devices      devices with state and last-seen time
  {base}/api/communities/demo/alarms       alarms; SOS calls are acknowledged by a simulated
                                           duty officer after 20-90 s
  {base}/api/communities/demo/alarms/stream  new alarms as server-sent events
  {base}/docs                              the API
Ctrl-C stops every process it started.""", flush=True)


def _watch(stack: Stack, officer: DutyOfficer) -> None:
    """Block until a signal; if a child dies on its own, say which and stop the demo.
    Meanwhile the duty officer answers SOS calls through the API, as staff would."""
    while True:
        for name, proc in stack.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; see "
                                   f"{stack.log(name)}")
        officer.round()
        time.sleep(0.5)
