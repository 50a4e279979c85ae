"""`scg demo`: a whole simulated community on this machine, stopped cleanly by Ctrl-C.

Starts, as children of this process: mosquitto, a PostgreSQL cluster under the state
folder, the simulators of `DemoPlan` (lights, cameras, Modbus and DL/T 645 meters,
charging stations, fire-alarm gateways, a GB 26875 fire alarm transmission device, safety
devices), the edge gateway, ingest and the API. Each is the same command an operator
would run; this process writes their output to STATE/logs/NAME.log (rotated), and waits
for each only on what this run wrote: a simulator's ready file (removed before it starts)
or a line of this run's output. So the demo starts again on the same state folder, with
the database and history it had.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from ingest.schema.dsn import redact
from scg.demo_accounts import describe, ensure_accounts
from scg.demo_plan import DemoPlan
from scg.duty_officer import DutyOfficer
from scg.localsvc.process import free_port
from scg.stack import APP_ROLE, Stack

#: The demo ages its database as a county's daily timer does
#: (deploy/central/scg-db-maintain.timer), but every ten minutes and keeping de-duplication
#: keys for ten minutes (stored in the database, as any `scg db maintain` option is), so
#: that a run of an hour shows the de-duplication table bounded rather than growing.
MAINTAIN_EVERY_S = 600.0
DEMO_DEDUP_MIN_AGE = "10min"


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _listen(port: int) -> socket.socket | None:
    """The API's socket, listening on 127.0.0.1:`port` from the first moment, None when the
    port is taken. The API inherits it: binding only once everything else has started
    would leave ten seconds in which any process's outgoing connection (its local port is
    drawn from the same range as a free port's) can take the port."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    sock.listen(128)
    return sock


def run_demo(args: argparse.Namespace) -> int:
    state = Path(args.state_dir).resolve()
    listener = _listen(args.api_port)
    if listener is None:
        print(f"scg demo: port {args.api_port} on 127.0.0.1 is in use; stop what uses it or "
              f"pass --api-port", file=sys.stderr)
        return 2
    if args.fresh and state.exists():
        shutil.rmtree(state)
    stack = Stack(state)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    code = 0
    try:
        token = _start(stack, listener)
        _watch(stack, DutyOfficer(f"http://127.0.0.1:{args.api_port}", "demo", token=token))
    except _Stop:
        print("\nscg demo: stopping …", flush=True)
    except RuntimeError as exc:
        print(f"scg demo: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop_all()
        listener.close()
    print("scg demo: every process it started has stopped.")
    return code


def _start(stack: Stack, listener: socket.socket) -> str:
    """Start everything, the API on `listener`; return the duty officer's API token."""
    api_port = listener.getsockname()[1]
    demo = DemoPlan()
    plan, safety, field, scenario = demo.cameras, demo.safety, demo.field, demo.scenario
    folder = stack.state_dir / "community"
    print(f"scg demo: state folder {stack.state_dir}", flush=True)
    stack.start_infra()
    print(f"  mosquitto   {stack.broker.url}")
    print(f"  PostgreSQL  {redact(stack.database_url)}  (data in {stack.pg.datadir}; the "
          f"services connect as {APP_ROLE}, owner {redact(stack.owner_url)})", flush=True)

    # Simulators bind port 0 and say where they listen in a ready file, removed first so
    # that only this run's file can be read.
    folder.mkdir(parents=True, exist_ok=True)
    camera_faults = _write(folder / "camera-faults.yaml", plan.fault_schedule())
    camera_list = _unlinked(folder / "cameras.yaml")
    stack.start("sim-cameras", "sim", "cameras", "--count", str(len(plan.cameras)),
                "--base-port", "0", "--no-discovery", "--faults", str(camera_faults),
                "--list-file", str(camera_list))
    modbus_farm, dlt645_faults = field.simulator_files()
    modbus_file = _write(folder / "modbus-devices.yaml", modbus_farm)
    dlt645_file = _write(folder / "dlt645-faults.yaml", dlt645_faults)
    modbus_ready = _unlinked(folder / "modbus-ready.yaml")
    dlt645_ready = _unlinked(folder / "dlt645-ready.yaml")
    first, count, _ = field.dlt645_meters()
    stack.start("sim-modbus", "sim", "modbus", "--config", str(modbus_file),
                "--ready-file", str(modbus_ready))
    stack.start("sim-dlt645", "sim", "dlt645", "--meters", str(count), "--first-address",
                first, "--port", "0", "--faults", str(dlt645_file),
                "--ready-file", str(dlt645_ready))
    urls = _read(stack.wait_for_file("sim-cameras", camera_list))
    field.use_links(_read(stack.wait_for_file("sim-modbus", modbus_ready)),
                    _read(stack.wait_for_file("sim-dlt645", dlt645_ready)))
    # The transmission device dials the gateway (the monitoring centre): the gateway's
    # gb26875 port is chosen here, the simulator starts once the gateway does.
    fire = demo.fire_transmission
    fire.port = free_port()

    # Every process logs in as its role: the gateway with its own account (password in a
    # file, as `scg broker config` hands it out), devices as `devices`, ingest as itself.
    uplink, devices = stack.uplink(scenario.community, scenario.gateway), stack.devices()
    # Ingest and the gateway serve Prometheus metrics on free ports (the API at /metrics).
    ingest_metrics, scenario.metrics_port = free_port(), free_port()
    inventory, gateway_config = scenario.write(folder, uplink, devices, urls)
    faults = _write(folder / "light-faults.yaml", demo.light_faults)
    safety_devices = _write(folder / "safety-devices.yaml", safety.simulator_devices())
    safety_story = _write(folder / "safety-story.yaml", safety.demo_story())
    stack.migrate()
    stack.run("inventory", "import", str(inventory), env=stack.owner_env())
    print(f"  inventory   {inventory}: {scenario.lights} public lights, "
          f"{scenario.controllers} with controllers; {len(plan.cameras)} cameras at "
          f"{len(plan.key_positions)} key positions")
    print(f"  data key    {stack.data_key_file} (mode 0600): seals the {safety.lone_elderly} "
          "fictitious residents and the camera logins in the database")

    stack.start("ingest", "ingest", "run", "--metrics-port", str(ingest_metrics),
                env=stack.login_env())
    stack.wait_for_log("ingest", "subscribed")
    stack.start("api", "api", "--fd", str(listener.fileno()), pass_fds=(listener.fileno(),))
    stack.wait_for_log("api", "Application startup complete")
    accounts = ensure_accounts(stack)
    stack.start("sim-lights", "sim", "lights", "--broker", f"{devices.host}:{devices.port}",
                "--count", str(demo.live_controllers), "--period", str(scenario.period_s),
                "--prefix", scenario.prefix, "--faults", str(faults), env=stack.device_env())
    stack.start("sim-safety", "sim", "safety", "--broker", f"{devices.host}:{devices.port}",
                "--devices", str(safety_devices), "--story", str(safety_story),
                env=stack.device_env())
    stack.start("gateway", "gateway", "run", "--config", str(gateway_config))
    fire_ready = _unlinked(folder / "gb26875-ready.yaml")
    stack.start("sim-gb26875", "sim", "gb26875", "--centre", f"{fire.host}:{fire.port}",
                "--config", str(_write(folder / "gb26875-site.yaml", fire.simulator_config())),
                "--story", str(_write(folder / "gb26875-story.yaml", fire.demo_story())),
                "--ready-file", str(fire_ready))
    bad_meters = field.households - field.collected()
    dead = scenario.controllers - demo.live_controllers
    print(f"  simulators  {demo.live_controllers} light controllers ({dead} dead, "
          f"{len(demo.light_faults)} with scheduled faults)")
    print(f"              {len(plan.cameras)} ONVIF cameras ({len(plan.fault_schedule())} "
          "failing: unreachable, wrong password, skewed clock, black, blank, frozen, corrupt "
          f"picture; {len(plan.record_defects())} with defective records)")
    print(f"              {len(safety.gateway_devices())} safety devices playing a 5-minute "
          "story (an e-bike in a lift, SOS calls, a blocked fire lane, an intrusion, a throw)")
    print(f"              {field.households} household meters ({field.modbus_meters} Modbus, "
          f"{field.households - field.modbus_meters} DL/T 645; {bad_meters} silent or "
          "answering garbage), 3 charging stations, 6 fire-alarm gateways (1 dead)")
    fire_control = _read(stack.wait_for_file("sim-gb26875", fire_ready))
    # Up means connected: a gateway that cannot bind its ports or reach the broker says so
    # now, not seconds after the demo said it was running.
    stack.wait_for_log("gateway", "uplink connected")
    print(f"              a GB 26875 transmission device ({fire.device}) with "
          f"{len(fire.panels)} fire alarm controllers, dialling the gateway on port "
          f"{fire.port}, playing a 10-minute story (a fire in {fire.panels[1][1]}); steer it "
          f"with scg sim gb26875-control --control "
          f"{fire_control['host']}:{fire_control['port']} ACTION")
    print(f"  gateway     {scenario.gateway} (config {gateway_config})")
    print(f"  logs        {stack.logs}/ (each file rotated at "
          f"{stack.log_max_bytes // 2**20} MiB, {stack.log_backups} old files kept)")
    print(describe(accounts))
    base = f"http://127.0.0.1:{api_port}"
    column = len(base) + 34  # where the words after each address start
    print(f"""
scg demo is running. The operations console: {base}/ (sign in as admin, above)
  {base}/overview                          the county overview
  {base}/communities/demo                  the demo community: indicators, devices, map
  {base}/communities/demo/alarms           alarms, live, acknowledged and closed there
The JSON API (the same sign-in, or a bearer token from {base}/api/auth/token):
  {base}/api/communities/demo/indicators   every measured indicator, live
  {base}/api/communities/demo/cameras/records  each camera's record checks
  {base}/api/communities/demo/devices      devices with state and last-seen time
  {base}/api/communities/demo/alarms       alarms; SOS calls are acknowledged after 20-90 s
                                           by a simulated duty officer (user duty-officer)
  {base}/api/communities/demo/alarms/stream  new alarms as server-sent events
  {base}/api/communities/demo/residents    residents, masked (?unmasked=true: whole, logged)
  {base}/docs                              the API
Prometheus metrics (no sign-in; deploy/ has a Prometheus and Grafana set-up for them):
  {base + '/metrics':<{column}} the API
  {f'http://127.0.0.1:{ingest_metrics}/metrics':<{column}} ingest
  {f'http://127.0.0.1:{scenario.metrics_port}/metrics':<{column}} the gateway
Ctrl-C stops every process it started.""", flush=True)
    return accounts.officer_token


def _write(path: Path, doc: Any) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def _unlinked(path: Path) -> Path:
    path.unlink(missing_ok=True)
    return path


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _watch(stack: Stack, officer: DutyOfficer) -> None:
    """Block until a signal; if a child dies on its own, say which and stop the demo.
    Meanwhile the duty officer answers SOS calls through the API, as staff would, and the
    database is maintained every MAINTAIN_EVERY_S."""
    next_maintenance = time.monotonic() + 60
    while True:
        for name, proc in stack.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; its last "
                                   f"lines ({stack.log(name)}):\n{stack.tail(name)}")
        officer.round()
        if time.monotonic() >= next_maintenance:
            _maintain(stack)
            next_maintenance = time.monotonic() + MAINTAIN_EVERY_S
        time.sleep(0.5)


def _maintain(stack: Stack) -> None:
    """`scg db maintain` as the owner, its report appended to logs/maintain.log. A failed
    round is said once on the console and tried again at the next; the demo goes on."""
    try:
        report = stack.run("db", "maintain", "--dedup-min-age", DEMO_DEDUP_MIN_AGE,
                           env=stack.owner_env(), timeout=300)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"scg demo: WARNING database maintenance failed, tried again in "
              f"{MAINTAIN_EVERY_S / 60:.0f} min: {str(exc).splitlines()[0]}",
              file=sys.stderr, flush=True)
        return
    with stack.log("maintain").open("a", encoding="utf-8") as log:
        log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} scg db maintain\n{report}")
