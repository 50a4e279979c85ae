"""`scg sim gb26875` and `scg sim gb26875-control`: a GB 26875.3 transmission device with
its panels, dialling a monitoring centre, and the command that steers it."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

from simulators.cli_common import READY_FILE_HELP, host_port, remove_ready_file, write_ready_file

_HELP = """\
Run one GB 26875.3-2011 user information transmission device (用户信息传输装置) with the
fire alarm panels and detectors of --config, dialling the monitoring centre at --centre
over TCP (and redialling with backoff). It sends a heartbeat when it has been quiet for a
period, reports fire alarms, faults, shielding, resets and its own state (one report at a
time, resent until the centre confirms it), and answers the centre's reads and clock
commands. Things happen by the --story schedule or on the control port (see `scg sim
gb26875-control`). Runs until Ctrl-C or SIGTERM.

config:
  address: 100000000001
  heartbeat: 30s
  panels:
    - {address: 1, loops: 2, points: 20, name: A栋}
    - {address: 2, loops: 2, points: 20, name: B栋}"""

_STORY_HELP = """\
YAML list of {at: SECONDS_AFTER_START, action: ACTION, ...arguments}, or {every: SECONDS,
story: [...]} to replay it; actions as for `scg sim gb26875-control`"""


def register(simsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from simulators.gb26875.actions import ACTIONS

    sim = simsub.add_parser("gb26875", help="a GB 26875.3 fire alarm transmission device "
                            "with panels and detectors (TCP, to a monitoring centre)",
                            description=_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    sim.add_argument("--centre", required=True, type=host_port, metavar="HOST:PORT",
                     help="the monitoring centre (the gateway's gb26875 port), e.g. "
                          "127.0.0.1:5200")
    sim.add_argument("--config", required=True, metavar="FILE",
                     help="YAML file with the device's address and panels (see above)")
    sim.add_argument("--story", metavar="FILE", help=_STORY_HELP)
    sim.add_argument("--control", type=_control_address, default=("127.0.0.1", 0),
                     metavar="HOST:PORT", help="where the control port listens "
                     "(127.0.0.1:0: a free port, printed at start)")
    sim.add_argument("--ready-file", metavar="FILE",
                     help="once the control port listens, write its {host, port} to FILE ("
                          + READY_FILE_HELP + ")")
    sim.set_defaults(func=_run)

    lines = [(f"  {name:13} " + " ".join(f"{a}=VALUE" if required else f"[{a}=VALUE]"
                                         for a, (_, required) in args.items())).rstrip()
             for name, args in ACTIONS.items()]
    control = simsub.add_parser(
        "gb26875-control", help="make something happen in a running gb26875 simulator",
        description="Send one action to a running `scg sim gb26875` on its control port,\n"
                    "e.g. `fire panel=2 loop=1 point=3` or `reset panel=2`.\n\n"
                    "actions and arguments:\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    control.add_argument("--control", required=True, type=host_port, metavar="HOST:PORT",
                         help="the simulator's control port (printed when it starts)")
    control.add_argument("action", choices=list(ACTIONS), metavar="ACTION",
                         help="what happens (see the list above)")
    control.add_argument("args", nargs="*", metavar="KEY=VALUE",
                         help="arguments, e.g. panel=2 loop=1 point=3 active=false")
    control.set_defaults(func=_run_control)


def _control_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:0")
    return host, int(port)


def _run(args: argparse.Namespace) -> int:
    from simulators.gb26875 import TransmissionDeviceSim, load_config, load_story

    try:
        config = load_config(args.config)
        story = load_story(args.story) if args.story else None
        host, port = args.centre
        device = TransmissionDeviceSim(config, host, port, story=story,
                                       control_host=args.control[0],
                                       control_port=args.control[1])
    except ValueError as exc:
        print(f"scg sim gb26875: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(device, args.ready_file))
    except OSError as exc:  # the control port is taken: say so, no traceback
        print(f"scg sim gb26875: {exc}", file=sys.stderr)
        return 1
    counts = device.counts
    print(f"scg sim gb26875: stopped; {counts['confirmed']} reports confirmed, "
          f"{counts['resent']} resends, {counts['heartbeats']} heartbeats, "
          f"{len(device.outbox)} reports still unconfirmed", flush=True)
    return 0


async def _serve(device: Any, ready_file: str | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await device.start()
    try:
        config = device.config
        detectors = sum(len(p.detectors) for p in config.panels)
        steps = len(device.story.steps)
        print(f"scg sim gb26875: transmission device {config.address} with "
              f"{len(config.panels)} panels and {detectors} detectors -> "
              f"tcp://{device.host}:{device.port}, heartbeat every {config.heartbeat:g} s; "
              f"{steps} story steps; control on {device.control_host}:{device.control_port}. "
              "Ctrl-C stops.", flush=True)
        if ready_file:
            write_ready_file(ready_file, {"host": device.control_host,
                                          "port": device.control_port})
        await stop.wait()
    finally:
        remove_ready_file(ready_file)
        await device.stop()


def _run_control(args: argparse.Namespace) -> int:
    import yaml

    from simulators.gb26875.actions import parse_action, send_control

    doc: dict[str, Any] = {"action": args.action}
    for pair in args.args:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            print(f"scg sim gb26875-control: {pair!r} is not KEY=VALUE, e.g. panel=2",
                  file=sys.stderr)
            return 2
        doc[key] = yaml.safe_load(text) if text else None
    host, port = args.control
    try:
        action = parse_action(doc, where=args.action)  # refused here, where the caller sees it
        answer = asyncio.run(send_control(host, port, action.to_json()))
    except ValueError as exc:
        print(f"scg sim gb26875-control: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # nothing listens, or it hung up: say so, no traceback
        print(f"scg sim gb26875-control: could not reach {host}:{port}: {exc}",
              file=sys.stderr)
        return 1
    print(json.dumps(answer, ensure_ascii=False))
    return 0 if answer.get("ok") else 1
