"""Helpers of the fault tests: a community whose gateway spool is configured by the test,
a read-only look into the gateway's spool file, what the light fleet had acknowledged and
what the database holds, keyed the same way, and a small tmpfs the test can fill."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from e2e_support import Community, FleetThread

from scg.scenario import CommunityScenario, Endpoint

#: The metrics of one light status (simulators/lights, drivers/mqtt/profiles/street_light).
LIGHT_METRICS = ("on", "dim_pct", "power_w", "energy_kwh")

#: (device, metric, time in ms since the epoch): one reading.
ReadingKey = tuple[str, str, int]


@dataclass
class FaultScenario(CommunityScenario):
    """A community scenario whose gateway spool settings the test chooses (`spool` keys
    override the scenario's; `path` may point into a filesystem the test mounted)."""

    spool: dict[str, Any] = field(default_factory=dict)

    def gateway_config(self, uplink: Endpoint, device_broker: Endpoint, spool_path: Path,
                       camera_urls: dict[str, str] | None = None,
                       camera_password_file: Path | None = None) -> dict[str, Any]:
        config = super().gateway_config(uplink, device_broker, spool_path, camera_urls,
                                        camera_password_file)
        config["spool"].update(self.spool)
        return config


def busy_scenario(**spool: Any) -> FaultScenario:
    """20 controllers reporting every 0.1 s: 200 status messages, 800 readings a second."""
    return FaultScenario(community="e2e", gateway="e2e-gw1", lights=20, controllers=20,
                         period_s=0.1, spool=spool)


def ms(wire_time: str) -> int:
    """Milliseconds since the epoch of an RFC 3339 wire time like 2026-11-23T08:00:00.123Z."""
    t = datetime.strptime(wire_time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return round(t.timestamp() * 1000)


# ---------------------------------------------------------------- what was sent, what is stored


def produced_readings(fleet: FleetThread) -> list[ReadingKey]:
    """Every light reading behind a status the device broker acknowledged (call after
    `fleet.stop()`)."""
    return [(light, metric, ms(ts)) for light, stamps in fleet.fleet.sent_ts.items()
            for ts in stamps for metric in LIGHT_METRICS]


def stored_light_readings(c: Community) -> list[ReadingKey]:
    rows = c.rows("SELECT device, metric, round(extract(epoch FROM time) * 1000)::bigint "
                  "FROM readings WHERE device LIKE 'light-%'")
    return [(d, m, int(t)) for d, m, t in rows]


def stored_states(c: Community) -> list[tuple[str, str, int]]:
    rows = c.rows("SELECT device, state, round(extract(epoch FROM since) * 1000)::bigint "
                  "FROM device_state_changes WHERE device LIKE 'light-%'")
    return [(d, s, int(t)) for d, s, t in rows]


def stored_events(c: Community) -> list[tuple[str, str, str, int]]:
    rows = c.rows("SELECT device, type, active, round(extract(epoch FROM time) * 1000)::bigint "
                  "FROM events WHERE device LIKE 'light-%'")
    return [(d, t, a, int(ms_)) for d, t, a, ms_ in rows]


def reported(c: Community, metric: str) -> float | None:
    """The latest value the gateway reported about itself for `metric`, as stored."""
    rows = c.rows(f"SELECT value FROM readings WHERE device = '{c.scenario.gateway}' "
                  f"AND metric = '{metric}' ORDER BY time DESC LIMIT 1")
    return float(rows[0][0]) if rows else None


# ---------------------------------------------------------------- the gateway's spool file


class SpoolFile:
    """Reads the gateway's spool file while the gateway runs (or after it was killed),
    read-only, so the test neither writes nor checkpoints it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def items(self) -> list[dict[str, Any]]:
        """Every item in the file (waiting or in an unacknowledged envelope), oldest first."""
        with contextlib.closing(self._connect()) as db:
            return [json.loads(body) for (body,) in db.execute("SELECT body FROM items "
                                                               "ORDER BY id")]

    def oldest_waiting_light_reading(self) -> dict[str, Any] | None:
        """The oldest light reading not yet put in an envelope: those in an envelope sent
        before the outage (not acknowledged) stay to be sent again under their seq, and
        only waiting items can be dropped."""
        with contextlib.closing(self._connect()) as db:
            for (body,) in db.execute("SELECT body FROM items WHERE seq IS NULL AND "
                                      "kind = 'reading' ORDER BY id"):
                item: dict[str, Any] = json.loads(body)
                if item["device"].startswith("light-"):
                    return item
        return None

    def dropped(self) -> dict[str, int]:
        with contextlib.closing(self._connect()) as db:
            return {name.removeprefix("dropped."): int(value) for name, value in db.execute(
                "SELECT name, value FROM counters WHERE name LIKE 'dropped.%'")}

    def light_readings(self) -> list[dict[str, Any]]:
        return [i for i in self.items()
                if i["kind"] == "reading" and i["device"].startswith("light-")]

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)


def reading_keys(items: list[dict[str, Any]]) -> set[ReadingKey]:
    return {(i["device"], i["metric"], ms(i["time"])) for i in items if i["kind"] == "reading"}


# ---------------------------------------------------------------- a small filesystem


def mount_tmpfs(where: Path, size: str) -> None:
    """Mount a tmpfs of `size` at `where` (needs root and the right to mount); raise
    PermissionError saying why when it cannot."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        raise PermissionError("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                           str(where)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PermissionError(f"mount -t tmpfs refused: {done.stderr.strip() or done.stdout}")


def unmount(where: Path) -> None:
    """Unmount `where`; lazily if something still holds a file open in it."""
    if subprocess.run(["umount", str(where)], check=False).returncode != 0:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> Path:
    """Write a filler file into `folder` until its filesystem has no byte left."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 20, 4096, 1):
            block = b"\0" * chunk
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler
