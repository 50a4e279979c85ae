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

    from scg.demo_plan import DemoPlan

    demo = sub.add_parser(
        "demo", help="run a whole simulated community on this machine",
        description="Start, as children of one process, a private mosquitto and PostgreSQL "
                    "under the state folder, a simulated community 'demo' over the devices' "
                    f"real protocols — {DemoPlan().devices_summary()} — the edge gateway, "
                    "ingest, a simulated duty officer answering SOS calls, and the API on "
                    "http://127.0.0.1:API_PORT (--api-port). Starting again on the same "
                    "state folder keeps the database and its history. Logs are in "
                    "STATE/logs/, each rotated at 8 MiB. Ctrl-C stops everything.")
    demo.add_argument("--state-dir", default=".scg-state/demo",
                      help="folder for the database, broker, spool and logs "
                           "(default .scg-state/demo)")
    demo.add_argument("--api-port", type=int, default=8000, metavar="API_PORT",
                      help="port of the API and the console on 127.0.0.1 (default 8000)")
    demo.add_argument("--fresh", action="store_true",
                      help="delete the state folder first and start from an empty database")
    demo.set_defaults(func=_run_demo)

    from gateway.cli import register as register_gateway
    from scg.commands import (
        audit,
        broker,
        claims,
        evaluator,
        history,
        ingest,
        inventory,
        keys,
        report,
        users,
        web,
    )
    from simulators.cli import register as register_simulators

    register_gateway(sub)
    for central in (ingest, inventory, web, evaluator, history, report, claims, broker, users,
                    keys, audit):
        central.register(sub)
    register_simulators(sub)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from scg.demo import run_demo

    return run_demo(args)


#: What paho (through aiomqtt, on the logger "mqtt") logs at ERROR when a connection
#: breaks, e.g. "failed to receive on socket: [Errno 104] Connection reset by peer".
_PAHO_CONNECTION_LOST = ("failed to receive on socket", "timeout on socket")


def _paho_socket_errors(record: logging.LogRecord) -> bool:
    """Drop paho's own line about a broken socket. Each of our MQTT clients reports a lost
    connection itself, once, as a WARNING naming the broker and what happens next; paho's
    line would make every routine outage an ERROR. paho's other errors (an exception in a
    callback: a bug) still go through."""
    return not str(record.msg).startswith(_PAHO_CONNECTION_LOST)


_LATE_SOCKET_CALLBACKS = ("Exception in callback BaseSelectorEventLoop.add_writer(",
                          "Exception in callback BaseSelectorEventLoop.add_reader(")


def _aiomqtt_closed_socket(record: logging.LogRecord) -> bool:
    """Drop asyncio's ERROR for aiomqtt's late socket callback: aiomqtt asks the event
    loop (from paho's thread) to watch the socket, and when the connection breaks first
    the loop finds the descriptor closed. The connection is gone either way and our code
    says so; any other failing callback still goes through."""
    late = str(record.msg).startswith(_LATE_SOCKET_CALLBACKS)
    closed = record.exc_info is not None and isinstance(record.exc_info[1],
                                                        OSError | ValueError | KeyError)
    return not (late and closed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = args.log_level.upper()
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("mqtt").addFilter(_paho_socket_errors)
    logging.getLogger("asyncio").addFilter(_aiomqtt_closed_socket)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
