"""Edge detection of condition events: an event when a condition changes, none while it stays.

The first value seen for a device raises the event if it is active (a lamp already broken
when the gateway starts is news) and says nothing if it is not.
"""

from __future__ import annotations

from datetime import datetime

from drivers.mqtt.payload import Condition
from telemetry import Event


class ConditionEdges:
    def __init__(self) -> None:
        self._last: dict[tuple[str, str], bool] = {}

    def update(self, device: str, time: datetime, condition: Condition) -> Event | None:
        """Record the condition's present value; the event to emit if it changed."""
        key = (device, condition.rule.type)
        before = self._last.get(key)
        self._last[key] = condition.active
        if before == condition.active or (before is None and not condition.active):
            return None
        return Event(device, condition.rule.type, condition.rule.severity, time,
                     condition.active, condition.data)

    def active(self, device: str) -> list[str]:
        """Event types presently raised for `device`."""
        return sorted(t for (d, t), on in self._last.items() if d == device and on)
