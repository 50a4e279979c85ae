"""`scg sim dlt645`: DL/T 645-2007 meters behind a TCP transparent gateway."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from simulators.cli_common import READY_FILE_HELP, remove_ready_file, write_ready_file

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


def register(simsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    meters.add_argument("--ready-file", metavar="FILE",
                        help="once the gateway listens, write {host, port} to FILE ("
                             + READY_FILE_HELP + ")")
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
        if args.ready_file:
            write_ready_file(args.ready_file, {"host": args.host, "port": gateway.port})
        await stop.wait()
    finally:
        remove_ready_file(args.ready_file)
        if port is not None:
            await port.stop()
        if pty is not None:
            pty.stop()
        await bus.stop()
        await gateway.stop()
