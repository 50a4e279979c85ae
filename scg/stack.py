"""A whole scg installation on one machine: brokers, database and scg processes as children.

`scg demo` and the end-to-end tests drive the product through the same commands an
operator runs (`scg ingest run`, `scg gateway run`, …), each a child process with its
own log file, so a test that kills ingest kills a real process.

The stack writes the children's log files itself (`scg.localsvc.childlog`): each is
bounded by rotation, and a wait for a child's line looks only at what this run printed.

Two database roles, as in a deployment (deploy/central/README.md): the cluster's superuser
owns the schema and runs `scg db migrate` and `scg inventory import` (`owner_env`); every
other process connects as the runtime role `scg_app` (`database_url`), which owns nothing
and may only add to the records, with a password kept in STATE/db-app-password (0600).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from inventory.keyfile import init_key_file
from scg.broker.accounts import DEVICES_USER, INGEST_USER, gateway_username
from scg.localsvc import Mosquitto, PostgresCluster
from scg.localsvc.childlog import DEFAULT_BACKUPS, DEFAULT_MAX_BYTES, ChildLog
from scg.localsvc.postgres import reachable_by_others, server_user
from scg.localsvc.process import run_as, spawn, stop, wait_for_port
from scg.scenario import Endpoint

#: The runtime role ingest, the API and the other commands connect as.
APP_ROLE = "scg_app"


class Stack:
    """Services under `state_dir`: `broker` (central), `device_broker`, `pg`, and scg processes.

    Both brokers refuse anonymous clients: each process logs in with the account of its
    role — ingest as `scg-ingest` (`login_env`), the gateway as its own account with its
    password in a file (`uplink`), devices and the gateway's mqtt driver as `devices`
    (`devices`, `device_env`).
    """

    def __init__(self, state_dir: Path, *, durable: bool = True,
                 separate_device_broker: bool = False, log_max_bytes: int = DEFAULT_MAX_BYTES,
                 log_backups: int = DEFAULT_BACKUPS) -> None:
        self.state_dir = state_dir
        self.log_max_bytes = log_max_bytes
        self.log_backups = log_backups
        self.logs = state_dir / "logs"
        self.durable = durable
        self.broker = Mosquitto(state_dir / "broker")
        self.device_broker = (Mosquitto(state_dir / "device-broker") if separate_device_broker
                              else self.broker)
        self.pg = PostgresCluster(self._pg_datadir(), durable=durable)
        #: The key file sealing residents' data and camera logins (made at the first start).
        self.data_key_file = state_dir / "data.keys"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.outputs: dict[str, ChildLog] = {}
        self.database = "scg"

    def _pg_datadir(self) -> Path:
        wanted = self.state_dir / "pg"
        if server_user() is None or reachable_by_others(self.state_dir):
            return wanted
        # As root in a folder the postgres user cannot reach (e.g. under /root): keep the
        # cluster in a folder of its own under /var/tmp, named after the state folder.
        key = hashlib.sha256(str(self.state_dir.resolve()).encode()).hexdigest()[:10]
        return Path("/var/tmp") / f"scg-pg-{key}" / "pg"

    @property
    def owner_url(self) -> str:
        """The schema's owner (the cluster's superuser): migrations and inventory imports."""
        return self.pg.dsn(self.database)

    @property
    def app_password_file(self) -> Path:
        return self.state_dir / "db-app-password"

    @property
    def database_url(self) -> str:
        """The runtime role: what ingest, the API and every other command connect as."""
        return (f"postgresql://{APP_ROLE}:{self._app_password()}@127.0.0.1:{self.pg.port}/"
                f"{self.database}")

    def _app_password(self) -> str:
        """The runtime role's password, made at the first start (URL-safe characters)."""
        path = self.app_password_file
        if not path.exists():
            self.state_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(24) + "\n")
        return path.read_text().strip()

    def owner_env(self) -> dict[str, str]:
        """Environment of a command that runs as the schema's owner."""
        return {"SCG_DATABASE_URL": self.owner_url}

    def migrate(self) -> str:
        """`scg db migrate` as the owner; it creates the runtime role and sets its password."""
        self._app_password()
        return self.run("db", "migrate", "--app-role", APP_ROLE, "--app-password-file",
                        str(self.app_password_file), env=self.owner_env())

    def start_infra(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        os.chmod(self.state_dir, 0o755)
        self.pg.datadir.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.pg.datadir.parent, 0o755)
        if not self.data_key_file.exists():
            init_key_file(self.data_key_file)
        self.broker.start()
        if self.device_broker is not self.broker:
            self.device_broker.start()
        self.pg.start()
        exists = self.pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'")
        if not exists.strip():
            self.pg.psql(f'CREATE DATABASE "{self.database}"')

    def env(self) -> dict[str, str]:
        """What every child gets; broker credentials only where a child is given them."""
        env = dict(os.environ)
        for name in ("SCG_BROKER_USERNAME", "SCG_BROKER_PASSWORD"):
            env.pop(name, None)  # a child logs in only as the role it is started for
        env["SCG_DATABASE_URL"] = self.database_url
        env["SCG_BROKER"] = f"{self.broker.host}:{self.broker.port}"
        env["SCG_EVIDENCE_DIR"] = str(self.state_dir / "evidence")
        env["SCG_DATA_KEY_FILE"] = str(self.data_key_file)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def login_env(self, username: str = INGEST_USER) -> dict[str, str]:
        """SCG_BROKER_USERNAME / SCG_BROKER_PASSWORD of `username` on the central broker."""
        login = self.broker.login(username)
        return {"SCG_BROKER_USERNAME": login.username, "SCG_BROKER_PASSWORD": login.password}

    def device_env(self) -> dict[str, str]:
        """The device account on the device broker, for the device simulators."""
        login = self.device_broker.login(DEVICES_USER)
        return {"SCG_BROKER_USERNAME": login.username, "SCG_BROKER_PASSWORD": login.password}

    def uplink(self, community: str, gateway: str) -> Endpoint:
        """The central broker as gateway `community/gateway` reaches it: its own account,
        the password in a file as `scg broker config` hands it out."""
        username = gateway_username(community, gateway)
        return Endpoint(self.broker.host, self.broker.port, username,
                        password_file=self.broker.password_file(username))

    def devices(self) -> Endpoint:
        """The device broker as the devices and the gateway's mqtt driver reach it."""
        login = self.device_broker.login(DEVICES_USER)
        return Endpoint(self.device_broker.host, self.device_broker.port, login.username,
                        password=login.password)

    def scg_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "scg.cli", *args]

    def run(self, *args: str, timeout: float = 120, env: dict[str, str] | None = None) -> str:
        """Run an scg command to completion (with `env` added to the stack's environment);
        raise RuntimeError with its output if it fails."""
        proc = subprocess.run(self.scg_command(*args), capture_output=True, text=True,
                              env={**self.env(), **(env or {})}, timeout=timeout,
                              check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"scg {' '.join(args)} failed (exit {proc.returncode}):\n"
                               f"{proc.stdout}{proc.stderr}")
        return proc.stdout

    def start(self, name: str, *args: str,
              env: dict[str, str] | None = None,
              pass_fds: Sequence[int] = ()) -> subprocess.Popen[bytes]:
        """Start a long-running scg command as child `name` (with `env` added to the
        stack's environment, and descriptors `pass_fds` inherited); its output goes,
        through the stack, to logs/NAME.log (rotated at `log_max_bytes`)."""
        if name in self.procs and self.procs[name].poll() is None:
            raise RuntimeError(f"{name} is already running")
        old = self.outputs.pop(name, None)
        if old is not None:
            old.close()
        output = ChildLog(self.log(name), max_bytes=self.log_max_bytes,
                          backups=self.log_backups)
        proc = spawn(self.scg_command(*args), env={**self.env(), **(env or {})}, pipe=True,
                     pass_fds=pass_fds)
        assert proc.stdout is not None
        output.note(f"scg {' '.join(args)} started as pid {proc.pid}")
        output.follow(proc.stdout, name)
        self.procs[name] = proc
        self.outputs[name] = output
        return proc

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def tail(self, name: str, drain_s: float = 2.0) -> str:
        """The last lines child `name` printed in this run, for saying why it exited: its
        final lines may still be in the pipe, so wait up to `drain_s` for the output to end."""
        output = self.outputs[name]
        output.wait_closed(drain_s)
        return output.tail()

    def wait_for_log(self, name: str, text: str, timeout: float = 30, after: int = 0) -> int:
        """Wait until a line containing `text` appears in what child `name` printed in
        this run (past byte offset `after` of this run's output); return where it ends.
        Lines an earlier run left in the same log file never count."""
        output = self.outputs.get(name)
        if output is None:
            raise RuntimeError(f"{name} was not started by this stack")
        proc = self.procs.get(name)
        try:
            return output.wait_for(text, timeout=timeout, after=after,
                                   gone=lambda: proc is not None and proc.poll() is not None)
        except EOFError:
            code = proc.poll() if proc is not None else None
            raise RuntimeError(f"{name} exited with {code} before logging {text!r}; its last "
                               f"lines ({self.log(name)}):\n{self.tail(name)}") from None
        except TimeoutError:
            raise RuntimeError(f"{name} did not log {text!r} within {timeout} s; its last "
                               f"lines ({self.log(name)}):\n{output.tail()}") from None

    def wait_for_file(self, name: str, path: Path, timeout: float = 30) -> Path:
        """Wait until child `name` has written `path` (a ready file the caller removed
        before starting it, so it cannot be a previous run's); fail fast if it exits."""
        deadline = time.monotonic() + timeout
        proc = self.procs[name]
        while not path.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode} before writing "
                                   f"{path}; its last lines ({self.log(name)}):\n"
                                   f"{self.tail(name)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not write {path} within {timeout} s; its last "
                                   f"lines ({self.log(name)}):\n{self.outputs[name].tail()}")
            time.sleep(0.05)
        return path

    def wait_for_port(self, name: str, port: int, timeout: float = 30) -> None:
        wait_for_port(port, self.procs.get(name), timeout=timeout, what=name, log=self.log(name))

    def stop(self, name: str, sig: int = signal.SIGTERM) -> int | None:
        """Stop child `name` with `sig` (SIGKILL to simulate a crash); return its exit code."""
        proc = self.procs.pop(name, None)
        if proc is None:
            return None
        stop(proc, sig)
        output = self.outputs.get(name)
        if output is not None:
            output.close()
        return proc.returncode

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)
        if self.device_broker is not self.broker:
            self.device_broker.stop()
        self.broker.stop()
        self.pg.stop()

    def psql(self, sql: str) -> str:
        return self.pg.psql(sql, self.database)


def psql_rows(stack: Stack, sql: str) -> list[list[str]]:
    """Rows of a query as lists of strings (psql unaligned output)."""
    out = run_as([str(stack.pg.bindir / "psql"), "-X", "-A", "-t", "-F", "\t",
                  "-d", stack.database_url, "-c", sql])
    return [line.split("\t") for line in out.splitlines() if line]
