"""A private mosquitto broker on a loopback port, for the demo and the integration tests.

Configured the way `deploy/mosquitto/scg.conf` configures production: persistence on,
so that QoS 1 messages queued for a persistent ingest session survive a broker restart,
and a queue limit high enough that an ingest outage does not drop messages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from scg.localsvc.process import (
    PORT_ATTEMPTS,
    free_port,
    log_size,
    lost_port_race,
    spawn,
    stop,
    wait_for_port,
)


def find_mosquitto() -> str:
    """Path of the mosquitto binary, or RuntimeError saying how to install it."""
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("mosquitto is not installed; run `apt-get install mosquitto` "
                       "(make test / make demo do this for you)")


class Mosquitto:
    """One broker process. `start()` returns when it accepts connections."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self._port_chosen = port is None  # ours to change if another process takes it
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def config_text(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "autosave_interval 60",
            # An ingest outage must not drop queued QoS 1 messages.
            "max_queued_messages 1000000",
            "max_queued_bytes 0",
            "max_inflight_messages 0",
            "set_tcp_nodelay true",
            "log_type error",
            "log_type warning",
            "log_type notice",
            f"log_dest file {self.log}",
        ]
        if os.geteuid() == 0:
            # As root, mosquitto would switch to user "mosquitto" and lose its folder.
            lines.append("user root")
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        stdout = self.workdir / "stdout.log"
        for attempt in range(1, PORT_ATTEMPTS + 1):
            since = (log_size(self.log), log_size(stdout))
            conf.write_text(self.config_text())
            self.proc = spawn([find_mosquitto(), "-c", str(conf)], log=stdout)
            try:
                wait_for_port(self.port, self.proc, what="mosquitto", log=self.log)
                return
            except RuntimeError:
                if not (self._port_chosen and attempt < PORT_ATTEMPTS
                        and self.proc.poll() is not None
                        and (lost_port_race(self.log, since[0])
                             or lost_port_race(stdout, since[1]))):
                    raise
                self.port = free_port()

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
