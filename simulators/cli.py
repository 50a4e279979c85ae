"""`scg sim …`: run simulated devices against a real MQTT broker, and steer them at run time."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

from simulators.cli_common import (
    READY_FILE_HELP,
    broker_login_args,
    broker_password,
    count_repeats,
    host_port,
    remove_ready_file,
    serve,
    write_ready_file,
)

_LIGHTS_HELP = """\
Run a fleet of street-light controllers on one MQTT connection. Each controller publishes
a JSON status (on, dim, power_w, energy_kwh, fault flags) to PREFIX/ID/status every
PERIOD seconds (QoS 1, staggered across the period), obeys {"on": bool, "dim": 0..100}
on PREFIX/ID/set, and is steered at run time on PREFIX/_control (see `scg sim
lights-control`). Ids follow --ids with n = --start .. --start+--count-1, so they match
inventory template rows such as `id: "light-{n:03d}"`. Runs until Ctrl-C or SIGTERM."""

_FAULTS_HELP = """\
YAML or JSON list of scheduled faults, each {light: light-007, flag: lamp|gear|relay,
at: SECONDS_AFTER_START, duration: SECONDS (omit: until cleared)}"""


_CAMERAS_HELP = """\
Run a farm of ONVIF Profile S cameras in one process, one HTTP port per camera
(--base-port, --base-port+1, ...; 0 lets the system pick). Each camera serves the device
service at http://HOST:PORT/onvif/device_service (GetSystemDateAndTime without
credentials; the rest with a WS-Security UsernameToken digest), media profiles with a
snapshot URL behind HTTP Digest (or Basic: --snapshot-auth), and PullPoint events
(tamper, motion, video loss). A WS-Discovery responder answers Probes on UDP
HOST:--discovery-port. Ids follow --ids with n = --start .. --start+--count-1. Prints
each camera's URL; runs until Ctrl-C or SIGTERM."""

_CAMERA_FAULTS_HELP = """\
YAML or JSON list of faults, each {camera: cam-003, fault: FAULT, value: true | SECONDS,
at: SECONDS_AFTER_START (0), duration: SECONDS (omit: until the farm stops)}; FAULT is
unreachable, wrong_password, clock_skew (value: seconds), slow (value: seconds), black,
blank, frozen, corrupt_jpeg, events_stop or snapshot_auth (value: basic | digest, the HTTP
scheme the snapshot asks for)"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sim = sub.add_parser("sim", help="simulated devices over their real protocols",
                         description="Simulated devices that speak their real protocols, "
                                     "for tests and demos without hardware.")
    simsub = sim.add_subparsers(dest="sim_command", metavar="DEVICES", required=True)

    lights = simsub.add_parser("lights", help="a fleet of MQTT street-light controllers",
                               description=_LIGHTS_HELP,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    _broker_args(lights)
    lights.add_argument("--count", type=int, default=20, help="number of controllers (20)")
    lights.add_argument("--start", type=int, default=1, help="first n of the ids (1)")
    lights.add_argument("--ids", default="light-{n:03d}", metavar="PATTERN",
                        help="id pattern, also the MQTT address (light-{n:03d})")
    lights.add_argument("--period", type=float, default=10.0,
                        help="seconds between two status reports of one light (10)")
    lights.add_argument("--rated-w", type=float, default=100.0,
                        help="rated lamp power in watts (100)")
    lights.add_argument("--faults", metavar="FILE", help=_FAULTS_HELP)
    lights.add_argument("--fault-rate", type=float, default=0.0, metavar="PER_HOUR",
                        help="also raise random faults, this many per light per hour (0)")
    lights.add_argument("--fault-duration", type=float, default=60.0, metavar="SECONDS",
                        help="mean length of a random fault (60)")
    lights.add_argument("--seed", type=int, default=0,
                        help="seed of the power noise and the random faults (0)")
    lights.add_argument("--client-id", help="MQTT client id (default: chosen by the client)")
    lights.set_defaults(func=_run_lights)

    control = simsub.add_parser(
        "lights-control", help="steer a running light fleet (silence, resume, faults)",
        description="Send one control message to a running `scg sim lights` fleet on "
                    "PREFIX/_control.")
    _broker_args(control)
    control.add_argument("--silence", nargs="+", default=[], metavar="ID",
                         help="these controllers stop reporting")
    control.add_argument("--resume", nargs="+", default=[], metavar="ID",
                         help="these controllers report again")
    control.add_argument("--fault", nargs=3, action="append", default=[],
                         metavar=("ID", "FLAG", "on|off"),
                         help="raise or clear a fault flag (lamp, gear, relay); repeatable")
    control.set_defaults(func=_run_control)

    cameras = simsub.add_parser("cameras", help="a farm of ONVIF cameras (HTTP/SOAP, one "
                                "port each)", description=_CAMERAS_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    cameras.add_argument("--count", type=int, default=10, help="number of cameras (10)")
    cameras.add_argument("--start", type=int, default=1, help="first n of the ids (1)")
    cameras.add_argument("--ids", default="cam-{n:03d}", metavar="PATTERN",
                         help="id pattern (cam-{n:03d})")
    cameras.add_argument("--host", default="127.0.0.1",
                         help="address the cameras listen on (127.0.0.1)")
    cameras.add_argument("--base-port", type=int, default=8081, metavar="P",
                         help="port of the first camera, the next get P+1, ... (8081); "
                              "0: ports picked by the system")
    cameras.add_argument("--username", default="admin", help="camera user name (admin)")
    cameras.add_argument("--password", default="admin123", help="camera password (admin123)")
    cameras.add_argument("--snapshot-auth", choices=("digest", "basic"), default="digest",
                         help="HTTP authentication the snapshot URLs ask for (digest); a "
                              "camera's scheme can also change at run time (--faults)")
    cameras.add_argument("--faults", metavar="FILE", help=_CAMERA_FAULTS_HELP)
    cameras.add_argument("--list-file", metavar="OUT.yaml",
                         help="once every camera listens, write `id: device URL` of each to "
                              "this YAML file (" + READY_FILE_HELP + ")")
    cameras.add_argument("--discovery-port", type=int, default=3702, metavar="PORT",
                         help="UDP port of the WS-Discovery responder on HOST (3702); "
                              "0: picked by the system")
    cameras.add_argument("--no-discovery", action="store_true",
                         help="run no WS-Discovery responder")
    cameras.set_defaults(func=_run_cameras)

    # Each simulator package registers its own command (imports stay light: the
    # handlers import the simulators themselves).
    from simulators.dlt645.cli import register as register_dlt645
    from simulators.gb26875.cli import register as register_gb26875
    from simulators.modbus.cli import register as register_modbus
    from simulators.safety.cli import register as register_safety

    register_dlt645(simsub)
    register_safety(simsub)
    register_modbus(simsub)
    register_gb26875(simsub)


def _broker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker", required=True, type=host_port, metavar="HOST:PORT",
                   help="the MQTT broker the devices talk to, e.g. 127.0.0.1:1883")
    p.add_argument("--prefix", default="scg-sim/lights",
                   help="topic prefix of the controllers (scg-sim/lights)")
    broker_login_args(p)


def _run_lights(args: argparse.Namespace) -> int:
    from simulators.lights import Fleet, load_faults, make_lights, random_faults

    try:
        specs = make_lights(args.count, start=args.start, pattern=args.ids,
                            rated_w=args.rated_w)
        faults = load_faults(args.faults) if args.faults else []
        if args.fault_rate:
            faults += random_faults([s.id for s in specs], seed=args.seed,
                                    rate_per_hour=args.fault_rate,
                                    mean_duration=args.fault_duration)
        host, port = args.broker
        fleet = Fleet(specs, host=host, port=port, prefix=args.prefix, period=args.period,
                      faults=faults, seed=args.seed, username=args.username,
                      password=broker_password(args), client_id=args.client_id,
                      keep_ts=False)
    except ValueError as exc:
        print(f"scg sim lights: {exc}", file=sys.stderr)
        return 2
    first, last = (specs[0].id, specs[-1].id) if specs else ("-", "-")
    print(f"scg sim lights: {len(specs)} controllers {first} … {last} -> "
          f"mqtt://{host}:{port}/{args.prefix}/+/status every {args.period:g} s; "
          f"{len(faults)} scheduled faults; control on {args.prefix}/_control. "
          "Ctrl-C stops.", flush=True)
    asyncio.run(serve(fleet))
    print(f"scg sim lights: stopped; {fleet.total_sent} status messages acknowledged, "
          f"{sum(fleet.skipped.values())} skipped while disconnected", flush=True)
    return 0


def _run_control(args: argparse.Namespace) -> int:
    from simulators.lights import send_control

    command: dict[str, Any] = {}
    if args.silence:
        command["silence"] = args.silence
    if args.resume:
        command["resume"] = args.resume
    faults = []
    for light, flag, state in args.fault:
        if state not in ("on", "off"):
            print(f"scg sim lights-control: --fault {light} {flag} {state}: the state must be "
                  "on or off", file=sys.stderr)
            return 2
        faults.append({"light": light, "flag": flag, "on": state == "on"})
    if faults:
        command["fault"] = faults
    if not command:
        print("scg sim lights-control: nothing to send; give --silence, --resume or --fault",
              file=sys.stderr)
        return 2
    host, port = args.broker
    try:
        asyncio.run(send_control(host, port, command, prefix=args.prefix,
                                 username=args.username, password=broker_password(args)))
    except ValueError as exc:
        print(f"scg sim lights-control: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the broker is down or refused us: say so, no traceback
        print(f"scg sim lights-control: could not send to {host}:{port}: {exc}",
              file=sys.stderr)
        return 1
    print(f"scg sim lights-control: sent {json.dumps(command)}")
    return 0


def _run_cameras(args: argparse.Namespace) -> int:
    from simulators.onvif import CameraFarm, load_faults, make_cameras

    # A camera handler that fails fails on every probe: its traceback once, then a count.
    count_repeats("simulators.onvif.httpd", "aiohttp.server")
    try:
        specs = make_cameras(args.count, start=args.start, pattern=args.ids,
                             username=args.username, password=args.password,
                             snapshot_auth=args.snapshot_auth)
        schedule = load_faults(args.faults) if args.faults else []
        farm = CameraFarm(specs, args.host, base_port=args.base_port,
                          discovery_port=None if args.no_discovery else args.discovery_port,
                          schedule=schedule)
    except ValueError as exc:
        print(f"scg sim cameras: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve_cameras(farm, args.list_file))
    except OSError as exc:  # a port is taken: say which, no traceback
        print(f"scg sim cameras: {exc}", file=sys.stderr)
        return 1
    print("scg sim cameras: stopped", flush=True)
    return 0


async def _serve_cameras(farm: Any, list_file: str | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await farm.start()
    try:
        urls = farm.urls()
        for cam_id, url in urls.items():
            print(f"{cam_id} {url}")
        if list_file:
            write_ready_file(list_file, urls)
        discovery = (f"WS-Discovery on udp://{farm.discovery.host}:{farm.discovery.port}"
                     if farm.discovery else "no WS-Discovery")
        print(f"scg sim cameras: {len(urls)} cameras up in {farm.started_in:.2f} s; "
              f"{discovery}; Ctrl-C stops.", flush=True)
        await stop.wait()
    finally:
        remove_ready_file(list_file)
        await farm.stop()
