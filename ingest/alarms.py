"""Alarms on the write path: what makes an event an alarm, which alarm a condition event
belongs to, and opening / clearing them inside the writer's transaction (so an event is
never committed without its alarm, nor an alarm without its event).

A condition event (active true) opens an alarm unless one for the same device, type and
key is still uncleared; its clearing event (active false, any severity) marks that alarm
cleared. A momentary event (active absent) opens one alarm per event. The same event
stored twice never opens a second alarm: a unique index on (device, type, key, time)
absorbs it. Each change is appended to `alarm_changes`, a hash chain
(`ingest.schema.chain`: one lock, one head read and one INSERT per batch, hashes computed
here), and announced with NOTIFY, which PostgreSQL delivers only once the transaction
commits. What people do to alarms (acknowledge, close) and how they are read and streamed
is in `web.alarms`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ingest.schema.chain import ALARM_CHANGES_LOCK, append_rows
from telemetry import Event

#: Event severities that are alarms for operations staff (telemetry.Severity values).
ALARM_SEVERITIES: Final = frozenset({"alarm", "critical"})
#: Data keys that tell apart conditions of one device and type: the zone of a fire panel,
#: the port of a charging station, and the system address (系统地址) of a panel that reports
#: through a GB 26875 transmission device without being configured (its events land on
#: the transmission device with no zone: without the address, fires on two such panels
#: would be one alarm). The first present one is the alarm's key; no other event carries
#: `system_address`, so the keys of every other device stay as they were.
KEY_FIELDS: Final = ("zone", "port", "system_address")
#: The states an alarm moves through (web.alarms.actions moves it).
STATES: Final = ("open", "acknowledged", "closed")
#: PostgreSQL NOTIFY channel; the payload names the community and the newest change id.
CHANNEL: Final = "scg_alarms"
#: Advisory lock every transaction adding alarm changes holds until it commits, so change
#: ids become visible in increasing order (the stream's resume point relies on that); it
#: is the alarm-change chain's lock. Taken before any alarm row is locked, by the writer
#: and by staff actions alike, so the two never wait for each other in opposite order.
CHANGE_LOCK: Final = ALARM_CHANGES_LOCK


def alarm_key(data: Mapping[str, Any]) -> str:
    """The distinguishing value of an event's data as text ('' when it has none)."""
    for name in KEY_FIELDS:
        value = data.get(name)
        if value is not None:
            return f"{name}={value}"
    return ""


Connection = Any  # asyncpg.Connection; asyncpg ships no type information

_OPEN = """
    INSERT INTO alarms (community, gateway, device, type, key, severity, momentary,
                        raised_at, data)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
    ON CONFLICT DO NOTHING
    RETURNING id"""

_CLEAR = """
    UPDATE alarms SET cleared_at = $5
    WHERE community = $1 AND device = $2 AND type = $3 AND key = $4
      AND NOT momentary AND cleared_at IS NULL AND raised_at <= $5
    RETURNING id"""


@dataclass(slots=True)
class AlarmCounts:
    opened: int = 0
    cleared: int = 0
    #: alarm events that opened nothing: the same event again, or a condition still up
    absorbed: int = 0


def concerns_alarms(event: Event) -> bool:
    """Events the alarm step looks at: alarms raised, and any condition clearing."""
    return event.active is False or event.severity.value in ALARM_SEVERITIES


async def record_alarms(conn: Connection,
                        events: Sequence[tuple[str, str, Event]]) -> AlarmCounts:
    """Open and clear alarms for `events` (community, gateway, event), in event-time order
    per device; call inside the transaction that stores the events."""
    counts = AlarmCounts()
    todo = [(c, g, e) for c, g, e in events if concerns_alarms(e)]
    if not todo:
        return counts
    await conn.execute("SELECT pg_advisory_xact_lock($1)", CHANGE_LOCK)
    changes: list[dict[str, Any]] = []
    # Time order, so an open, its clear and a new open in one batch are two alarms.
    for community, gateway, event in sorted(todo, key=lambda x: (x[0], x[2].device,
                                                                 x[2].time)):
        key = alarm_key(event.data)
        if event.active is False:
            alarm = await conn.fetchval(_CLEAR, community, event.device, event.type, key,
                                        event.time)
            if alarm is not None:
                counts.cleared += 1
                changes.append({"community": community, "alarm": alarm,
                                "change": "cleared", "at": event.time})
        else:
            alarm = await conn.fetchval(
                _OPEN, community, gateway, event.device, event.type, key,
                event.severity.value, event.active is None, event.time,
                json.dumps(event.data, ensure_ascii=False))
            if alarm is not None:
                counts.opened += 1
                changes.append({"community": community, "alarm": alarm,
                                "change": "opened", "at": event.time})
            else:
                counts.absorbed += 1
    ids = await append_rows(conn, "alarm_changes", changes)
    newest: dict[str, int] = {}
    for change, ident in zip(changes, ids, strict=True):
        newest[change["community"]] = max(ident, newest.get(change["community"], 0))
    await notify(conn, newest)
    return counts


async def notify(conn: Connection, newest: dict[str, int]) -> None:
    """Announce new changes per community (delivered when the transaction commits)."""
    for community, change in sorted(newest.items()):
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL,
                           json.dumps({"community": community, "change": change}))
