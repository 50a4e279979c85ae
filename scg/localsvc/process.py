"""Child processes that never outlive the process that started them.

Every service the demo or a test starts is a direct child (servers run in the
foreground, never daemonised) with a parent-death signal set *after* any change of
user, so that even a SIGKILL of the parent leaves no orphan behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _child_setup(user: str | None, death_signal: int) -> Callable[[], None]:
    account = pwd.getpwnam(user) if user else None

    def setup() -> None:
        if account is not None:
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
        # Set last: a change of credentials clears the parent-death signal.
        _libc.prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)

    return setup


def spawn(cmd: Sequence[str], *, log: Path | None = None, user: str | None = None,
          env: dict[str, str] | None = None, death_signal: int = signal.SIGTERM,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start `cmd` as a child (as `user` if given) whose output goes to `log`."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, preexec_fn=_child_setup(user, death_signal),
            # A group of its own: Ctrl-C in the terminal reaches only the parent, which
            # then stops the children in order (ingest before the database it writes to).
            process_group=0,
        )
    finally:
        if log:
            out.close()  # type: ignore[union-attr]


def run_as(cmd: Sequence[str], *, user: str | None = None, timeout: float = 120) -> str:
    """Run `cmd` to completion (as `user` if given); raise RuntimeError with output on failure."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_child_setup(user, signal.SIGKILL), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed with exit {proc.returncode}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc.stdout


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Signal `proc` and wait for it; kill it if it has not exited after `timeout` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None,
                  timeout: float = 30, what: str = "service", log: Path | None = None) -> None:
    """Return once 127.0.0.1:`port` accepts connections; fail fast if `proc` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before listening on "
                               f"port {port}{_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s"
                               f"{_tail(log)}")
        time.sleep(0.02)


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return f"; last lines of {log}:\n" + "\n".join(text)
