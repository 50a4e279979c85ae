"""`scg api`: the HTTP API and, in the same process, the indicator evaluator (unless
`--evaluator off`) and the hourly indicator history.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from scg.commands.common import (
    CommandError,
    connect,
    database_arg,
    database_url,
    guarded,
    require_migrated,
)
from scg.commands.evaluator import evaluator_options, evaluator_settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    api = sub.add_parser(
        "api", help="serve the indicators and device API over HTTP",
        description="Serve the HTTP API (indicators, devices, health, alarms, declared values "
                    "with their evidence; OpenAPI at /docs) and record every community's "
                    "indicators into their history every --history-interval.")
    database_arg(api)
    api.add_argument("--host", default="127.0.0.1", help="address to listen on "
                                                         "(default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    api.add_argument("--fd", type=int, default=None, metavar="N",
                     help="serve on the listening socket inherited as descriptor N instead "
                          "of binding --host/--port (`scg demo` binds its port before "
                          "anything else starts, so that no other process can take it)")
    api.add_argument("--evidence-dir", default=os.environ.get("SCG_EVIDENCE_DIR"),
                     metavar="DIR",
                     help="where evidence files of declared values are stored, by SHA-256 "
                          "(env SCG_EVIDENCE_DIR; default .scg-state/evidence)")
    api.add_argument("--history-interval",
                     default=os.environ.get("SCG_HISTORY_INTERVAL", "PT1H"), metavar="DURATION",
                     help="record every community's indicators this often while serving "
                          "(ISO 8601 duration or seconds; env SCG_HISTORY_INTERVAL; default "
                          "PT1H; 0 or off: do not record, e.g. when cron runs `scg history "
                          "record`)")
    api.add_argument("--evaluator", choices=("on", "off"),
                     default=os.environ.get("SCG_EVALUATOR", "on"),
                     help="keep every community's indicator snapshot up to date in this "
                          "process (env SCG_EVALUATOR; default on); off: serve only, with "
                          "`scg evaluator run` beside it")
    evaluator_options(api)
    api.set_defaults(func=_api)


def _api(args: argparse.Namespace) -> int:
    async def check() -> None:
        conn = await connect(database_url(args))
        try:
            await require_migrated(conn)
        finally:
            await conn.close()

    try:
        interval = _history_interval(args.history_interval)
        snapshots = evaluator_settings(args) if args.evaluator == "on" else None
        if args.fd is not None:
            _check_listening(args.fd)
    except CommandError as exc:
        print(f"scg {args.command}: {exc}", file=sys.stderr)
        return 2
    status = guarded(args, check)
    if status:
        return status
    from pathlib import Path

    import uvicorn

    from web import create_app

    evidence = Path(args.evidence_dir).expanduser().resolve() if args.evidence_dir else None
    try:
        app = create_app(args.database_url, evidence_dir=evidence, history_interval=interval,
                         evaluator=snapshots)
    except ValueError as exc:  # a bad SCG_EVIDENCE_MAX_BYTES, SCG_COUNTY_SETTINGS file …
        print(f"scg {args.command}: {exc}", file=sys.stderr)
        return 2
    # log_config=None: uvicorn's loggers go through the logging set up by `scg`.
    if args.fd is not None:
        uvicorn.run(app, fd=args.fd, log_config=None)
    else:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None)
    return 0


def _check_listening(fd: int) -> None:
    """--fd must name a socket this process inherited in the listening state; uvicorn
    would otherwise stop with a traceback (EBADF) or wait for ever on accept."""
    import socket

    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    except OSError as exc:
        raise CommandError(f"--fd {fd}: not an open socket in this process ({exc.strerror}); "
                           "pass the descriptor of a listening socket the parent left open, "
                           "or --host/--port to bind one") from None
    if not listening:
        raise CommandError(f"--fd {fd}: the socket is not listening; the parent must bind "
                           "it and call listen() before starting scg api")


def _history_interval(value: str) -> Any:
    """--history-interval as a timedelta, None for 0 / off."""
    from datetime import timedelta

    from indicators.params import ParamError, parse_window

    if value.strip().lower() in ("0", "off", "none", "no"):
        return None
    try:
        return parse_window(value, timedelta(hours=1))
    except ParamError as exc:
        raise CommandError(f"--history-interval: {exc}") from None


