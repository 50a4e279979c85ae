"""The `scg` command: one entry point for the edge, the central service and the simulators.

Each package registers its own subcommands; heavy imports happen inside the handlers,
so `scg gateway …` on an edge box never imports the server's dependencies.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scg",
        description="scg - smart community gateway: measures smart-community acceptance "
                    "indicators from the devices themselves.",
    )
    parser.add_argument("--log-level", default=os.environ.get("SCG_LOG_LEVEL", "INFO"),
                        help="DEBUG, INFO, WARNING or ERROR (env SCG_LOG_LEVEL; default INFO)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser(
        "demo", help="run a whole simulated community on this machine",
        description="Start a private mosquitto and PostgreSQL under a local state folder, a "
                    "simulated community 'demo' (street lights, some failing), the edge "
                    "gateway, ingest and the API on 127.0.0.1:8000. Ctrl-C stops everything.")
    demo.add_argument("--state-dir", default=".scg-state/demo",
                      help="folder for the database, broker, spool and logs "
                           "(default .scg-state/demo)")
    demo.add_argument("--api-port", type=int, default=8000, help="API port (default 8000)")
    demo.add_argument("--fresh", action="store_true",
                      help="delete the state folder first and start from an empty database")
    demo.set_defaults(func=_run_demo)

    from gateway.cli import register as register_gateway
    from scg.commands import claims, history, ingest, inventory, report, web
    from simulators.cli import register as register_simulators

    register_gateway(sub)
    for central in (ingest, inventory, web, history, report, claims):
        central.register(sub)
    register_simulators(sub)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from scg.demo import run_demo

    return run_demo(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
