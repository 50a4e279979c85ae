"""A camera's event source: the state of its property events (tamper, motion, video loss)
and its PullPoint subscriptions, with WS-BaseNotification lifetimes.

Topics are the ones common cameras use for these events (boolean Data item in brackets):
tamper      tns1:VideoSource/GlobalSceneChange/ImagingService  (State)
motion      tns1:RuleEngine/CellMotionDetector/Motion           (IsMotion)
video_loss  tns1:VideoSource/SignalLoss                          (State)
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from simulators.onvif.soap import SoapFault, xml_attr, xml_text, xsd_datetime


@dataclass(frozen=True, slots=True)
class Topic:
    expression: str
    source: tuple[tuple[str, str], ...]   # (name, value) of the tt:Source SimpleItems
    data: str                              # name of the boolean tt:Data SimpleItem


TOPICS: dict[str, Topic] = {
    "tamper": Topic("tns1:VideoSource/GlobalSceneChange/ImagingService",
                    (("Source", "VideoSource_1"),), "State"),
    "motion": Topic("tns1:RuleEngine/CellMotionDetector/Motion",
                    (("VideoSourceConfigurationToken", "VideoSourceConfig_1"),
                     ("VideoAnalyticsConfigurationToken", "VideoAnalyticsConfig_1"),
                     ("Rule", "MyMotionDetectorRule")), "IsMotion"),
    "video_loss": Topic("tns1:VideoSource/SignalLoss", (("Source", "VideoSource_1"),), "State"),
}
DIALECT = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
MAX_SUBSCRIPTIONS = 10      # per camera, like real cameras: a client that leaks them is refused
MAX_PULL_TIMEOUT = 60.0     # seconds; a longer requested Timeout is shortened to this
MAX_QUEUE = 1000            # notifications kept per subscription; the oldest go first
DEFAULT_LIFETIME = 60.0     # seconds, when CreatePullPointSubscription names no termination


@dataclass(frozen=True, slots=True)
class Notification:
    kind: str                # a key of TOPICS
    active: bool
    time: datetime           # camera clock
    operation: str = "Changed"   # or "Initialized" (current state, sent on subscribe/sync)

    def xml(self) -> str:
        topic = TOPICS[self.kind]
        source = "".join(f"<tt:SimpleItem Name={xml_attr(n)} Value={xml_attr(v)}/>"
                         for n, v in topic.source)
        value = "true" if self.active else "false"
        return (f"<wsnt:NotificationMessage><wsnt:Topic Dialect={xml_attr(DIALECT)}>"
                f"{xml_text(topic.expression)}</wsnt:Topic><wsnt:Message>"
                f"<tt:Message UtcTime={xml_attr(xsd_datetime(self.time, millis=True))} "
                f"PropertyOperation={xml_attr(self.operation)}>"
                f"<tt:Source>{source}</tt:Source><tt:Data>"
                f"<tt:SimpleItem Name={xml_attr(topic.data)} Value=\"{value}\"/></tt:Data>"
                "</tt:Message></wsnt:Message></wsnt:NotificationMessage>")


@dataclass(eq=False)
class Subscription:
    id: str
    expires: float                           # time.monotonic()
    queue: deque[Notification] = field(default_factory=lambda: deque(maxlen=MAX_QUEUE))
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    gone: bool = False                       # dropped by the camera (events stopped)
    pulling: int = 0                         # PullMessages parked waiting for a message

    def remaining(self) -> float:
        return self.expires - time.monotonic()


def resource_unknown(sid: str, why: str) -> SoapFault:
    return SoapFault("Sender", ("wsrf-rw:ResourceUnknownFault",),
                     f"subscription {sid} {why}; create a new PullPoint subscription")


class EventHub:
    """Property states and live subscriptions of one camera. `delivering` False (the
    EVENTS_STOP fault) keeps state changes from reaching any subscription."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.state: dict[str, bool] = dict.fromkeys(TOPICS, False)
        self.subscriptions: dict[str, Subscription] = {}
        self.delivering = True
        self._ids = itertools.count(1)

    def raise_event(self, kind: str, active: bool) -> None:
        if kind not in TOPICS:
            raise ValueError(f"unknown event {kind!r}; known: {', '.join(TOPICS)}")
        self.state[kind] = active
        if self.delivering:
            note = Notification(kind, active, self._clock())
            for sub in self._live():
                sub.queue.append(note)
                sub.wake.set()

    def create(self, lifetime: float) -> Subscription:
        live = self._live()
        if len(live) >= MAX_SUBSCRIPTIONS:
            raise SoapFault("Receiver", ("ter:Action", "ter:TooManySubscriptions"),
                            f"this camera allows {MAX_SUBSCRIPTIONS} subscriptions at once; "
                            "unsubscribe the ones no longer used")
        sub = Subscription(str(next(self._ids)), time.monotonic() + lifetime)
        self.subscriptions[sub.id] = sub
        self.synchronize(sub)
        return sub

    def synchronize(self, sub: Subscription) -> None:
        """Queue the current state of every property (ONVIF 'Initialized' messages)."""
        if not self.delivering:
            return
        now = self._clock()
        for kind, active in self.state.items():
            sub.queue.append(Notification(kind, active, now, "Initialized"))
        sub.wake.set()

    def get(self, sid: str) -> Subscription:
        sub = self.subscriptions.get(sid)
        if sub is None or sub.gone:
            raise resource_unknown(sid, "does not exist (never created, unsubscribed or "
                                        "dropped by the camera)")
        if sub.remaining() <= 0:
            self._drop(sub)
            raise resource_unknown(sid, "has expired: it was not renewed in time")
        return sub

    def unsubscribe(self, sid: str) -> None:
        self._drop(self.get(sid))

    def drop_all(self) -> None:
        for sub in list(self.subscriptions.values()):
            self._drop(sub)

    async def pull(self, sub: Subscription, wait_s: float, limit: int) -> list[Notification]:
        """Wait up to `wait_s` seconds (at most MAX_PULL_TIMEOUT) for notifications; the
        client's PullMessages Timeout, which the camera honours rather than cancels."""
        deadline = time.monotonic() + min(max(wait_s, 0.0), MAX_PULL_TIMEOUT)
        while not sub.queue:
            wait = min(deadline, sub.expires) - time.monotonic()
            if wait <= 0 or sub.gone:
                break
            sub.wake.clear()
            sub.pulling += 1
            try:
                async with asyncio.timeout(wait):
                    await sub.wake.wait()
            except TimeoutError:
                pass
            finally:
                sub.pulling -= 1
        if sub.gone:
            raise resource_unknown(sub.id, "was dropped by the camera while being pulled")
        if sub.remaining() <= 0:
            self._drop(sub)
            raise resource_unknown(sub.id, "has expired: it was not renewed in time")
        out: list[Notification] = []
        while sub.queue and len(out) < max(limit, 1):
            out.append(sub.queue.popleft())
        return out

    def _live(self) -> list[Subscription]:
        for sub in [s for s in self.subscriptions.values() if s.remaining() <= 0]:
            self._drop(sub)
        return list(self.subscriptions.values())

    def _drop(self, sub: Subscription) -> None:
        sub.gone = True
        sub.wake.set()
        self.subscriptions.pop(sub.id, None)
