"""Staff actions on an alarm: acknowledge an open one, close an acknowledged one.

The time is the server's (the caller passes its clock's reading; clients never set it).
Each action changes the alarm, adds a change for the stream and appends an entry to the
operation log, all in one transaction; an illegal move changes nothing. Both records are
hash chains (`ingest.schema.chain`), taken in the chains' lock order: alarm changes,
then the operation log.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

from ingest.alarms import CHANGE_LOCK, notify
from ingest.schema.chain import append, log_operation
from web.alarms.query import fetch_alarm, iso

#: Staff actions: the state an alarm must be in, and the state it moves to.
ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "acknowledge": ("open", "acknowledged"),
    "close": ("acknowledged", "closed"),
}


class AlarmNotFound(LookupError):
    """No alarm has this id."""

    def __init__(self, alarm_id: int) -> None:
        self.alarm_id = alarm_id
        super().__init__(f"alarm {alarm_id} does not exist; list alarms with GET "
                         "/api/communities/{id}/alarms")


class OutOfScope(Exception):
    """The alarm belongs to a community the actor may not act in."""

    def __init__(self, alarm_id: int, community: str) -> None:
        super().__init__(f"alarm {alarm_id} belongs to community {community!r}")
        self.community = community


class TransitionError(ValueError):
    """The alarm is not in the state the action needs; the message says what it is in."""


Connection = Any  # asyncpg.Connection; asyncpg ships no type information

_PAST: dict[str, str] = {"acknowledge": "acknowledged", "close": "closed"}


async def apply_action(conn: Connection, alarm_id: int, action: str, *, by: str,
                       note: str | None, at: datetime,
                       communities: Collection[str] | None = None) -> dict[str, Any]:
    """Perform `action` (acknowledge | close) on the alarm as `by`, the signed-in user;
    return the alarm.

    Raises AlarmNotFound for an unknown id, OutOfScope when `communities` (the actor's
    scope; None: the whole county) does not include the alarm's, and TransitionError when
    the alarm is not in the state the action needs.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown alarm action {action!r}; use {', '.join(ACTIONS)}")
    if at.tzinfo is None:
        raise ValueError(f"action time {at!r} has no timezone; pass an aware UTC datetime")
    need, becomes = ACTIONS[action]
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", CHANGE_LOCK)
        row = await conn.fetchrow(
            """SELECT id, community, device, type, state, acknowledged_at, acknowledged_by,
                      closed_at, closed_by
               FROM alarms WHERE id = $1 FOR UPDATE""", alarm_id)
        if row is None:
            raise AlarmNotFound(alarm_id)
        if communities is not None and row["community"] not in communities:
            raise OutOfScope(alarm_id, row["community"])
        if row["state"] != need:
            raise TransitionError(_refusal(row, action, need))
        prefix = "acknowledged" if action == "acknowledge" else "closed"
        await conn.execute(
            f"""UPDATE alarms SET state = $2, {prefix}_at = $3, {prefix}_by = $4,
                                  {prefix}_note = $5
                WHERE id = $1""", alarm_id, becomes, at, by, note)
        change = await append(conn, "alarm_changes", {
            "community": row["community"], "alarm": alarm_id, "change": becomes, "at": at,
            "by": by, "note": note})
        await log_operation(conn, at=at, actor=by, action=f"alarm.{action}",
                            community=row["community"], target=f"alarm:{alarm_id}",
                            note=note, details={"device": row["device"], "type": row["type"],
                                                "from": need, "to": becomes})
        await notify(conn, {row["community"]: change})
        alarm = await fetch_alarm(conn, alarm_id)
    assert alarm is not None  # the row is locked and was just updated
    return alarm


def _refusal(row: Any, action: str, need: str) -> str:
    what = f"alarm {row['id']} ({row['type']} on {row['device']})"
    state = row["state"]
    if state == "acknowledged":
        had = f"acknowledged by {row['acknowledged_by']} at {iso(row['acknowledged_at'])}"
    elif state == "closed":
        had = f"closed by {row['closed_by']} at {iso(row['closed_at'])}"
    else:
        had = "open, not yet acknowledged"
    hint = ("acknowledge it first" if action == "close" and state == "open"
            else "nothing more can be done to it" if state == "closed"
            else f"it was already {_PAST[action]}")
    return f"{what} is {had}; only an {need} alarm can be {_PAST[action]}: {hint}"
