"""A private mosquitto broker on a loopback port, for the demo and the integration tests.

Configured the way `deploy/mosquitto/scg.conf` configures production: no anonymous
clients, a password file and an ACL built from the same accounts `scg broker config`
writes (`scg.broker.accounts`), persistence on so that QoS 1 messages queued for a
persistent ingest session survive a broker restart, and a queue limit high enough that
an ingest outage does not drop messages. The listener can be TLS only, optionally
requiring a client certificate.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scg.broker.accounts import Account, account_for, acl_text, device_account, ingest_account
from scg.broker.files import password_path
from scg.broker.passwd import new_password, passwd_text
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


@dataclass(frozen=True, slots=True)
class BrokerLogin:
    """A user name and password the broker accepts."""

    username: str
    password: str


@dataclass(frozen=True, slots=True)
class ListenerTls:
    """Makes the broker's listener TLS only. `require_certificate`: clients must present a
    certificate signed by `ca_file` (mutual TLS); `use_identity_as_username`: the
    certificate's CN is then the user name, and no password is asked."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    require_certificate: bool = True
    use_identity_as_username: bool = False


_RELOADED = b"Reloading config."


class Mosquitto:
    """One broker process. `start()` returns when it accepts connections.

    Accounts: ingest (`scg-ingest`) and the device side (`devices`) by default, or those
    given; `login(name)` returns the password of an account, creating it first when the
    name says what it is (`community/gateway` for a gateway), so a test asks for the
    gateways it plays. Passwords are kept in WORKDIR/logins.json, so a restart, or the demo
    started again on its state folder, keeps them.
    """

    def __init__(self, workdir: Path, port: int | None = None, *,
                 accounts: Iterable[Account] | None = None,
                 tls: ListenerTls | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self._port_chosen = port is None  # ours to change if another process takes it
        self.host = "127.0.0.1"
        self.tls = tls
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "mosquitto.log"
        self._accounts: dict[str, Account] = {
            a.username: a for a in (accounts if accounts is not None
                                    else (ingest_account(), device_account()))}
        self._passwords: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    @property
    def passwd_file(self) -> Path:
        return self.workdir / "passwd"

    @property
    def acl_file(self) -> Path:
        return self.workdir / "acl"

    # ------------------------------------------------------------ accounts

    def login(self, username: str) -> BrokerLogin:
        """The credentials of `username`; an account not yet on the broker is added (its
        role read from the name, `scg.broker.accounts.account_for`) and, while the broker
        runs, loaded before this returns."""
        if username not in self._accounts:
            self.add_account(account_for(username))
        self._load_passwords()
        return BrokerLogin(username, self._passwords[username])

    def password_file(self, username: str) -> Path:
        """A file (0600) holding the password of `username`, laid out as `scg broker config`
        lays out its credentials, for configs that read passwords from files."""
        login = self.login(username)
        path = password_path(self.workdir, username)
        for folder in reversed(path.relative_to(self.workdir).parents[:-1]):
            (self.workdir / folder).mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(login.password + "\n")
        return path

    def add_account(self, account: Account) -> BrokerLogin:
        """Add (or replace the grants of) `account`; a running broker reloads its files."""
        self._accounts[account.username] = account
        self._write_files()
        if self.proc is not None and self.proc.poll() is None:
            self._reload()
        return BrokerLogin(account.username, self._passwords[account.username])

    def _load_passwords(self) -> None:
        """Passwords from WORKDIR/logins.json, a new one for each account without."""
        store = self.workdir / "logins.json"
        if not self._passwords and store.exists():
            self._passwords = dict(json.loads(store.read_text()))
        missing = [name for name in self._accounts if name not in self._passwords]
        if missing:
            self._passwords.update((name, new_password()) for name in missing)
            self.workdir.mkdir(parents=True, exist_ok=True)
            fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(self._passwords, f, indent=1, sort_keys=True)

    def _write_files(self) -> None:
        self._load_passwords()
        accounts = list(self._accounts.values())
        self.passwd_file.write_text(passwd_text({a.username: self._passwords[a.username]
                                                 for a in accounts}))
        os.chmod(self.passwd_file, 0o600)
        self.acl_file.write_text(acl_text(accounts, "Written by scg.localsvc.Mosquitto."))

    def _reload(self, timeout: float = 10) -> None:
        """SIGHUP makes mosquitto re-read its password file and ACL; it logs that it does
        so before it handles any other client, so the log line is the moment it applies."""
        assert self.proc is not None
        since = log_size(self.log)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while True:
            with open(self.log, "rb") as f:
                f.seek(since)
                if _RELOADED in f.read():
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not reload its accounts within {timeout} s "
                                   f"(see {self.log})")
            time.sleep(0.01)

    # ------------------------------------------------------------ process

    def config_text(self) -> str:
        lines = [
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {self.passwd_file}",
            f"acl_file {self.acl_file}",
            f"listener {self.port} 127.0.0.1",
        ]
        if self.tls is not None:
            lines += [
                f"cafile {self.tls.ca_file}",
                f"certfile {self.tls.cert_file}",
                f"keyfile {self.tls.key_file}",
                f"require_certificate {str(self.tls.require_certificate).lower()}",
                f"use_identity_as_username {str(self.tls.use_identity_as_username).lower()}",
            ]
        lines += [
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
            "log_type information",  # says when a reload of the accounts happens
            f"log_dest file {self.log}",
        ]
        if os.geteuid() == 0:
            # As root, mosquitto would switch to user "mosquitto" and lose its folder.
            lines.append("user root")
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_files()
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
