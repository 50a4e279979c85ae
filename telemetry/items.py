"""The item kinds an envelope carries: readings, events, device states and picture probes.

Items are immutable values; validation of untrusted input happens in `telemetry.codec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class DeviceState(StrEnum):
    """Health of a device as decided at the edge (or `unknown` when its gateway is gone)."""

    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    """How urgent an event is. `alarm` and `critical` events are alarms for operations staff."""

    INFO = "info"
    WARNING = "warning"
    ALARM = "alarm"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Reading:
    """One numeric sample of one metric of one device (booleans travel as 0.0 / 1.0)."""

    device: str
    metric: str
    time: datetime
    value: float
    kind: str = field(default="reading", init=False)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at a device.

    `active` is True when a condition is raised (a lamp fault starts), False when it
    clears, and None for a momentary event (a gate pass, an SOS press).
    """

    device: str
    type: str
    severity: Severity
    time: datetime
    active: bool | None = None
    data: dict[str, Any] = field(default_factory=dict)
    kind: str = field(default="event", init=False)


@dataclass(frozen=True, slots=True)
class StateChange:
    """A device entered `state` at `since`; `reason` says why in words a person can act on."""

    device: str
    state: DeviceState
    since: datetime
    reason: str = ""
    kind: str = field(default="state", init=False)


@dataclass(frozen=True, slots=True)
class Probe:
    """Result of a camera picture probe: `ok` plus the reason and the image statistics."""

    device: str
    time: datetime
    ok: bool
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    kind: str = field(default="probe", init=False)


Item = Reading | Event | StateChange | Probe

ITEM_KINDS: tuple[str, ...] = ("reading", "event", "state", "probe")
