"""`scg sim safety` and `scg sim safety-control`: the MQTT safety devices."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from simulators.cli_common import broker_login_args, broker_password, host_port, serve

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


def register(simsub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from simulators.safety.actions import ACTIONS, CONTROL_TOPIC

    safety = simsub.add_parser("safety", help="MQTT safety devices (e-bike cameras, lifts, "
                               "SOS buttons, hazards, perimeter, gates, throw cameras, "
                               "manholes)", description=_SAFETY_HELP,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    safety.add_argument("--broker", required=True, type=host_port, metavar="HOST:PORT",
                        help="the MQTT broker the devices talk to, e.g. 127.0.0.1:1883")
    safety.add_argument("--devices", required=True, metavar="FILE",
                        help="YAML file listing the devices (see above)")
    safety.add_argument("--story", metavar="FILE", help=_STORY_HELP)
    safety.add_argument("--control-topic", default=CONTROL_TOPIC,
                        help=f"topic of run-time control messages ({CONTROL_TOPIC})")
    safety.add_argument("--seed", type=int, default=0, help="seed of the lifts' travels (0)")
    broker_login_args(safety)
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
    control.add_argument("--broker", required=True, type=host_port, metavar="HOST:PORT",
                         help="the broker of the fleet, e.g. 127.0.0.1:1883")
    control.add_argument("--control-topic", default=CONTROL_TOPIC,
                         help=f"the fleet's control topic ({CONTROL_TOPIC})")
    broker_login_args(control)
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
                            password=broker_password(args), client_id=args.client_id,
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
    asyncio.run(serve(fleet))
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
                                 username=args.username, password=broker_password(args)))
    except ValueError as exc:
        print(f"scg sim safety-control: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the broker is down or refused us: say so, no traceback
        print(f"scg sim safety-control: could not send to {args.broker[0]}:"
              f"{args.broker[1]}: {exc}", file=sys.stderr)
        return 1
    print(f"scg sim safety-control: sent {json.dumps(action.to_json())}")
    return 0
