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
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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
          cwd: Path | None = None, pipe: bool = False,
          pass_fds: Sequence[int] = ()) -> subprocess.Popen[bytes]:
    """Start `cmd` as a child (as `user` if given) whose output goes to `log`, or with
    `pipe` to the returned process's `stdout` (stderr merged), for the caller to copy;
    descriptors `pass_fds` stay open in the child under the same numbers."""
    if pipe:
        out: Any = subprocess.PIPE
    else:
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - to the child
    try:
        return subprocess.Popen(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=cwd, preexec_fn=_child_setup(user, death_signal),
            pass_fds=tuple(pass_fds),
            # A group of its own: Ctrl-C in the terminal reaches only the parent, which
            # then stops the children in order (ingest before the database it writes to).
            process_group=0,
        )
    finally:
        if log and not pipe:
            out.close()


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


#: Ports this process has handed out: never the same one twice.
_handed: set[int] = set()


def _ephemeral_low() -> int:
    """The first port of the range the kernel draws local ports from for outgoing
    connections and `bind(port 0)` (32768 unless configured otherwise)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, chosen at random below the
    kernel's ephemeral range: an outgoing connection or a server binding port 0 (any
    process's, at any moment) takes its local port from that range, so a port from it
    could be gone by the time our server binds it. Another caller of this function may
    still pick the same port (servers that cannot bind port 0 themselves retry with another
    one, see `lost_port_race`)."""
    high = _ephemeral_low()
    low = max(1024, high // 2)
    rng = random.SystemRandom()
    for _ in range(100):
        port = rng.randrange(low, high)
        if port in _handed:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # that range is full
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None,
                  timeout: float = 30, what: str = "service", log: Path | None = None) -> None:
    """Return once 127.0.0.1:`port` accepts connections — from `proc` itself when given
    (another process that took the port in the meantime does not count); fail fast if
    `proc` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0 and (
                    proc is None or listens_on(proc.pid, port) is not False):
                return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before listening on "
                               f"port {port}{_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s"
                               f"{_tail(log)}")
        time.sleep(0.02)


def listens_on(pid: int, port: int) -> bool | None:
    """Whether process `pid` holds a TCP socket listening on `port` (from /proc); None when
    /proc cannot tell (not Linux, or the process's descriptors are not ours to read)."""
    inodes: set[str] = set()
    try:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table, encoding="ascii") as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    # local address HEX:PORT, state 0A = LISTEN, inode
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    held: set[str] = set()
    for fd in descriptors:
        with contextlib.suppress(OSError):  # closed since listdir
            held.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return any(f"socket:[{inode}]" in held for inode in inodes)


def log_size(log: Path) -> int:
    """Where the next run's lines will start in `log` (0 when it does not exist yet)."""
    return log.stat().st_size if log.exists() else 0


def lost_port_race(log: Path, since: int) -> bool:
    """Whether a server that exited at start wrote, past byte `since` of its log, that its
    port was taken (the moment between `free_port()` and its bind is a race with every
    other process on the machine)."""
    if not log.exists():
        return False
    with open(log, "rb") as f:
        f.seek(since)
        return b"Address already in use" in f.read()


#: How many ports a server whose port was taken at start tries in all.
PORT_ATTEMPTS = 3


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return f"; last lines of {log}:\n" + "\n".join(text)
