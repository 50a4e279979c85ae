"""`scg sim modbus`: a described set of simulated Modbus devices."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from simulators.cli_common import (
    READY_FILE_HELP,
    count_repeats,
    remove_ready_file,
    write_ready_file,
)

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
      1: {model: ebike_charger_10p, auto: true, self_test_every: 1h}
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


def register(simsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    modbus = simsub.add_parser("modbus", help="Modbus meters, chargers, fire-alarm gateways "
                               "and light controllers (TCP, RTU over TCP, RS-485)",
                               description=_MODBUS_HELP,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    modbus.add_argument("--config", metavar="FILE",
                        help="YAML description of the endpoints, units and faults")
    modbus.add_argument("--ready-file", metavar="FILE",
                        help="once every endpoint listens, write {endpoints: {NAME: {type, "
                             "host, port}}} to FILE (" + READY_FILE_HELP + ")")
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

    # pymodbus logs each request a model failed on (with its traceback) at ERROR.
    count_repeats("pymodbus.logging")
    try:
        farm = ModbusFarm.from_file(args.config)
    except ValueError as exc:
        print(f"scg sim modbus: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve_modbus(farm, args.ready_file))
    except OSError as exc:  # a port in use, socat missing: say which, no traceback
        print(f"scg sim modbus: {exc}", file=sys.stderr)
        return 1
    print("scg sim modbus: stopped", flush=True)
    return 0


async def _serve_modbus(farm: Any, ready_file: str | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await farm.start()
    try:
        for line in farm.describe():
            print(line, flush=True)
        if ready_file:
            write_ready_file(ready_file, {"endpoints": farm.listening()})
        print(f"scg sim modbus: {len(farm.endpoints)} endpoints up, {len(farm.faults)} "
              "scheduled faults; Ctrl-C stops.", flush=True)
        await stop.wait()
    finally:
        remove_ready_file(ready_file)
        await farm.stop()
