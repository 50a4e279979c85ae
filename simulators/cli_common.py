"""Pieces every `scg sim …` command shares: HOST:PORT arguments, run-until-signal."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any


def host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:1883")
    return host, int(port)


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
