"""The processes of a running `scg demo`, read from /proc (psutil is not installed)."""

from __future__ import annotations

import os
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _all() -> dict[int, list[str]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                found[int(entry)] = fields
    return found


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children of children included)."""
    children: dict[int, list[int]] = {}
    for child, fields in _all().items():
        children.setdefault(int(fields[1]), []).append(child)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


class DemoProcesses:
    """Every process the demo started, as (pid, start time) so that a pid reused by
    someone else later is not taken for a leftover: its descendants, and everything in the
    process groups they lead (PostgreSQL's backends, socat in its own session)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: set[tuple[int, str]] = set()
        self.collect()

    def collect(self) -> None:
        table = _all()
        below = descendants(self.root)
        groups = {int(table[p][2]) for p in below if p in table}
        for pid, fields in table.items():
            if pid in below or int(fields[2]) in groups:
                self.seen.add((pid, fields[19]))  # field 22 of stat: start time

    def left(self) -> list[int]:
        """Processes seen while the demo ran that still run (zombies do not count)."""
        out = []
        for pid, started in sorted(self.seen):
            fields = _stat(pid)
            if fields is not None and fields[19] == started and fields[0] != "Z":
                out.append(pid)
        return out


def admin_headers(state: Path, port: int) -> dict[str, str]:
    """Bearer headers of the demo's admin: its password from STATE/admin-password (written
    0600 at the first start) exchanged at POST /api/auth/token."""
    import httpx

    password_file = state / "admin-password"
    assert password_file.stat().st_mode & 0o077 == 0, "the admin password is readable by others"
    reply = httpx.post(f"http://127.0.0.1:{port}/api/auth/token", timeout=20,
                       data={"username": "admin", "password": password_file.read_text().strip()})
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}
