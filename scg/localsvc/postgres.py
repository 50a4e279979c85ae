"""A private PostgreSQL cluster on a loopback port, for the demo and the integration tests.

The server runs in the foreground as a child process (never daemonised by pg_ctl), so
it stops with its parent. initdb refuses to run as root, so as root the cluster runs as
the `postgres` OS user, and its data directory must be reachable by that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from scg.localsvc.process import (
    PORT_ATTEMPTS,
    free_port,
    log_size,
    lost_port_race,
    run_as,
    spawn,
    stop,
    wait_for_port,
)


def find_bindir() -> Path:
    """Directory holding initdb and postgres: Debian's packages, else the `pgserver` wheel."""
    pg_ctl = shutil.which("pg_ctl")
    candidates = [Path(os.path.realpath(pg_ctl)).parent] if pg_ctl else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    try:
        import pgserver  # optional wheel that carries PostgreSQL binaries

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    for c in candidates:
        if (c / "initdb").exists() and (c / "postgres").exists():
            return c
    raise RuntimeError("no PostgreSQL server binaries found; run `apt-get install postgresql` "
                       "(make test / make demo do this for you) or `pip install pgserver`")


def server_user() -> str | None:
    """OS user the server must run as: None for a normal user, `postgres` for root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root, and there is no 'postgres' OS user to run "
                           "PostgreSQL as; install the postgresql package or run as a "
                           "normal user") from None
    return "postgres"


def reachable_by_others(path: Path) -> bool:
    """True when every existing parent of `path` lets other users traverse it."""
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.stat().st_mode & stat.S_IXOTH:
            return False
    return True


#: The signals `pg_ctl stop -m MODE` sends to the postmaster.
_STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


class PostgresCluster:
    """One throwaway or demo cluster. Superuser `postgres`, trust auth, loopback only."""

    def __init__(self, datadir: Path, port: int | None = None, *, durable: bool = True,
                 settings: Mapping[str, str] | None = None) -> None:
        self.datadir = datadir
        self.port = port or free_port()
        self._port_chosen = port is None  # ours to change if another process takes it
        self.durable = durable
        # Extra server settings passed as `-c key=value`, applied after the defaults so they
        # win (e.g. {"shared_preload_libraries": "timescaledb"}).
        self.settings = dict(settings or {})
        self.bindir = find_bindir()
        self.user = server_user()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = datadir.parent / f"{datadir.name}.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _own(self, path: Path) -> None:
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(path, account.pw_uid, account.pw_gid)

    def init(self) -> None:
        """Create the cluster unless it already exists."""
        if (self.datadir / "PG_VERSION").exists():
            return
        if self.user and not reachable_by_others(self.datadir.parent):
            raise RuntimeError(f"{self.datadir.parent} cannot be reached by the postgres OS user; "
                               "choose a data directory under a world-traversable path")
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        self.datadir.mkdir(mode=0o700, exist_ok=True)
        self._own(self.datadir)
        run_as([str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres",
                "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], user=self.user)

    def start(self) -> None:
        self.init()
        self.log.touch()
        self._own(self.log)
        for attempt in range(1, PORT_ATTEMPTS + 1):
            start_of_run = log_size(self.log)
            # SIGINT is PostgreSQL's "fast shutdown": it does not wait for clients to leave.
            self.proc = spawn(self._server_args(), log=self.log, user=self.user,
                              death_signal=signal.SIGINT)
            try:
                wait_for_port(self.port, self.proc, what="PostgreSQL", log=self.log, timeout=60)
                self._wait_ready()
                return
            except RuntimeError:
                if not (self._port_chosen and attempt < PORT_ATTEMPTS
                        and self.proc.poll() is not None
                        and lost_port_race(self.log, start_of_run)):
                    raise
                self.port = free_port()

    def _server_args(self) -> list[str]:
        # TCP only (no unix socket): a socket's path is limited to 107 bytes, and a socket
        # in the data directory would make a long --state-dir fail. Every client here
        # connects to 127.0.0.1:port.
        args = [str(self.bindir / "postgres"), "-D", str(self.datadir), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                "-c", "max_connections=200", "-c", "shared_buffers=128MB"]
        if not self.durable:
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "full_page_writes=off"]
        for key, value in self.settings.items():
            args += ["-c", f"{key}={value}"]
        return args

    def _wait_ready(self, timeout: float = 60) -> None:
        # The port opens before recovery ends; pg_isready says "rejecting connections"
        # until then, so ask again until it answers "accepting".
        deadline = time.monotonic() + timeout
        while True:
            probe = subprocess.run([str(self.bindir / "pg_isready"), "-h", "127.0.0.1",
                                    "-p", str(self.port), "-t", "5"],
                                   capture_output=True, text=True, check=False)
            if probe.returncode == 0:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with code {self.proc.returncode}; "
                                   f"see {self.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL on port {self.port} not ready after {timeout} s: "
                                   f"{probe.stdout.strip()}; see {self.log}")
            time.sleep(0.05)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server the way `pg_ctl stop -m MODE` does, with the same signal: `smart`
        waits for clients to leave, `fast` disconnects them, `immediate` quits at once
        without a checkpoint, so the next start runs crash recovery (a test's power cut)."""
        if mode not in _STOP_SIGNALS:
            raise ValueError(f"stop mode {mode!r} is not one of {', '.join(_STOP_SIGNALS)}")
        if self.proc is not None:
            stop(self.proc, _STOP_SIGNALS[mode], timeout=30)
            self.proc = None

    def restart(self, mode: str = "fast") -> None:
        """Stop with `mode`, then start again on the same port and data directory."""
        self.stop(mode)
        self.start()

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through psql and return its unaligned output (for setup and diagnostics)."""
        return run_as([str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v",
                       "ON_ERROR_STOP=1", "-d", self.dsn(database), "-c", sql])

    def create_database(self, name: str) -> str:
        """Create database `name` (dropping an old one) and return its DSN."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
