"""Load camera facts as of a time for the video indicators, and run all five at once.

The effective state is rebuilt as of `as_of` the way the `device_effective_state` view
does for now: no protocol -> unmonitored; the camera's gateway's last word (at or before
as_of) was offline -> unknown; no state reported by then -> unknown; otherwise the latest
edge state at or before as_of. Gateway outages that have ended are not kept, so a past
as_of sees only the current outage. Latest states, probes and open faults come from the
tables the writer keeps (`latest_load`), not from scanning history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from indicators.latest_load import latest_conditions, latest_probes, latest_states
from indicators.model import IndicatorResult
from indicators.states import effective_state, load_gateways
from indicators.video import (
    video_intact_rate,
    video_key_coverage,
    video_networked_rate,
    video_picture_out_rate,
    video_record_compliance,
)
from indicators.video_facts import FAULT_TYPES, CameraFact, KeyPositionFact, ProbeFact
from inventory.records import CameraRecord, RecordVerdict, boundary_from_json, check_records

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
Record = Any


@dataclass(frozen=True, slots=True)
class VideoFacts:
    positions: list[KeyPositionFact]
    cameras: list[CameraFact]
    records: list[RecordVerdict]
    camera_rows: dict[str, Record]  # the registered camera rows, by id


async def load_camera_records(conn: Connection,
                              community: str) -> tuple[list[Record], list[RecordVerdict]]:
    """The community's camera rows and each one's record verdict (all checks)."""
    com = await conn.fetchrow("SELECT district_code, boundary FROM communities WHERE id = $1",
                              community)
    rows = await conn.fetch(
        """SELECT id, name, code, civil_code, longitude, latitude, key_position, public,
                  compound, gateway, protocol, origin
           FROM devices WHERE community = $1 AND kind = 'camera' ORDER BY id""", community)
    if com is None:
        return list(rows), []
    boundary = com["boundary"]
    verdicts = check_records(
        [CameraRecord(r["id"], r["code"], r["name"], r["civil_code"], r["longitude"],
                      r["latitude"]) for r in rows],
        com["district_code"],
        boundary_from_json(json.loads(boundary) if isinstance(boundary, str) else boundary))
    return list(rows), verdicts


async def load_video_facts(conn: Connection, community: str, as_of: datetime) -> VideoFacts:
    rows, verdicts = await load_camera_records(conn, community)
    ids = [r["id"] for r in rows]
    positions = [KeyPositionFact(r["id"], r["type"], r["name"]) for r in await conn.fetch(
        "SELECT id, type, name FROM key_positions WHERE community = $1 ORDER BY id",
        community)]
    states = await latest_states(conn, community, ids, as_of)
    gateways = await load_gateways(conn, community)
    probes = await latest_probes(conn, community, ids, as_of)
    # A fault is open when the latest event of its type (whatever its zone) set it.
    newest: dict[tuple[str, str], Record] = {}
    for r in await latest_conditions(conn, community, ids, list(FAULT_TYPES), as_of):
        key = (r["device"], r["type"])
        if key not in newest or r["time"] > newest[key]["time"]:
            newest[key] = r
    faults: dict[str, list[str]] = {}
    for (device, type_), r in newest.items():
        if r["active"]:
            faults.setdefault(device, []).append(type_)
    problems = {v.camera: v.problems for v in verdicts}
    cameras = []
    for r in rows:
        state, since, reason = _effective(r, states.get(r["id"]), gateways, as_of)
        cameras.append(CameraFact(
            id=r["id"], key_position=r["key_position"], public=r["public"], state=state,
            since=since, reason=reason, probe=_probe(probes.get(r["id"])),
            open_faults=tuple(sorted(faults.get(r["id"], ()))),
            record_problems=problems.get(r["id"], {})))
    return VideoFacts(positions, cameras, verdicts, {r["id"]: r for r in rows})


def _effective(device: Record, state: Record | None, gateways: dict[str, Record],
               as_of: datetime) -> tuple[str, datetime | None, str]:
    s = effective_state(device, state, gateways, as_of, noun="camera")
    return s.state, s.since, s.reason


def _probe(row: Record | None) -> ProbeFact | None:
    if row is None:
        return None
    data = row["data"]
    if isinstance(data, str):
        data = json.loads(data)
    check = data.get("check") if isinstance(data, dict) else None
    if not isinstance(check, str):
        check = "ok" if row["ok"] else "failed"
    latency = data.get("latency_ms") if isinstance(data, dict) else None
    return ProbeFact(time=row["time"], ok=bool(row["ok"]), check=check,
                     reason=str(row["reason"]),
                     latency_ms=float(latency) if isinstance(latency, int | float) else None)


async def video_indicators(conn: Connection, community: str, as_of: datetime,
                           window: timedelta) -> list[IndicatorResult]:
    """The five video indicators of `community` as of `as_of`, in docs/indicators.md order."""
    facts = await load_video_facts(conn, community, as_of)
    notes = sorted({n for v in facts.records for n in v.notes})
    return [
        video_key_coverage(facts.positions, facts.cameras, as_of, window),
        video_networked_rate(facts.cameras, as_of, window),
        video_intact_rate(facts.cameras, as_of, window),
        video_picture_out_rate(facts.cameras, as_of),
        video_record_compliance(facts.cameras, as_of, window, notes=notes),
    ]
