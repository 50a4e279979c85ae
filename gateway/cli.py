"""`scg gateway run` and `scg gateway check`: the edge daemon's command line."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gateway = sub.add_parser(
        "gateway", help="the edge gateway: talk to devices, forward telemetry north",
        description="The edge gateway reads devices through protocol drivers, keeps what "
                    "they report in a durable spool and forwards it to the central MQTT "
                    "broker.")
    commands = gateway.add_subparsers(dest="gateway_command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run", help="run the gateway until SIGINT / SIGTERM",
        description="Validate the config, then run the drivers, the device health state "
                    "machine, the spool and the uplink until SIGINT or SIGTERM. Exit 2 when "
                    "the config is invalid.")
    run.add_argument("--config", required=True, metavar="FILE",
                     help="the gateway YAML config (see deploy/edge/gateway.example.yaml)")
    run.set_defaults(func=_run)

    check = commands.add_parser(
        "check", help="validate a gateway config and exit",
        description="Load the config and let every driver check its settings and device "
                    "profiles, without connecting to anything. Prints a one-line summary "
                    "and exits 0, or lists every problem and exits 2.")
    check.add_argument("--config", required=True, metavar="FILE",
                       help="the gateway YAML config to check")
    check.set_defaults(func=_check)


def _run(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.app import run_gateway
    from gateway.config import ConfigError, load_config

    try:
        config = load_config(args.config)
        asyncio.run(run_gateway(config))  # drivers check their settings in Gateway()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def _check(args: argparse.Namespace) -> int:
    from gateway.build import build_drivers
    from gateway.config import ConfigError, load_config

    try:
        config = load_config(args.config)
        build_drivers(config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    per_driver = ", ".join(f"{name}: {len(devices)}"
                           for name, devices in config.devices_by_driver().items())
    up = config.uplink
    how = ("" if up.tls is None else
           " over TLS with a client certificate" if up.tls.cert_file else " over TLS") + \
        (f" as {up.username}" if up.username else "")
    print(f"{config.source}: ok - gateway {config.gateway} of community {config.community}, "
          f"{len(config.devices)} devices ({per_driver or 'none'}), uplink "
          f"{up.host}:{up.port}{how}, spool {config.spool.path}"
          f"{f', metrics at {config.metrics.url}' if config.metrics else ''}")
    return 0
