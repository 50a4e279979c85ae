"""ONVIF event notifications as camera conditions: which topics mean tamper, video loss and
motion, how to read their state, and edge detection so only changes become events.

Vendors disagree on topic names and namespace prefixes (`tns1:`, `tns:`, none), and on the
state item's name (`State`, `IsMotion`, `IsTamper`); topics are matched without prefixes
and without regard to case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zeep.helpers import serialize_object

from telemetry import Event, Severity

TAMPER, VIDEO_LOSS, MOTION = "tamper", "video_loss", "motion"

#: Conditions that make a camera DEGRADED while they are open.
FAULTS = (TAMPER, VIDEO_LOSS)

SEVERITY = {TAMPER: Severity.ALARM, VIDEO_LOSS: Severity.ALARM, MOTION: Severity.INFO}

_TOPICS: dict[str, str] = {
    # Profile S / T standard topics first, then common vendor variants.
    "videosource/globalscenechange/imagingservice": TAMPER,
    "videosource/globalscenechange/analyticsservice": TAMPER,
    "ruleengine/tamperdetector/tamper": TAMPER,
    "videosource/tamper": TAMPER,
    "videosource/signalloss": VIDEO_LOSS,
    "videosource/videoloss": VIDEO_LOSS,
    "device/hardwarefailure/videoloss": VIDEO_LOSS,
    "videosource/motionalarm": MOTION,
    "ruleengine/cellmotiondetector/motion": MOTION,
    "ruleengine/motionregiondetector/motion": MOTION,
    "videoanalytics/motiondetection": MOTION,
}

_STATE_ITEMS = ("state", "ismotion", "istamper", "isvideoloss", "signalloss", "value")
_TRUE = frozenset({"true", "1", "on", "active"})
_FALSE = frozenset({"false", "0", "off", "inactive"})


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification we understand: a condition's new state at the camera's time."""

    condition: str
    active: bool
    time: datetime | None  # UtcTime as the camera's clock says; None when absent
    topic: str
    source: str | None
    initial: bool  # PropertyOperation "Initialized": the state at subscription start


def normalise_topic(topic: str) -> str:
    """`tns1:VideoSource/SignalLoss` -> `videosource/signalloss`."""
    return "/".join(part.rpartition(":")[2].strip().lower()
                    for part in topic.strip().split("/"))


def condition_of(topic: str) -> str | None:
    return _TOPICS.get(normalise_topic(topic))


def parse_notifications(response: Any) -> list[Notification]:
    """The notifications of a PullMessages response (a zeep object or plain dicts) that are
    about a known condition and carry a readable state; everything else is skipped."""
    plain: Any = response
    if not isinstance(response, dict):
        plain = serialize_object(response, dict)  # type: ignore[no-untyped-call]
    messages = (plain or {}).get("NotificationMessage") or []
    found = []
    for message in messages:
        note = parse_notification(message)
        if note is not None:
            found.append(note)
    return found


def parse_notification(message: Any) -> Notification | None:
    if not isinstance(message, dict):
        return None
    topic = _text((message.get("Topic") or {}).get("_value_1")
                  if isinstance(message.get("Topic"), dict) else message.get("Topic"))
    if topic is None:
        return None
    condition = condition_of(topic)
    if condition is None:
        return None
    body = message.get("Message")
    body = body.get("_value_1", body) if isinstance(body, dict) else None
    if not isinstance(body, dict):
        return None
    data = _simple_items(body.get("Data"))
    state = next((data[k] for k in _STATE_ITEMS if k in data), None)
    if state is None or state.lower() not in _TRUE | _FALSE:
        return None
    source = _simple_items(body.get("Source"))
    when = body.get("UtcTime")
    return Notification(condition=condition, active=state.lower() in _TRUE,
                        time=when if isinstance(when, datetime) and when.tzinfo else None,
                        topic=topic, source=next(iter(source.values()), None),
                        initial=str(body.get("PropertyOperation") or "") == "Initialized")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _simple_items(node: Any) -> dict[str, str]:
    """Name (lower-case) -> Value of a Source/Data element's SimpleItems."""
    if not isinstance(node, dict):
        return {}
    items = node.get("SimpleItem") or []
    if isinstance(items, dict):
        items = [items]
    out: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("Name"), str) \
                and item.get("Value") is not None:
            out[item["Name"].lower()] = str(item["Value"])
    return out


class ConditionEdges:
    """Remembers each camera's condition states; an Event only when one changes.

    The first state seen raises an event only if it is active: a camera already tampered
    with when the gateway starts is news, one that is fine is not. A re-subscription's
    "Initialized" messages repeat known states and so produce nothing.
    """

    def __init__(self) -> None:
        self._state: dict[tuple[str, str], tuple[bool, datetime]] = {}

    def update(self, device: str, note: Notification, time: datetime) -> Event | None:
        key = (device, note.condition)
        before = self._state.get(key)
        if before is not None and before[0] == note.active:
            return None
        self._state[key] = (note.active, time)
        if before is None and not note.active:
            return None
        data: dict[str, Any] = {"topic": note.topic}
        if note.source is not None:
            data["source"] = note.source
        return Event(device, note.condition, SEVERITY[note.condition], time, note.active, data)

    def open_faults(self, device: str) -> list[tuple[str, datetime]]:
        """Tamper / video-loss conditions open at `device`, with when they opened."""
        return [(c, self._state[(device, c)][1]) for c in FAULTS
                if self._state.get((device, c), (False,))[0]]
