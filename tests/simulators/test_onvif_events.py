"""PullPoint events of the simulated camera through the real onvif-zeep-async client:
subscribe, long-poll, tamper / motion / video-loss messages, renew, expiry, events that stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import zeep.exceptions
from onvif import ONVIFCamera, ONVIFService

from simulators.onvif import CameraFarm, CameraSpec, Fault

PULLPOINT = "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"
TAMPER = "tns1:VideoSource/GlobalSceneChange/ImagingService"
MOTION = "tns1:RuleEngine/CellMotionDetector/Motion"
LOSS = "tns1:VideoSource/SignalLoss"


@pytest.fixture
async def farm() -> AsyncIterator[CameraFarm]:
    async with CameraFarm([CameraSpec("cam-001")]) as f:
        yield f


@pytest.fixture
async def cam(farm: CameraFarm) -> AsyncIterator[ONVIFCamera]:
    client = ONVIFCamera("127.0.0.1", farm.camera("cam-001").port, "admin", "admin123",
                         adjust_time=True)
    await client.update_xaddrs()
    yield client
    await client.close()


async def subscribe(cam: ONVIFCamera, lifetime: str = "PT60S") -> tuple[ONVIFService, Any]:
    """What PullPointManager does, with a lifetime of our choosing: returns the service to
    pull from (also the subscription manager) and the create response."""
    events = await cam.create_events_service()
    created = await events.CreatePullPointSubscription({"InitialTerminationTime": lifetime})
    cam.xaddrs[PULLPOINT] = created.SubscriptionReference.Address._value_1
    return await cam.create_pullpoint_service(), created


async def pull(service: ONVIFService, wait: float = 2.0) -> list[tuple[str, str, str]]:
    """(topic, PropertyOperation, value of the boolean Data item) per message; `wait` is
    the PullMessages Timeout the camera may hold the request for."""
    answer = await service.PullMessages({"Timeout": dt.timedelta(seconds=wait),
                                         "MessageLimit": 100})
    out = []
    for note in answer.NotificationMessage:
        message = note.Message._value_1
        out.append((note.Topic._value_1, message.PropertyOperation,
                    message.Data.SimpleItem[0].Value))
    return out


async def eventually(cond: Callable[[], bool], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.01)


def assert_gone(fault: zeep.exceptions.Fault) -> None:
    assert [q.localname for q in fault.subcodes] == ["ResourceUnknownFault"]


async def test_subscription_starts_with_the_current_state_then_reports_changes(
        farm: CameraFarm, cam: ONVIFCamera) -> None:
    farm.raise_event("cam-001", "video_loss", True)
    service, created = await subscribe(cam)
    assert (created.TerminationTime - created.CurrentTime).total_seconds() == 60
    assert sorted(await pull(service)) == sorted([
        (TAMPER, "Initialized", "false"), (MOTION, "Initialized", "false"),
        (LOSS, "Initialized", "true")])

    farm.raise_event("cam-001", "tamper", True)
    farm.raise_event("cam-001", "motion", True)
    farm.raise_event("cam-001", "tamper", False)
    assert await pull(service) == [(TAMPER, "Changed", "true"), (MOTION, "Changed", "true"),
                                   (TAMPER, "Changed", "false")]


async def test_messages_carry_source_tokens_and_camera_time(farm: CameraFarm,
                                                            cam: ONVIFCamera) -> None:
    farm.set_fault("cam-001", Fault.CLOCK_SKEW, 300)
    await cam.update_xaddrs()                      # re-learn the offset
    service, _ = await subscribe(cam)
    await pull(service)
    farm.raise_event("cam-001", "motion", True)
    answer = await service.PullMessages({"Timeout": dt.timedelta(seconds=2),
                                         "MessageLimit": 10})
    message = answer.NotificationMessage[0].Message._value_1
    assert [(i.Name, i.Value) for i in message.Source.SimpleItem] == [
        ("VideoSourceConfigurationToken", "VideoSourceConfig_1"),
        ("VideoAnalyticsConfigurationToken", "VideoAnalyticsConfig_1"),
        ("Rule", "MyMotionDetectorRule")]
    assert message.Data.SimpleItem[0].Name == "IsMotion"
    ahead = (message.UtcTime - dt.datetime.now(dt.UTC)).total_seconds()
    assert 298 < ahead < 302


async def test_pull_waits_for_an_event_and_returns_as_soon_as_it_comes(
        farm: CameraFarm, cam: ONVIFCamera) -> None:
    service, _ = await subscribe(cam)
    await pull(service)                             # the Initialized messages
    began = time.perf_counter()
    assert await pull(service, wait=0.3) == []   # nothing: the camera waits the timeout
    assert time.perf_counter() - began >= 0.3

    waiting = asyncio.create_task(pull(service, wait=10))
    (sub,) = farm.camera("cam-001").events.subscriptions.values()
    await eventually(lambda: sub.pulling == 1, "the pull waits in the camera")
    began = time.perf_counter()
    farm.raise_event("cam-001", "tamper", True)
    assert await asyncio.wait_for(waiting, 5) == [(TAMPER, "Changed", "true")]
    assert time.perf_counter() - began < 2


async def test_synchronization_point_repeats_the_current_state(farm: CameraFarm,
                                                               cam: ONVIFCamera) -> None:
    service, _ = await subscribe(cam)
    await pull(service)
    farm.raise_event("cam-001", "tamper", True)
    await pull(service)
    await service.SetSynchronizationPoint()
    assert (TAMPER, "Initialized", "true") in await pull(service)


async def test_renew_extends_the_subscription(cam: ONVIFCamera) -> None:
    service, _ = await subscribe(cam, "PT1S")
    manager = await cam.create_subscription_service("PullPointSubscription")
    renewed = await manager.Renew("PT120S")
    assert (renewed.TerminationTime - renewed.CurrentTime).total_seconds() == 120
    began = time.perf_counter()
    await pull(service)                           # Initialized messages, no waiting
    assert await pull(service, wait=1.5) == []  # outlives the first lifetime of 1 s
    assert time.perf_counter() - began >= 1.0


async def test_a_subscription_not_renewed_expires(cam: ONVIFCamera) -> None:
    service, _ = await subscribe(cam, "PT0.5S")
    await pull(service)
    began = time.perf_counter()
    with pytest.raises(zeep.exceptions.Fault) as err:   # the pull ends when it expires
        await pull(service, wait=10)
    assert time.perf_counter() - began < 3
    assert_gone(err.value)
    assert "expired" in err.value.message


async def test_unsubscribe_removes_the_subscription(farm: CameraFarm,
                                                    cam: ONVIFCamera) -> None:
    service, _ = await subscribe(cam)
    manager = await cam.create_subscription_service("PullPointSubscription")
    await manager.Unsubscribe()
    assert farm.camera("cam-001").events.subscriptions == {}
    with pytest.raises(zeep.exceptions.Fault) as err:
        await pull(service)
    assert_gone(err.value)


async def test_events_stop_drops_subscriptions_and_delivers_nothing_until_cleared(
        farm: CameraFarm, cam: ONVIFCamera) -> None:
    before, _ = await subscribe(cam)
    await pull(before)
    farm.set_fault("cam-001", Fault.EVENTS_STOP)
    with pytest.raises(zeep.exceptions.Fault) as err:
        await pull(before)
    assert_gone(err.value)

    during, _ = await subscribe(cam)          # the camera accepts it, but it stays silent
    farm.raise_event("cam-001", "tamper", True)
    assert await pull(during, wait=0.3) == []

    farm.set_fault("cam-001", Fault.EVENTS_STOP, False)
    with pytest.raises(zeep.exceptions.Fault):
        await pull(during)                    # lost too: the client must subscribe again
    after, _ = await subscribe(cam)
    assert (TAMPER, "Initialized", "true") in await pull(after)


async def test_pullpoint_manager_of_the_client_subscribes(farm: CameraFarm,
                                                          cam: ONVIFCamera) -> None:
    lost: list[bool] = []
    manager = await cam.create_pullpoint_manager(dt.timedelta(seconds=60),
                                                 lambda: lost.append(True))
    try:
        await pull(manager.get_service())
        farm.raise_event("cam-001", "video_loss", True)
        assert await pull(manager.get_service()) == [(LOSS, "Changed", "true")]
    finally:
        await manager.shutdown()
    assert farm.camera("cam-001").events.subscriptions == {} and lost == []


async def test_a_camera_refuses_more_than_ten_subscriptions(cam: ONVIFCamera) -> None:
    for _ in range(10):
        await subscribe(cam)
    with pytest.raises(zeep.exceptions.Fault) as err:
        await subscribe(cam)
    assert "allows 10 subscriptions" in err.value.message
