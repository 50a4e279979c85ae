"""A child process's output, written by its parent into a size-bounded set of log files.

The stack reads each child's stdout and stderr through a pipe (a thread per child) and is
the only writer of `NAME.log`: when the file would pass `max_bytes` it becomes
`NAME.log.1` (older ones shift up to `NAME.log.BACKUPS`, the oldest is dropped) and a new
`NAME.log` starts. Rotation here, rather than inside each child, bounds everything a child
prints — its logging, its `print`s, a traceback the interpreter writes on the way out —
and loses no line: nothing else writes the file, so nothing is cut mid-write.

The parent also keeps the lines *this* run printed, so a readiness wait ("subscribed",
"connected") can never be satisfied by a line a previous run left in the same file.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

#: Defaults for the demo: a few MiB per child is days of a healthy demo's logging.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_BACKUPS = 3
#: Lines of this run kept in memory for readiness waits (the waits look at early lines).
_RECENT_LINES = 20_000


class ChildLog:
    """Copies one child's output into `path` (rotating) and remembers this run's lines."""

    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 backups: int = DEFAULT_BACKUPS) -> None:
        if max_bytes < 1024 or backups < 1:
            raise ValueError(f"log rotation needs max_bytes >= 1024 and backups >= 1, got "
                             f"{max_bytes} and {backups}")
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._out = open(path, "ab")  # noqa: SIM115 - held open for the child's lifetime
        self._size = self._out.tell()
        #: bytes this run wrote, and (end offset, line) of its recent lines
        self.written = 0
        self._recent: deque[tuple[int, str]] = deque(maxlen=_RECENT_LINES)
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.closed = False
        #: how many times the file was rotated during this run
        self.rotations = 0

    def note(self, text: str) -> None:
        """A line from the parent itself (which run started when), not counted as output."""
        stamp = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        with self._cond:
            self._write(f"---- {stamp} {text} ----\n".encode())

    def follow(self, stream: IO[bytes], name: str) -> None:
        """Copy `stream` (the child's stdout+stderr pipe) until it closes, on a thread."""
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True,
                                        name=f"log {name}")
        self._thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        try:
            for line in iter(stream.readline, b""):
                self.add(line)
        except (OSError, ValueError):
            pass  # the pipe was closed under us: the child is gone
        finally:
            with contextlib.suppress(OSError):
                stream.close()
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def add(self, line: bytes) -> None:
        """One line of the child's output: to the file (rotating first if needed)."""
        with self._cond:
            self._write(line)
            self.written += len(line)
            self._recent.append((self.written, line.decode("utf-8", errors="replace")))
            self._cond.notify_all()

    def _write(self, data: bytes) -> None:
        if self._size and self._size + len(data) > self.max_bytes:
            self._rotate()
        self._out.write(data)
        self._out.flush()
        self._size += len(data)

    def _rotate(self) -> None:
        self._out.close()
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._out = open(self.path, "ab")  # noqa: SIM115
        self._size = 0
        self.rotations += 1

    def wait_for(self, text: str, *, timeout: float, after: int = 0,
                 gone: Callable[[], bool] = lambda: False) -> int:
        """Wait until a line of this run past byte `after` contains `text`; return the
        byte offset (in this run's output) where that line ends.

        Raises TimeoutError, or EOFError when the output ended (the child exited) first;
        `gone` is asked too, for a child whose pipe is still held by a grandchild."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for end, line in self._recent:
                    if end > after and text in line:
                        return end
                if self.closed or gone():
                    raise EOFError(f"output ended before a line with {text!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no line with {text!r} within {timeout} s")
                self._cond.wait(min(left, 0.2))

    def lines_between(self, after: int, until: int) -> list[str]:
        """This run's lines that end past byte `after` and by byte `until` (offsets as
        `wait_for` returns them)."""
        with self._cond:
            return [line for end, line in self._recent if after < end <= until]

    def wait_closed(self, timeout: float) -> bool:
        """Wait until the child's output has ended (its last lines are in); False when
        `timeout` passed first (a grandchild still holds the pipe)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.closed, timeout)

    def tail(self, lines: int = 30) -> str:
        """The last lines of this run's output, for error messages."""
        with self._cond:
            return "".join(line for _, line in list(self._recent)[-lines:])

    def close(self, timeout: float = 5.0) -> None:
        """After the child exited: let the copier drain the pipe, then close the file."""
        if self._thread is not None:
            self._thread.join(timeout)
        with self._cond:
            self._out.close()

    def files(self) -> list[Path]:
        """The current file and its rotated predecessors, newest first."""
        names = [self.path] + [self.path.with_name(f"{self.path.name}.{n}")
                               for n in range(1, self.backups + 1)]
        return [p for p in names if p.exists()]
