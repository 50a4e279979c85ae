"""Alarms for operations staff: raised from stored events, answered by people, pushed live.

`record` turns events into alarms inside the writer's transaction; `actions` moves an
alarm open -> acknowledged -> closed and appends to the operation log; `query` reads them;
`hub` fans PostgreSQL notifications out to server-sent event subscribers.
"""

from ingest.alarms.model import (
    ALARM_SEVERITIES,
    CHANNEL,
    KEY_FIELDS,
    STATES,
    AlarmNotFound,
    TransitionError,
    alarm_key,
)

__all__ = ["ALARM_SEVERITIES", "CHANNEL", "KEY_FIELDS", "STATES", "AlarmNotFound",
           "TransitionError", "alarm_key"]
