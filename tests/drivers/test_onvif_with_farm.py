"""The ONVIF driver against simulated cameras over real HTTP/SOAP on loopback: picture
checks, credentials, clock skew, unreachable and slow cameras."""

from __future__ import annotations

import asyncio

import pytest
from onvif_farm import devices_for, driving, eventually

from drivers.base import Outcome
from drivers.onvif import create
from simulators.onvif import CameraFarm, CameraSpec, Fault

pytestmark = pytest.mark.integration


async def test_a_normal_camera_gives_ok_probes_with_picture_statistics() -> None:
    async with driving([CameraSpec("cam-001")]) as (_farm, driver, sink):
        await eventually(lambda: len(sink.probes("cam-001")) >= 3, "three probes")
    probes = sink.probes("cam-001")
    assert all(p.ok and p.reason == "" for p in probes)
    data = probes[-1].data
    assert data["check"] == "ok"
    assert (data["width"], data["height"]) == (640, 360)
    assert 30 < data["mean"] < 225 and data["std"] >= 5
    assert data["bytes"] > 1000 and 0 < data["latency_ms"] < 1000
    assert len({p.data["sha256"] for p in probes}) == len(probes)  # a live picture
    assert {o.outcome for o in sink.seen("cam-001")} == {Outcome.OK}
    assert len(sink.metric("cam-001", "probe_latency_ms")) == len(probes)
    assert all(abs(v) < 1.5 for v in sink.metric("cam-001", "clock_offset_s"))
    prober = driver.prober("cam-001")
    assert prober is not None and prober.link.connects == 1  # the session is kept
    assert prober.link.info["Manufacturer"] == "SimCam"


async def test_bad_pictures_get_their_exact_check_and_a_reason() -> None:
    specs = [CameraSpec("cam-black", faults={Fault.BLACK: True}),
             CameraSpec("cam-blank", faults={Fault.BLANK: True}),
             CameraSpec("cam-frozen", faults={Fault.FROZEN: True}),
             CameraSpec("cam-corrupt", faults={Fault.CORRUPT_JPEG: True})]
    async with driving(specs, {"events": False}) as (_farm, _driver, sink):
        await eventually(lambda: all(len(sink.probes(s.id)) >= 3 for s in specs),
                         "three probes of each camera")
    assert set(sink.checks("cam-black")) == {"black"}
    assert set(sink.checks("cam-blank")) == {"blank"}
    assert set(sink.checks("cam-corrupt")) == {"corrupt"}
    # Frozen needs a previous picture: the first probe has nothing to compare with.
    frozen = sink.checks("cam-frozen")
    assert frozen[0] == "ok" and set(frozen[1:]) == {"frozen"}
    black = sink.probes("cam-black")[-1]
    assert not black.ok and black.data["mean"] < 30
    assert black.reason == f"picture black (mean grey {black.data['mean']:.1f} < 30)"
    assert sink.probes("cam-blank")[-1].data["std"] < 5
    assert "mean" not in sink.probes("cam-corrupt")[-1].data
    for cam in ("cam-black", "cam-blank", "cam-corrupt"):
        last = sink.seen(cam)[-1]
        assert last.outcome is Outcome.DEGRADED and last.reason == sink.probes(cam)[-1].reason
    assert sink.seen("cam-frozen")[-1].reason.startswith("picture frozen")


async def test_wrong_password_degrades_and_recovers_by_itself_when_fixed() -> None:
    spec = CameraSpec("cam-001", faults={Fault.WRONG_PASSWORD: True})
    async with driving([spec]) as (farm, _driver, sink):
        await eventually(lambda: len(sink.seen("cam-001")) >= 2, "two probes")
        refused = sink.seen("cam-001")
        assert {o.outcome for o in refused} == {Outcome.DEGRADED}
        assert refused[-1].reason.startswith("wrong credentials: camera answered NotAuthorized")
        assert "options.username/password of cam-001" in refused[-1].reason
        assert set(sink.checks("cam-001")) == {"auth"}
        farm.set_fault("cam-001", Fault.WRONG_PASSWORD, False)
        await eventually(lambda: sink.seen("cam-001")[-1].outcome is Outcome.OK,
                         "back to OK without a restart")
        assert sink.checks("cam-001")[-1] == "ok"
        # A password changed under a working session: the snapshot's Digest refuses it too.
        ok_so_far = len(sink.seen("cam-001"))
        farm.set_fault("cam-001", Fault.WRONG_PASSWORD, True)
        await eventually(lambda: sink.seen("cam-001")[-1].outcome is Outcome.DEGRADED,
                         "degraded again")
        assert sink.seen("cam-001")[-1].reason.startswith("wrong credentials:")
        assert len(sink.seen("cam-001")) > ok_so_far


async def test_a_skewed_clock_degrades_with_that_reason_and_recovers_when_set() -> None:
    specs = [CameraSpec("cam-ahead", faults={Fault.CLOCK_SKEW: 300}),
             CameraSpec("cam-behind", faults={Fault.CLOCK_SKEW: -120}),
             CameraSpec("cam-close", faults={Fault.CLOCK_SKEW: 4})]
    async with driving(specs) as (farm, _driver, sink):
        await eventually(lambda: all(len(sink.probes(s.id)) >= 3 for s in specs),
                         "three probes each")
        for cam, skew, words in (("cam-ahead", 300, "300 s ahead of"),
                                 ("cam-behind", -120, "120 s behind")):
            # Requests signed on the camera's own clock get through: the picture is fine...
            assert set(sink.checks(cam)) == {"ok"}
            offsets = sink.metric(cam, "clock_offset_s")
            assert offsets and all(abs(v - skew) < 1.5 for v in offsets), offsets
            # ...but the camera's recordings carry wrong times, and the operator is told.
            last = sink.seen(cam)[-1]
            assert last.outcome is Outcome.DEGRADED
            assert last.reason.startswith(f"camera clock {words} the gateway's (more than the "
                                          "10 s allowed)")
            assert "set the camera's clock (NTP)" in last.reason
        assert {o.outcome for o in sink.seen("cam-close")} == {Outcome.OK}
        farm.set_fault("cam-ahead", Fault.CLOCK_SKEW, None)
        await eventually(lambda: sink.seen("cam-ahead")[-1].outcome is Outcome.OK,
                         "back to OK once the camera's clock is set, without a restart")


async def test_a_clock_set_while_running_is_followed_without_a_refusal() -> None:
    # A refusal would be an `auth` check: the driver re-reads the clock and reconnects.
    async with driving([CameraSpec("cam-001")], {"events": False}) as (farm, driver, sink):
        await eventually(lambda: len(sink.seen("cam-001")) >= 1, "a first probe")
        # Right after a probe, so the next one starts with the clock already moved.
        farm.set_fault("cam-001", Fault.CLOCK_SKEW, 300)
        await eventually(lambda: any(v > 298 for v in sink.metric("cam-001", "clock_offset_s"))
                         and len(sink.seen("cam-001")) >= 4, "the new offset, then probes")
    assert "auth" not in sink.checks("cam-001")
    assert sink.seen("cam-001")[-1].reason.startswith("camera clock 300 s ahead")
    prober = driver.prober("cam-001")
    assert prober is not None and prober.link.connects == 2  # reconnected for the new offset


async def test_an_unreachable_camera_fails_then_comes_back() -> None:
    spec = CameraSpec("cam-001", faults={Fault.UNREACHABLE: True})
    async with driving([spec]) as (farm, _driver, sink):
        await eventually(lambda: len(sink.seen("cam-001")) >= 2, "two probes")
        failed = sink.seen("cam-001")[-1]
        assert failed.outcome is Outcome.FAILED
        assert failed.reason.startswith("unreachable at 127.0.0.1:")
        assert set(sink.checks("cam-001")) == {"unreachable"}
        farm.set_fault("cam-001", Fault.UNREACHABLE, False)
        await eventually(lambda: sink.seen("cam-001")[-1].outcome is Outcome.OK, "back to OK")
        assert sink.checks("cam-001")[-1] == "ok"


async def test_a_slow_camera_times_out_and_delays_ten_others_by_less_than_its_timeout(
) -> None:
    timeout = 1.0
    specs = [CameraSpec("cam-slow", faults={Fault.SLOW: 3.0})] + \
        [CameraSpec(f"cam-{i:03d}") for i in range(10)]
    others = [s.id for s in specs[1:]]
    async with CameraFarm(specs) as farm:
        # Three slots: the slow camera holds one for at most its timeout.
        driver = create({"timeout": timeout, "concurrency": 3, "events": False},
                        devices_for(farm, period=30.0))
        from onvif_farm import CameraSink

        sink = CameraSink()
        loop = asyncio.get_running_loop()
        started = loop.time()
        task = asyncio.create_task(driver.run(sink))
        try:
            await eventually(lambda: all(sink.seen(c) for c in others), "ten probes")
            others_done = loop.time() - started
            await eventually(lambda: bool(sink.seen("cam-slow")), "the slow camera's probe",
                             within=3 * timeout)
            slow_done = loop.time() - started
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert others_done < timeout, f"ten cameras took {others_done:.2f} s"
    assert timeout * 0.9 < slow_done < timeout * 1.5, f"slow probe ended at {slow_done:.2f} s"
    assert sink.checks("cam-slow") == ["timeout"]
    slow = sink.seen("cam-slow")[0]
    assert slow.outcome is Outcome.FAILED and "within 1 s" in slow.reason
    assert all(sink.checks(c) == ["ok"] for c in others)
