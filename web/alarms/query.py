"""Read alarms and their changes in the JSON form the API and the stream serve.

An alarm names its device with the device's kind, compound and building from the
inventory (null for a device the inventory does not list: its alarms are kept all the
same).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
Record = Any

_ALARM_COLUMNS: Final = """
    a.id, a.community, a.gateway, a.device, d.kind AS device_kind, d.name AS device_name,
    d.compound, d.building, a.type, a.key, a.severity, a.momentary, a.raised_at,
    a.received_at, a.data, a.cleared_at, a.state, a.acknowledged_at, a.acknowledged_by,
    a.acknowledged_note, a.closed_at, a.closed_by, a.closed_note, d.resident"""
_FROM: Final = """
    FROM alarms a
    LEFT JOIN devices d ON d.community = a.community AND d.id = a.device"""
ALARM_SELECT: Final = f"SELECT {_ALARM_COLUMNS} {_FROM}"
#: Changes with the alarm as it is now (the stream shows the present state).
CHANGE_SELECT: Final = f"""
    SELECT c.id AS change_id, c.change, c.at AS change_at, c.by AS change_by,
           c.note AS change_note, {_ALARM_COLUMNS}
    FROM alarm_changes c JOIN alarms a ON a.id = c.alarm
    LEFT JOIN devices d ON d.community = a.community AND d.id = a.device"""


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _data(value: Any) -> dict[str, Any]:
    if isinstance(value, str):  # asyncpg returns jsonb as text without a codec
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def alarm_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """One alarm as JSON. `active`: for a condition, whether it is still raised (not
    cleared); null for a momentary alarm."""
    return {
        "id": row["id"], "community": row["community"], "gateway": row["gateway"],
        "device": row["device"], "device_kind": row["device_kind"],
        "device_name": row["device_name"], "compound": row["compound"],
        "building": row["building"], "type": row["type"], "key": row["key"],
        "severity": row["severity"], "momentary": row["momentary"],
        "active": None if row["momentary"] else row["cleared_at"] is None,
        "raised_at": iso(row["raised_at"]), "received_at": iso(row["received_at"]),
        "cleared_at": iso(row["cleared_at"]), "data": _data(row["data"]),
        "state": row["state"],
        "acknowledged_at": iso(row["acknowledged_at"]),
        "acknowledged_by": row["acknowledged_by"],
        "acknowledged_note": row["acknowledged_note"],
        "closed_at": iso(row["closed_at"]), "closed_by": row["closed_by"],
        "closed_note": row["closed_note"],
        "resident": row["resident"], "resident_contact": None,
    }


def change_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """One change as the stream sends it: what happened, when, by whom, and the alarm."""
    return {"change_id": row["change_id"], "change": row["change"],
            "at": iso(row["change_at"]), "by": row["change_by"], "note": row["change_note"],
            "alarm": alarm_json(row)}


async def list_alarms(conn: Connection, community: str, *, state: str | None = None,
                      type_: str | None = None, since: datetime | None = None,
                      limit: int = 200) -> list[dict[str, Any]]:
    """The community's alarms, newest raised first, filtered by state, type and raise time."""
    rows = await conn.fetch(
        f"""{ALARM_SELECT}
            WHERE a.community = $1 AND ($2::text IS NULL OR a.state = $2)
              AND ($3::text IS NULL OR a.type = $3)
              AND ($4::timestamptz IS NULL OR a.raised_at >= $4)
            ORDER BY a.raised_at DESC, a.id DESC LIMIT $5""",
        community, state, type_, since, limit)
    return [alarm_json(r) for r in rows]


async def fetch_alarm(conn: Connection, alarm_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"{ALARM_SELECT} WHERE a.id = $1", alarm_id)
    return None if row is None else alarm_json(row)


async def changes_after(conn: Connection, after: int, *, community: str | None = None,
                        limit: int = 500) -> list[dict[str, Any]]:
    """Changes with an id above `after`, oldest first, at most `limit`."""
    rows = await conn.fetch(
        f"""{CHANGE_SELECT}
            WHERE c.id > $1 AND ($2::text IS NULL OR c.community = $2)
            ORDER BY c.id LIMIT $3""", after, community, limit)
    return [change_json(r) for r in rows]


async def newest_change(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM alarm_changes"))
