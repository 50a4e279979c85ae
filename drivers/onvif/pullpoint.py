"""Keeps one camera's PullPoint event subscription alive: subscribe, pull, renew before it
expires, and start over when a pull fails, the subscription vanishes, or nothing at all
(not even an empty answer) comes back within the pull timeout plus the request timeout.

Users' most common complaint about ONVIF events is that they "stop after a while": the
camera forgets the subscription (reboot, expiry, its own limits) and nobody notices. Here
a pull that does not come back is treated like a lost subscription.

The library's PullPointManager renews on fire-and-forget timers and waits a fixed 40 s
before resubscribing; this loop owns its timing and is cancelled with the driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from drivers.onvif.failures import ProbeFailure, classify
from drivers.onvif.picture import Check
from drivers.onvif.session import OnvifClient
from drivers.onvif.settings import Camera, OnvifSettings
from drivers.onvif.topics import Notification, parse_notifications
from telemetry.backoff import Backoff

log = logging.getLogger(__name__)

_PULLPOINT_NS = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"
_RENEW_AT = 0.8          # of the granted lifetime
_MESSAGE_LIMIT = 100
_MIN_PULL_S = 0.1
_RESUBSCRIBE = (1.0, 60.0)  # backoff while subscribing keeps failing

#: Called with a camera's notifications and the offset (s) of its clock from ours.
Listener = Callable[[list[Notification], float], None]


class EventSubscription:
    """The PullPoint subscription of one camera. `run()` returns only when cancelled."""

    def __init__(self, camera: Camera, settings: OnvifSettings, listener: Listener) -> None:
        self.camera = camera
        self.settings = settings
        self.listener = listener
        #: subscriptions created so far (the first, then each restart)
        self.subscriptions = 0
        #: PullMessages answers received (empty ones included)
        self.pulls = 0
        #: successful Renew calls
        self.renewals = 0
        #: why the subscription is down, or None while it works
        self.problem: str | None = None
        self._where = f"{camera.address.host}:{camera.address.port}"

    async def run(self) -> None:
        backoff = Backoff(*_RESUBSCRIBE, jitter=0.2)
        loop = asyncio.get_running_loop()
        while True:
            client = OnvifClient(self.camera.address, self.camera.username,
                                 self.camera.password)
            pulled_before, started = self.pulls, loop.time()
            subscription: Any = None
            try:
                subscription, renew_in = await self._subscribe(client)
                await self._pull_forever(client, subscription, renew_in)
            except ProbeFailure as failure:
                self._lost(failure.reason)
                if subscription is not None:
                    await self._unsubscribe(subscription)
            finally:
                with contextlib.suppress(Exception):  # releasing local sockets only
                    await client.close()
            if self.pulls > pulled_before and loop.time() - started > self._watchdog:
                # It had been working a while: the camera forgot us or stopped answering;
                # ask again at once, and back off only if that fails too.
                backoff.reset()
                continue
            await asyncio.sleep(backoff.next())

    async def _call(self, step: str, request: Any, limit: float | None = None) -> Any:
        limit = limit or self.settings.timeout
        try:
            async with asyncio.timeout(limit):
                return await request()
        except Exception as exc:
            raise classify(exc, step, self._where, limit) from exc

    @property
    def _watchdog(self) -> float:
        # A camera may hold a pull for the whole pull timeout; past that plus the request
        # timeout, it is not coming back.
        return self.settings.pull_timeout + self.settings.timeout

    async def _subscribe(self, client: OnvifClient) -> tuple[Any, float]:
        """Subscribe; the subscription-manager service and seconds until it needs renewing."""
        lifetime = self.settings.subscription_time
        await self._call("GetSystemDateAndTime/GetServices", client.update_xaddrs)
        events = await self._call("CreatePullPointSubscription", client.create_events_service)
        answer = await self._call("CreatePullPointSubscription", lambda: events
                                  .CreatePullPointSubscription(
                                      {"InitialTerminationTime": _duration(lifetime)}))
        try:
            address = answer.SubscriptionReference.Address._value_1
        except AttributeError:
            address = None
        if not isinstance(address, str) or not address:
            raise ProbeFailure(Check.HTTP_ERROR, "CreatePullPointSubscription answered without "
                               "a subscription address")
        client.xaddrs[_PULLPOINT_NS] = client.rewrite_url(address)
        subscription = await self._call("PullMessages", lambda: client
                                        .create_subscription_service("PullPointSubscription"))
        self.subscriptions += 1
        return subscription, _granted(answer, lifetime) * _RENEW_AT

    async def _pull_forever(self, client: OnvifClient, subscription: Any,
                            renew_in: float) -> None:
        loop = asyncio.get_running_loop()
        pullpoint = await self._call("PullMessages", client.create_pullpoint_service)
        lifetime = self.settings.subscription_time
        renew_at = loop.time() + renew_in
        while True:
            # A pull never outlasts the renewal time, so a long pull timeout cannot let the
            # subscription expire under it.
            until_renewal = renew_at - loop.time()
            if until_renewal < _MIN_PULL_S:
                answer = await self._call("Renew", lambda: subscription.Renew(
                    {"TerminationTime": _duration(lifetime)}))
                renew_at = loop.time() + _granted(answer, lifetime) * _RENEW_AT
                self.renewals += 1
                continue
            wait = min(self.settings.pull_timeout, until_renewal)
            request = {"Timeout": timedelta(seconds=wait), "MessageLimit": _MESSAGE_LIMIT}
            answer = await self._call("PullMessages",
                                      functools.partial(pullpoint.PullMessages, request),
                                      limit=wait + self.settings.timeout)
            self.pulls += 1
            self._working()
            offset = client.dt_diff.total_seconds() if client.dt_diff is not None else 0.0
            notes = parse_notifications(answer)
            if notes:
                self.listener(notes, offset)

    async def _unsubscribe(self, subscription: Any) -> None:
        # A courtesy: the camera drops the subscription at its termination time anyway.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(min(self.settings.timeout, 2.0)):
                await subscription.Unsubscribe()

    def _lost(self, reason: str) -> None:
        if self.problem is None:
            log.warning("camera %s: event subscription lost or refused (%s); subscribing "
                        "again with a delay doubling up to %g s (logged once until it works)",
                        self.camera.id, reason, _RESUBSCRIBE[1])
        self.problem = reason

    def _working(self) -> None:
        if self.problem is not None:
            log.info("camera %s: event subscription works again (%d subscriptions so far)",
                     self.camera.id, self.subscriptions)
            self.problem = None


def _duration(seconds: float) -> str:
    """xs:duration of a relative termination time, e.g. PT300S or PT1.5S."""
    return f"PT{seconds:.3f}".rstrip("0").rstrip(".") + "S"


def _granted(answer: Any, asked: float) -> float:
    """Seconds the camera granted (TerminationTime - CurrentTime, both on its clock)."""
    current = getattr(answer, "CurrentTime", None)
    until = getattr(answer, "TerminationTime", None)
    if isinstance(current, datetime) and isinstance(until, datetime):
        if current.tzinfo is None:
            current = current.replace(tzinfo=UTC)
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        granted = (until - current).total_seconds()
        if granted > 0:
            return min(granted, asked)
    return asked


