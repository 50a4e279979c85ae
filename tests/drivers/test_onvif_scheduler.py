"""The probe scheduler with fake probers: bounded concurrency, isolation between cameras,
periodic probes, cancellation, and how probes and alarms become observations."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from driver_support import RecordingSink

from drivers.base import DeviceSpec, Outcome
from drivers.onvif import Camera, Check, OnvifDriver, OnvifSettings, ProbeResult, create
from drivers.onvif.topics import Notification
from telemetry import Event, Probe, Reading


def specs(n: int, period: float = 60.0) -> list[DeviceSpec]:
    return [DeviceSpec(f"cam-{i:03d}", "onvif", "onvif_profile_s", f"127.0.0.1:{9000 + i}",
                       timedelta(seconds=period), {"username": "admin", "password": "pw"})
            for i in range(n)]


async def eventually(cond: Callable[[], bool], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.01)


class FakeProber:
    """Sleeps `delay`, then answers `check`; counts how many probes run at once."""

    running = 0
    most = 0

    def __init__(self, camera: Camera, delay: float = 0.02, check: Check = Check.OK,
                 fail: bool = False) -> None:
        self.camera, self.delay, self.check, self.fail = camera, delay, check, fail
        self.finished: list[float] = []
        self.closed = False

    async def probe(self) -> ProbeResult:
        FakeProber.running += 1
        FakeProber.most = max(FakeProber.most, FakeProber.running)
        try:
            await asyncio.sleep(self.delay)
            if self.fail:
                raise RuntimeError("bug in the prober")
        finally:
            FakeProber.running -= 1
        self.finished.append(asyncio.get_running_loop().time())
        reason = "" if self.check is Check.OK else f"picture {self.check}"
        return ProbeResult(self.camera.id, datetime.now(UTC), self.check, reason,
                           {"mean": 120.0}, clock_offset_s=0.25, latency_ms=12.0)

    async def close(self) -> None:
        self.closed = True


def fake_driver(n: int, settings: dict[str, Any], period: float = 60.0,
                **per_camera: dict[str, Any]) -> tuple[OnvifDriver, dict[str, FakeProber]]:
    probers: dict[str, FakeProber] = {}
    base = create({"events": False, **settings}, specs(n, period))

    def factory(camera: Camera, _s: OnvifSettings, _h: aiohttp.ClientSession) -> FakeProber:
        probers[camera.id] = FakeProber(camera, **per_camera.get(camera.id.replace("-", "_"),
                                                                 {}))
        return probers[camera.id]

    FakeProber.running = FakeProber.most = 0
    return OnvifDriver(base.settings, base.cameras, prober_factory=factory), probers


async def test_no_more_probes_in_flight_than_the_concurrency() -> None:
    driver, probers = fake_driver(12, {"concurrency": 3})
    sink = RecordingSink()
    task = asyncio.create_task(driver.run(sink))
    try:
        await eventually(lambda: all(n == 1 for n in driver.probes.values()) and
                         len(driver.probes) == 12, "every camera probed once")
        assert FakeProber.most == 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert all(p.closed for p in probers.values())


async def test_each_probe_emits_a_probe_item_readings_and_one_observation() -> None:
    driver, _ = fake_driver(2, {})
    sink = RecordingSink()
    task = asyncio.create_task(driver.run(sink))
    try:
        await eventually(lambda: len(sink.observations) == 2, "two observations")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    probes = [i for i in sink.items if isinstance(i, Probe)]
    assert sorted(p.device for p in probes) == ["cam-000", "cam-001"]
    assert probes[0].ok and probes[0].data == {"check": "ok", "mean": 120.0}
    readings = {(r.device, r.metric): r.value for r in sink.items if isinstance(r, Reading)}
    assert readings[("cam-000", "clock_offset_s")] == 0.25
    assert readings[("cam-000", "probe_latency_ms")] == 12.0
    assert {o.outcome for o in sink.observations} == {Outcome.OK}


async def test_a_slow_camera_holds_one_slot_and_delays_nobody_else() -> None:
    driver, probers = fake_driver(8, {"concurrency": 2}, cam_000={"delay": 1.0})
    sink = RecordingSink()
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(driver.run(sink))
    try:
        await eventually(lambda: len(probers) == 8 and all(
            probers[f"cam-{i:03d}"].finished for i in range(1, 8)),
            "the seven fast cameras probed")
        fast_done = max(probers[f"cam-{i:03d}"].finished[0] for i in range(1, 8)) - started
        assert not probers["cam-000"].finished
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # Seven 20 ms probes on the one free slot: well under the slow camera's second.
    assert fast_done < 0.6


async def test_cameras_are_probed_again_every_period() -> None:
    driver, probers = fake_driver(2, {}, period=0.1)
    sink = RecordingSink()
    task = asyncio.create_task(driver.run(sink))
    try:
        await eventually(lambda: "cam-000" in probers and len(probers["cam-000"].finished) >= 4,
                         "four probes")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    times = probers["cam-000"].finished
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.08 < g < 0.3 for g in gaps), gaps


async def test_a_prober_that_crashes_is_logged_once_and_hurts_no_other_camera(
        caplog: pytest.LogCaptureFixture) -> None:
    driver, _ = fake_driver(3, {}, period=0.05, cam_001={"fail": True})
    sink = RecordingSink()
    task = asyncio.create_task(driver.run(sink))
    with caplog.at_level(logging.ERROR, logger="drivers.onvif.driver"):
        try:
            await eventually(lambda: driver.probes["cam-000"] >= 4
                             and driver.probes["cam-002"] >= 4, "the others keep probing")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert driver.probes["cam-001"] == 0
    assert not any(o.device == "cam-001" for o in sink.observations)
    crash_logs = [r for r in caplog.records if "cam-001" in r.getMessage()]
    assert len(crash_logs) == 1


def notification(condition: str, active: bool) -> Notification:
    return Notification(condition, active, datetime(2026, 11, 23, 8, 5, 0, tzinfo=UTC),
                        "tns1:VideoSource/GlobalSceneChange/ImagingService", "vs0", False)


def ok_result(device: str, check: Check = Check.OK, reason: str = "") -> ProbeResult:
    return ProbeResult(device, datetime.now(UTC), check, reason)


def test_an_open_tamper_alarm_degrades_a_good_camera_until_it_clears(
        caplog: pytest.LogCaptureFixture) -> None:
    driver = create({"events": False}, specs(1))
    state = driver._states["cam-000"]
    sink = RecordingSink()
    driver._sink = sink
    with caplog.at_level(logging.INFO, logger="drivers.onvif.driver"):
        driver.report(state, ok_result("cam-000"), sink)
        # The camera's clock is 300 s ahead: the event goes on our clock.
        driver._notified(state, [notification("tamper", True)], 300.0)
        driver.report(state, ok_result("cam-000"), sink)
        driver._notified(state, [notification("tamper", False)], 300.0)
    outcomes = [(o.outcome, o.reason) for o in sink.observations]
    assert outcomes[0] == (Outcome.OK, "")
    assert outcomes[1][0] is Outcome.DEGRADED
    assert outcomes[1][1].startswith("tamper alarm (view blocked, moved or sprayed) open since "
                                     "2026-11-23T08:00:00+00:00")
    assert outcomes[2] == outcomes[1]
    assert outcomes[3] == (Outcome.OK, "")
    events = [i for i in sink.items if isinstance(i, Event)]
    assert [(e.type, e.active) for e in events] == [("tamper", True), ("tamper", False)]
    assert events[0].time == datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("degraded" in m for m in messages) == 1
    assert sum("good again" in m for m in messages) == 1


def test_a_failed_probe_wins_over_an_alarm_and_motion_never_degrades() -> None:
    driver = create({"events": False}, specs(1))
    state = driver._states["cam-000"]
    sink = RecordingSink()
    driver._sink = sink
    driver.report(state, ok_result("cam-000"), sink)
    driver._notified(state, [notification("motion", True)], 0.0)
    assert driver.verdict("cam-000") == (Outcome.OK, "")
    driver._notified(state, [notification("video_loss", True)], 0.0)
    assert driver.verdict("cam-000")[1].startswith("video loss")
    driver.report(state, ok_result("cam-000", Check.TIMEOUT, "no answer"), sink)
    assert driver.verdict("cam-000") == (Outcome.FAILED, "no answer")


def test_a_bad_camera_is_logged_once_per_kind_of_trouble(
        caplog: pytest.LogCaptureFixture) -> None:
    driver = create({"events": False}, specs(1))
    state = driver._states["cam-000"]
    sink = RecordingSink()
    with caplog.at_level(logging.INFO, logger="drivers.onvif.driver"):
        for _ in range(3):
            driver.report(state, ok_result("cam-000", Check.BLACK, "picture black (3 < 30)"),
                          sink)
        for _ in range(3):
            driver.report(state, ok_result("cam-000", Check.TIMEOUT, "no answer"), sink)
        for _ in range(3):
            driver.report(state, ok_result("cam-000"), sink)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert "degraded: picture black" in messages[0]
    assert "failed: no answer" in messages[1]
    assert "good again" in messages[2]
