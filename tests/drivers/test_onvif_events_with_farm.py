"""ONVIF events from simulated cameras: tamper / video loss / motion become events and
alarms, and the PullPoint subscription is renewed, and restarted when it is lost."""

from __future__ import annotations

import pytest
from onvif_farm import driving, eventually

from drivers.base import Outcome
from simulators.onvif import CameraSpec, Fault
from telemetry import Severity

pytestmark = pytest.mark.integration


async def test_tamper_raises_an_alarm_event_and_degrades_the_camera_until_cleared() -> None:
    async with driving([CameraSpec("cam-001")]) as (farm, driver, sink):
        subscription = driver.subscription("cam-001")
        assert subscription is not None
        await eventually(lambda: subscription.pulls >= 1 and len(sink.seen("cam-001")) >= 1,
                         "subscribed and probed")
        assert sink.seen("cam-001")[-1].outcome is Outcome.OK
        farm.raise_event("cam-001", "tamper", True)
        await eventually(lambda: bool(sink.events_of("cam-001", "tamper")), "a tamper event")
        raised = sink.events_of("cam-001", "tamper")[0]
        assert (raised.active, raised.severity) == (True, Severity.ALARM)
        assert sink.seen("cam-001")[-1].outcome is Outcome.DEGRADED  # at once, not next probe
        assert sink.seen("cam-001")[-1].reason.startswith("tamper alarm")
        probes_then = len(sink.probes("cam-001"))
        await eventually(lambda: len(sink.probes("cam-001")) > probes_then, "another probe")
        # The picture is fine, but the alarm is open: still DEGRADED.
        assert sink.probes("cam-001")[-1].ok
        assert sink.seen("cam-001")[-1].outcome is Outcome.DEGRADED
        farm.raise_event("cam-001", "tamper", False)
        await eventually(lambda: len(sink.events_of("cam-001", "tamper")) == 2, "cleared")
        assert sink.events_of("cam-001", "tamper")[1].active is False
        assert sink.seen("cam-001")[-1].outcome is Outcome.OK


async def test_video_loss_is_an_alarm_and_motion_is_information_only() -> None:
    async with driving([CameraSpec("cam-001")]) as (farm, driver, sink):
        subscription = driver.subscription("cam-001")
        assert subscription is not None
        await eventually(lambda: subscription.pulls >= 1 and len(sink.seen("cam-001")) >= 1,
                         "subscribed and probed")
        farm.raise_event("cam-001", "motion", True)
        await eventually(lambda: bool(sink.events_of("cam-001", "motion")), "motion")
        motion = sink.events_of("cam-001", "motion")[0]
        assert (motion.active, motion.severity) == (True, Severity.INFO)
        assert sink.seen("cam-001")[-1].outcome is Outcome.OK
        farm.raise_event("cam-001", "video_loss", True)
        await eventually(lambda: bool(sink.events_of("cam-001", "video_loss")), "video loss")
        loss = sink.events_of("cam-001", "video_loss")[0]
        assert (loss.active, loss.severity) == (True, Severity.ALARM)
        assert sink.seen("cam-001")[-1].reason.startswith("video loss")


async def test_the_subscription_is_renewed_before_it_expires() -> None:
    settings = {"subscription_time": "1s", "pull_timeout": "0.4s"}
    async with driving([CameraSpec("cam-001")], settings) as (farm, driver, sink):
        subscription = driver.subscription("cam-001")
        assert subscription is not None
        await eventually(lambda: subscription.renewals >= 3, "three renewals", within=5)
        farm.raise_event("cam-001", "tamper", True)
        await eventually(lambda: bool(sink.events_of("cam-001", "tamper")), "still delivering")
        assert subscription.subscriptions == 1 and subscription.problem is None


async def test_a_subscription_the_camera_drops_is_made_again() -> None:
    async with driving([CameraSpec("cam-001")]) as (farm, driver, sink):
        subscription = driver.subscription("cam-001")
        assert subscription is not None
        await eventually(lambda: subscription.pulls >= 1, "subscribed")
        assert subscription.subscriptions == 1
        farm.set_fault("cam-001", Fault.EVENTS_STOP, True)
        await eventually(lambda: subscription.subscriptions >= 2, "subscribed again")
        farm.set_fault("cam-001", Fault.EVENTS_STOP, False)  # drops subscriptions again
        await eventually(lambda: subscription.subscriptions >= 3 and subscription.pulls >= 1
                         and subscription.problem is None, "subscribed after the restart")
        farm.raise_event("cam-001", "tamper", True)
        await eventually(lambda: bool(sink.events_of("cam-001", "tamper")), "events flow")


async def test_a_pull_that_never_comes_back_restarts_the_subscription() -> None:
    # timeout 1 s, pull_timeout 0.5 s: a pull unanswered for 1.5 s is given up.
    async with driving([CameraSpec("cam-001")], {"timeout": 1}) as (farm, driver, _sink):
        subscription = driver.subscription("cam-001")
        assert subscription is not None
        await eventually(lambda: subscription.pulls >= 2, "pulling")
        farm.set_fault("cam-001", Fault.SLOW, 5.0)
        await eventually(lambda: subscription.problem is not None, "the silence noticed")
        assert "PullMessages" in subscription.problem or "within" in subscription.problem
        farm.set_fault("cam-001", Fault.SLOW, None)
        await eventually(lambda: subscription.subscriptions >= 2
                         and subscription.problem is None, "subscribed again", within=8)
