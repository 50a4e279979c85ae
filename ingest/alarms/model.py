"""What makes an event an alarm, which alarm a condition event belongs to, and the states
an alarm moves through, with the errors an illegal move raises."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

#: Event severities that are alarms for operations staff (telemetry.Severity values).
ALARM_SEVERITIES: Final = frozenset({"alarm", "critical"})
#: Data keys that tell apart conditions of one device and type: the zone of a fire panel,
#: the port of a charging station. The first present one is the alarm's key.
KEY_FIELDS: Final = ("zone", "port")
STATES: Final = ("open", "acknowledged", "closed")
#: Staff actions: the state an alarm must be in, and the state it moves to.
ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "acknowledge": ("open", "acknowledged"),
    "close": ("acknowledged", "closed"),
}
#: PostgreSQL NOTIFY channel; the payload names the community and the newest change id.
CHANNEL: Final = "scg_alarms"
#: Advisory lock every transaction adding alarm changes holds until it commits, so change
#: ids become visible in increasing order (the stream's resume point relies on that).
CHANGE_LOCK: Final = 0x5C6_0A1A


def alarm_key(data: Mapping[str, Any]) -> str:
    """The distinguishing value of an event's data as text ('' when it has none)."""
    for name in KEY_FIELDS:
        value = data.get(name)
        if value is not None:
            return f"{name}={value}"
    return ""


class AlarmNotFound(LookupError):
    """No alarm has this id."""

    def __init__(self, alarm_id: int) -> None:
        self.alarm_id = alarm_id
        super().__init__(f"alarm {alarm_id} does not exist; list alarms with GET "
                         "/api/communities/{id}/alarms")


class TransitionError(ValueError):
    """The alarm is not in the state the action needs; the message says what it is in."""
