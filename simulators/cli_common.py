"""Pieces every `scg sim …` command shares: HOST:PORT arguments, the broker login,
run-until-signal, and the ready file through which a simulator says where it listens."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path
from typing import Any

READY_FILE_HELP = ("once listening, write where (YAML) to this file, whole or not at all; "
                   "it is removed on stop. Give port 0 and read the port from here: no "
                   "race for a free port")


def host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:1883")
    return host, int(port)


def broker_login_args(p: argparse.ArgumentParser) -> None:
    """--username and --password-file; the password never on the command line, where
    every user of the machine could read it in the process list."""
    p.add_argument("--username", default=os.environ.get("SCG_BROKER_USERNAME"),
                   help="MQTT user name (env SCG_BROKER_USERNAME); the password comes from "
                        "--password-file or env SCG_BROKER_PASSWORD")
    p.add_argument("--password-file", metavar="FILE",
                   help="file holding the MQTT password on one line")


def broker_password(args: argparse.Namespace) -> str | None:
    """The password of --password-file, else of env SCG_BROKER_PASSWORD; ValueError saying
    what is wrong with the file."""
    if args.password_file:
        try:
            text = Path(args.password_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"--password-file {args.password_file}: cannot be read ({exc})") \
                from None
        if not text or "\n" in text:
            raise ValueError(f"--password-file {args.password_file}: must hold the password "
                             "on one line")
        return text
    password = os.environ.get("SCG_BROKER_PASSWORD") or None
    if password is not None and not args.username:
        raise ValueError("SCG_BROKER_PASSWORD is set but no --username (or "
                         "SCG_BROKER_USERNAME) is given")
    return password


async def serve(fleet: Any) -> None:
    """Start `fleet`, run until SIGINT or SIGTERM, then stop it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await fleet.start()
    try:
        await stop.wait()
    finally:
        await fleet.stop()


def write_ready_file(path: str | Path, doc: Any) -> None:
    """Write `doc` as YAML to `path` through a temporary file and a rename, so a reader
    that sees the file sees all of it; a supervisor removes the file before starting us
    and waits for it to appear, which cannot match a previous run."""
    import yaml

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)


def remove_ready_file(path: str | Path | None) -> None:
    """On stop: a ready file must not outlive the process it describes."""
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def count_repeats(*loggers: str) -> None:
    """Let each of these (library) loggers log a kind of line once, then count its repeats
    (`telemetry.repeats.RepeatFilter`): a simulator answering thousands of requests must
    not write a line, or a traceback, for each one."""
    from telemetry.repeats import RepeatFilter

    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(RepeatFilter())
