"""`scg sim …`: run simulated devices against a real MQTT broker, and steer them at run time."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

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
snapshot URL behind HTTP Digest, and PullPoint events (tamper, motion, video loss). A
WS-Discovery responder answers Probes on UDP HOST:--discovery-port. Ids follow --ids with
n = --start .. --start+--count-1. Prints each camera's URL; runs until Ctrl-C or SIGTERM."""

_CAMERA_FAULTS_HELP = """\
YAML or JSON list of faults, each {camera: cam-003, fault: FAULT, value: true | SECONDS,
at: SECONDS_AFTER_START (0), duration: SECONDS (omit: until the farm stops)}; FAULT is
unreachable, wrong_password, clock_skew (value: seconds), slow (value: seconds), black,
blank, frozen, corrupt_jpeg or events_stop"""


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
    cameras.add_argument("--faults", metavar="FILE", help=_CAMERA_FAULTS_HELP)
    cameras.add_argument("--list-file", metavar="OUT.yaml",
                         help="write `id: device URL` of every camera to this YAML file")
    cameras.add_argument("--discovery-port", type=int, default=3702, metavar="PORT",
                         help="UDP port of the WS-Discovery responder on HOST (3702); "
                              "0: picked by the system")
    cameras.add_argument("--no-discovery", action="store_true",
                         help="run no WS-Discovery responder")
    cameras.set_defaults(func=_run_cameras)

    _register_dlt645(simsub)
    _register_safety(simsub)
    _register_modbus(simsub)


def _broker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker", required=True, type=_host_port, metavar="HOST:PORT",
                   help="the MQTT broker the devices talk to, e.g. 127.0.0.1:1883")
    p.add_argument("--prefix", default="scg-sim/lights",
                   help="topic prefix of the controllers (scg-sim/lights)")
    p.add_argument("--username", help="MQTT user name, if the broker wants one")
    p.add_argument("--password", help="MQTT password")


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:1883")
    return host, int(port)


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
                      password=args.password, client_id=args.client_id, keep_ts=False)
    except ValueError as exc:
        print(f"scg sim lights: {exc}", file=sys.stderr)
        return 2
    first, last = (specs[0].id, specs[-1].id) if specs else ("-", "-")
    print(f"scg sim lights: {len(specs)} controllers {first} … {last} -> "
          f"mqtt://{host}:{port}/{args.prefix}/+/status every {args.period:g} s; "
          f"{len(faults)} scheduled faults; control on {args.prefix}/_control. "
          "Ctrl-C stops.", flush=True)
    asyncio.run(_serve(fleet))
    print(f"scg sim lights: stopped; {fleet.total_sent} status messages acknowledged, "
          f"{sum(fleet.skipped.values())} skipped while disconnected", flush=True)
    return 0


async def _serve(fleet: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await fleet.start()
    try:
        await stop.wait()
    finally:
        await fleet.stop()


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
                                 username=args.username, password=args.password))
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

    try:
        specs = make_cameras(args.count, start=args.start, pattern=args.ids,
                             username=args.username, password=args.password)
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
            _write_list(list_file, urls)
        discovery = (f"WS-Discovery on udp://{farm.discovery.host}:{farm.discovery.port}"
                     if farm.discovery else "no WS-Discovery")
        print(f"scg sim cameras: {len(urls)} cameras up in {farm.started_in:.2f} s; "
              f"{discovery}; Ctrl-C stops.", flush=True)
        await stop.wait()
    finally:
        await farm.stop()


def _write_list(path: str, urls: dict[str, str]) -> None:
    """id -> device URL as YAML, written whole then renamed: a reader never sees half."""
    import yaml

    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        yaml.safe_dump(urls, out, sort_keys=False)
    os.replace(tmp, path)


# ---------------------------------------------------------------- sim dlt645

_DLT645_HELP = """\
Run DL/T 645-2007 household meters on one simulated RS-485 bus behind a TCP transparent
gateway on HOST:PORT (raw frames over TCP, as the serial-to-Ethernet converters in meter
rooms do). A request is answered only by the meter it is addressed to; the wildcard read
of the address (68 AA..AA 68 13) is answered when one meter is alone on the bus. Addresses
count up from --first-address. Meters keep total forward active energy (00010000), voltage
(02010100), current (02020100) and power (02030000), with --phases 3 also per phase and as
blocks (0201FF00 ...); energy rises with a wandering household load. --serial-link PATH
also puts the bus on a pseudo-terminal pair (socat): the driver opens PATH at 2400 8E1.
Runs until Ctrl-C or SIGTERM."""

_DLT645_FAULTS_HELP = """\
YAML or JSON list of faults, each {meter: "000000000003", fault: FAULT, value: VALUE,
at: SECONDS_AFTER_START (0), duration: SECONDS (omit: until the simulator stops)}; FAULT is
silent, garbage (VALUE checksum, truncated, non_bcd, bad_start, no_end, wrong_di or
wrong_address), abnormal (VALUE the error byte, 2 = no requested data) or slow (VALUE
seconds)"""


def _register_dlt645(simsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    meters = simsub.add_parser("dlt645", help="DL/T 645-2007 electricity meters behind a TCP "
                               "transparent gateway (and a serial pseudo-terminal)",
                               description=_DLT645_HELP,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    meters.add_argument("--meters", type=int, default=10, metavar="N",
                        help="number of meters on the bus (10)")
    meters.add_argument("--host", default="127.0.0.1",
                        help="address the gateway listens on (127.0.0.1)")
    meters.add_argument("--port", type=int, default=8899, metavar="P",
                        help="TCP port of the transparent gateway (8899); 0: picked by the "
                             "system")
    meters.add_argument("--first-address", default="000000000001", metavar="ADDR",
                        help="12-digit address of the first meter (000000000001)")
    meters.add_argument("--phases", type=int, choices=(1, 3), default=1,
                        help="single- or three-phase meters (1)")
    meters.add_argument("--faults", metavar="FILE", help=_DLT645_FAULTS_HELP)
    meters.add_argument("--serial-link", metavar="PATH",
                        help="also serve the bus on a socat pseudo-terminal pair; the driver "
                             "opens PATH")
    meters.add_argument("--speed", type=float, default=1.0,
                        help="household time runs this many times faster than real time "
                             "(1); 60 gives a minute of load per second")
    meters.add_argument("--seed", type=int, default=0, help="seed of the load and voltage (0)")
    meters.set_defaults(func=_run_dlt645)


def _run_dlt645(args: argparse.Namespace) -> int:
    from simulators.dlt645 import MeterBus, load_faults, make_meters

    try:
        if not args.speed > 0:
            raise ValueError(f"--speed must be > 0, got {args.speed}")
        specs = make_meters(args.meters, first=args.first_address, phases=args.phases,
                            seed=args.seed)
        schedule = load_faults(args.faults) if args.faults else []
        bus = MeterBus(specs, schedule=schedule, speed=args.speed)
    except ValueError as exc:
        print(f"scg sim dlt645: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve_dlt645(bus, args))
    except (OSError, RuntimeError) as exc:  # a taken port, no socat: say so, no traceback
        print(f"scg sim dlt645: {exc}", file=sys.stderr)
        return 1
    print(f"scg sim dlt645: stopped; {bus.heard} requests heard, {bus.replies} replies sent",
          flush=True)
    return 0


async def _serve_dlt645(bus: Any, args: argparse.Namespace) -> None:
    from simulators.dlt645 import PtyPair, SerialPort, TcpGateway

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    gateway = TcpGateway(bus, args.host, args.port)
    await gateway.start()
    pty = port = None
    try:
        await bus.start()
        if args.serial_link:
            pty = PtyPair(args.serial_link)
            pty.start()
            port = SerialPort(bus, pty.meter_side)
            await port.start()
        addresses = sorted(bus.meters)
        span = f"{addresses[0]} … {addresses[-1]}" if addresses else "-"
        serial_text = f" and on serial {args.serial_link}" if args.serial_link else ""
        print(f"scg sim dlt645: {len(addresses)} meters {span} behind "
              f"tcp://{args.host}:{gateway.port}{serial_text}; {len(bus.schedule)} scheduled "
              "faults; Ctrl-C stops.", flush=True)
        await stop.wait()
    finally:
        if port is not None:
            await port.stop()
        if pty is not None:
            pty.stop()
        await bus.stop()
        await gateway.stop()


# ---------------------------------------------------------------- sim modbus

_MODBUS_HELP = """\
Run a described set of simulated Modbus devices: Eastron SDM120 / SDM630, CHINT DDSU666 /
DTSU666 and Acrel ADW300 meters, 10-port e-bike charging stations, fire-alarm gateways and
street-lighting controllers, behind Modbus TCP endpoints, RTU-over-TCP gateways and RS-485
buses (a socat pseudo-terminal pair; the gateway opens the endpoint's `port` path). Units
can start dead, answering exception codes or garbage; faults happen on a schedule (a unit
dies, smoke, a zone in fire, an endpoint power-cycled). `--example` prints a description
to start from. Prints where each endpoint listens; runs until Ctrl-C or SIGTERM."""

_MODBUS_EXAMPLE = """\
speed: 60                 # simulated seconds per real second: sessions end, kWh rise
seed: 1
endpoints:
  gw2:                    # Modbus TCP: a charging station and a fire-alarm gateway
    type: tcp
    host: 127.0.0.1
    port: 5020
    units:
      1: {model: ebike_charger_10p, auto: true}
      2: {model: fire_alarm_gateway}
      3: {model: street_light_controller}
  bus1:                   # RS-485: the gateway opens /tmp/scg-bus1 (9600 8N1)
    type: rtu
    port: /tmp/scg-bus1
    units:
      "1-8": {model: eastron_sdm120}
      9: {model: chint_ddsu666, health: dead}
      10: {model: chint_dtsu666, health: exception, exception_code: 4}
  gw3:                    # a serial-to-Ethernet gateway: RTU frames over TCP
    type: rtu_over_tcp
    host: 127.0.0.1
    port: 4001
    units:
      1: {model: acrel_adw300}
      2: {model: eastron_sdm630}
faults:
  - {at: 20s, endpoint: gw2, unit: 1, alarm: smoke, duration: 30s}
  - {at: 30s, endpoint: gw2, unit: 2, zone: 3, flag: fire, duration: 20s}
  - {at: 40s, endpoint: bus1, unit: 4, health: dead, duration: 30s}
  - {at: 60s, endpoint: gw2, power_off: 5s}
"""


def _register_modbus(simsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    modbus = simsub.add_parser("modbus", help="Modbus meters, chargers, fire-alarm gateways "
                               "and light controllers (TCP, RTU over TCP, RS-485)",
                               description=_MODBUS_HELP,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    modbus.add_argument("--config", metavar="FILE",
                        help="YAML description of the endpoints, units and faults")
    modbus.add_argument("--example", action="store_true",
                        help="print an example description and exit")
    modbus.set_defaults(func=_run_modbus)


def _run_modbus(args: argparse.Namespace) -> int:
    if args.example:
        print(_MODBUS_EXAMPLE, end="")
        return 0
    if not args.config:
        print("scg sim modbus: give --config FILE (--example prints one)", file=sys.stderr)
        return 2
    from simulators.modbus import ModbusFarm

    try:
        farm = ModbusFarm.from_file(args.config)
    except ValueError as exc:
        print(f"scg sim modbus: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve_modbus(farm))
    except OSError as exc:  # a port in use, socat missing: say which, no traceback
        print(f"scg sim modbus: {exc}", file=sys.stderr)
        return 1
    print("scg sim modbus: stopped", flush=True)
    return 0


async def _serve_modbus(farm: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await farm.start()
    try:
        for line in farm.describe():
            print(line, flush=True)
        print(f"scg sim modbus: {len(farm.endpoints)} endpoints up, {len(farm.faults)} "
              "scheduled faults; Ctrl-C stops.", flush=True)
        await stop.wait()
    finally:
        await farm.stop()


# ---------------------------------------------------------------- sim safety

_SAFETY_HELP = """\
Run safety devices on one MQTT connection: e-bike detector cameras and elevator
controllers, SOS buttons, fire-hazard sensors, perimeter detectors, access gates,
throw-detection cameras and manhole covers, listed in a devices file:

  period: 10s
  devices:
    - {id: lift-cam-n1, kind: ebike_detector}
    - {id: lift-n1, kind: elevator_controller, floors: 18}
    - {id: "sos-{n:03d}", kind: sos_button, repeat: 20, start: 1}
    - {id: hz-lane-1, kind: fire_hazard_sensor, hazard: fire_lane}

Each device sends a heartbeat to PREFIX/ID/status every period; events go to
PREFIX/ID/event; elevator controllers obey {"door_hold": true|false} on PREFIX/ID/set.
Prefixes per kind: scg-sim/lift-cams, scg-sim/lifts, scg-sim/sos, scg-sim/hazard,
scg-sim/perimeter, scg-sim/gates, scg-sim/throw-cams, scg-sim/manholes. Things happen by
the --story schedule or on the control topic (see `scg sim safety-control`). Runs until
Ctrl-C or SIGTERM."""

_STORY_HELP = """\
YAML list of {at: SECONDS_AFTER_START, action: ACTION, device: ID, args: {...}}, or
{every: SECONDS, story: [...]} to replay it; actions as for `scg sim safety-control`"""


def _register_safety(simsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from simulators.safety.actions import ACTIONS, CONTROL_TOPIC

    safety = simsub.add_parser("safety", help="MQTT safety devices (e-bike cameras, lifts, "
                               "SOS buttons, hazards, perimeter, gates, throw cameras, "
                               "manholes)", description=_SAFETY_HELP,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    safety.add_argument("--broker", required=True, type=_host_port, metavar="HOST:PORT",
                        help="the MQTT broker the devices talk to, e.g. 127.0.0.1:1883")
    safety.add_argument("--devices", required=True, metavar="FILE",
                        help="YAML file listing the devices (see above)")
    safety.add_argument("--story", metavar="FILE", help=_STORY_HELP)
    safety.add_argument("--control-topic", default=CONTROL_TOPIC,
                        help=f"topic of run-time control messages ({CONTROL_TOPIC})")
    safety.add_argument("--seed", type=int, default=0, help="seed of the lifts' travels (0)")
    safety.add_argument("--username", help="MQTT user name, if the broker wants one")
    safety.add_argument("--password", help="MQTT password")
    safety.add_argument("--client-id", help="MQTT client id (default: chosen by the client)")
    safety.set_defaults(func=_run_safety)

    lines = [(f"  {name:13} {kind or 'any (ID: a,b,c)':20} "
              + " ".join(f"{a}=VALUE" if required else f"[{a}=VALUE]"
                         for a, (_, required) in args.items())).rstrip()
             for name, (kind, args) in ACTIONS.items()]
    control = simsub.add_parser(
        "safety-control", help="make something happen in a running safety fleet",
        description="Send one action to a running `scg sim safety` fleet on its control\n"
                    "topic, e.g. `press_sos sos-001` or `throw throw-cam-1 floor=12`.\n\n"
                    "actions (device kind, arguments):\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    control.add_argument("--broker", required=True, type=_host_port, metavar="HOST:PORT",
                         help="the broker of the fleet, e.g. 127.0.0.1:1883")
    control.add_argument("--control-topic", default=CONTROL_TOPIC,
                         help=f"the fleet's control topic ({CONTROL_TOPIC})")
    control.add_argument("--username", help="MQTT user name, if the broker wants one")
    control.add_argument("--password", help="MQTT password")
    control.add_argument("action", choices=list(ACTIONS), metavar="ACTION",
                         help="what happens (see the list above)")
    control.add_argument("device", metavar="ID", help="the device it happens to")
    control.add_argument("args", nargs="*", metavar="KEY=VALUE",
                         help="arguments of the action, e.g. confidence=0.9 floor=12")
    control.set_defaults(func=_run_safety_control)


def _run_safety(args: argparse.Namespace) -> int:
    from simulators.safety import SafetyFleet, load_devices, load_story

    try:
        listed = load_devices(args.devices)
        kinds = {s.id: s.kind for s in listed.devices}
        story = load_story(args.story, kinds) if args.story else None
        host, port = args.broker
        fleet = SafetyFleet(listed.devices, host=host, port=port, period=listed.period,
                            prefixes=listed.prefixes, control_topic=args.control_topic,
                            story=story, seed=args.seed, username=args.username,
                            password=args.password, client_id=args.client_id,
                            keep_docs=False)
    except ValueError as exc:
        print(f"scg sim safety: {exc}", file=sys.stderr)
        return 2
    counts: dict[str, int] = {}
    for kind in kinds.values():
        counts[kind] = counts.get(kind, 0) + 1
    steps = len(story.steps) if story else 0
    print(f"scg sim safety: {len(kinds)} devices ("
          + ", ".join(f"{n} {k}" for k, n in counts.items())
          + f") -> mqtt://{host}:{port}, heartbeat every {listed.period:g} s; "
          f"{steps} story steps; control on {args.control_topic}. Ctrl-C stops.", flush=True)
    asyncio.run(_serve(fleet))
    print(f"scg sim safety: stopped; {fleet.total_sent} messages acknowledged "
          f"({sum(fleet.events_sent.values())} events), {sum(fleet.skipped.values())} "
          "skipped while disconnected", flush=True)
    return 0


def _run_safety_control(args: argparse.Namespace) -> int:
    import yaml

    from simulators.safety.actions import ACTIONS, parse_action, send_control

    kind = ACTIONS[args.action][0]
    devices = args.device.split(",") if kind is None else [args.device]
    values: dict[str, object] = {}
    for pair in args.args:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            print(f"scg sim safety-control: {pair!r} is not KEY=VALUE, e.g. floor=12",
                  file=sys.stderr)
            return 2
        values[key] = yaml.safe_load(text) if text else None
    doc = {"action": args.action, "device": devices if len(devices) > 1 else devices[0],
           "args": values}
    try:
        # Checked here too, where the caller sees it; the fleet checks the device kinds.
        action = parse_action(doc, dict.fromkeys(devices, kind or "any"), where=args.action)
        host, port = args.broker
        asyncio.run(send_control(host, port, [action.to_json()], topic=args.control_topic,
                                 username=args.username, password=args.password))
    except ValueError as exc:
        print(f"scg sim safety-control: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the broker is down or refused us: say so, no traceback
        print(f"scg sim safety-control: could not send to {args.broker[0]}:"
              f"{args.broker[1]}: {exc}", file=sys.stderr)
        return 1
    print(f"scg sim safety-control: sent {json.dumps(action.to_json())}")
    return 0
