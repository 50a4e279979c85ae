"""The GB 26875 centre (driver) against the simulated transmission device over real TCP:
a detector's fire alarm becomes a critical zone_fire event on the inventory's panel with
its zone and detector; a silent device takes itself and its panels offline with a reason
naming it; a reset clears what it clears and what is still wrong comes back; reports made
while the centre is away, or whose confirm is lost, arrive exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from gb26875_support import (
    ADDRESS,
    HealthSink,
    playing,
    running,
    site_config,
    site_driver,
    until,
)

from drivers.base import Outcome
from drivers.gb26875 import Frame, FrameReader
from simulators.gb26875 import Action, TransmissionDeviceSim
from telemetry import Severity


async def test_a_fire_alarm_on_a_detector_of_building_b_is_a_critical_zone_event() -> None:
    sink = HealthSink()
    driver = site_driver()
    async with running(driver, sink) as port, playing(site_config(), port) as device:
        await until(lambda: sink.state("panel-b") == "online", "panel B online")
        device.perform(Action("fire", {"panel": 2, "loop": 1, "point": 1}))
        await until(lambda: sink.found("panel-b", "zone_fire"), "zone_fire on panel-b")
        (event,) = sink.found("panel-b", "zone_fire")
        assert event.severity is Severity.CRITICAL
        assert event.data["zone"] == 1 and event.data["detector"] == "det-b-0101"
        assert (event.data["loop"], event.data["point"]) == (1, 1)
        assert event.data["description"] == "B栋3层电梯前室"
        assert event.data["component"] == "point_photoelectric_smoke_detector"
        await until(lambda: sink.found("panel-b", "fire_alarm"), "the panel's own fire state")
        # the panel's own flag sums up the zone in fire: a warning, the zone is the alarm
        assert sink.found("panel-b", "fire_alarm")[0].severity is Severity.WARNING
        await until(lambda: device.counts["confirmed"] >= 2, "both reports confirmed")
        assert not device.outbox
        # Nothing was said about building A.
        assert not [e for e in sink.events() if e.device == "panel-a"]


async def test_a_device_that_stops_its_heartbeat_takes_its_panels_offline_naming_it() -> None:
    sink = HealthSink(failures_to_offline=2)
    driver = site_driver()
    async with running(driver, sink) as port, playing(site_config(), port) as device:
        await until(lambda: sink.state("panel-a") == "online", "panel A online")
        device.perform(Action("stop"))
        await until(lambda: sink.state("panel-b") == "offline", "panel B offline")
        for panel in ("panel-a", "panel-b"):
            reason = sink.health.state(panel).reason
            assert reason.startswith(f"panel {panel} reports through transmission device "
                                     f"uitd-b (address {ADDRESS}) has been silent for")
            assert "heartbeat expected every 0.2 s" in reason
        assert sink.state("uitd-b") == "offline"
        device.perform(Action("resume"))
        await until(lambda: sink.state("panel-b") == "online", "panel B back online")
        assert sink.state("uitd-b") == "online"


async def test_a_closed_connection_is_the_reason_once_the_device_is_gone() -> None:
    sink = HealthSink(failures_to_offline=2)
    driver = site_driver()
    async with running(driver, sink) as port:
        async with playing(site_config(), port):
            await until(lambda: sink.state("uitd-b") == "online", "the device online")
        await until(lambda: sink.state("uitd-b") == "offline", "the device offline")
        assert "is disconnected: its connection closed" in sink.health.state("uitd-b").reason
        assert driver.link("uitd-b").writer is None


async def test_a_reset_clears_the_fire_and_a_fault_still_there_is_raised_again() -> None:
    sink = HealthSink()
    driver = site_driver()
    async with running(driver, sink) as port, playing(site_config(), port) as device:
        device.perform(Action("fire", {"panel": 2, "loop": 1, "point": 1}))
        device.perform(Action("fault", {"panel": 2, "loop": 2, "point": 3}))
        await until(lambda: sink.found("panel-b", "zone_fault"), "the fault")
        device.perform(Action("reset", {"panel": 2}))
        await until(lambda: len(sink.found("panel-b", "zone_fault")) == 2, "the fault again")
        cleared = sink.found("panel-b", "zone_fire", active=False)
        assert [(e.data["zone"], e.data["cleared_by"]) for e in cleared] == [(1, "reset")]
        assert sink.found("panel-b", "fire_alarm", active=False)
        assert [e.data["zone"] for e in sink.found("panel-b", "zone_fault", False)] == [2]
        assert [e.data["zone"] for e in sink.found("panel-b", "zone_fault")] == [2, 2]
        assert sink.found("panel-b", "reset", active=None)[0].severity is Severity.INFO
        assert driver.link("uitd-b").interpreter.active("panel-b") == ["fault", "zone_fault"]


async def test_reports_made_while_the_centre_is_away_arrive_once_it_listens() -> None:
    sink = HealthSink()
    first = site_driver()
    async with running(first, sink) as port:
        pass  # only to learn a free port; now nothing listens there
    async with playing(site_config(), port) as device:
        device.perform(Action("fire", {"panel": 2, "loop": 2, "point": 4}))
        assert len(device.outbox) == 2 and not device.connected.is_set()
        async with running(site_driver(port), sink):
            await until(lambda: not device.outbox, "the queued reports confirmed")
            await until(lambda: sink.found("panel-b", "zone_fire"), "the fire")
    assert [e.data["zone"] for e in sink.found("panel-b", "zone_fire")] == [2]


@contextlib.asynccontextmanager
async def losing_first_confirm(target: int) -> AsyncIterator[tuple[int, list[Frame]]]:
    """A TCP relay in front of the centre that loses the first confirm of a report (not of
    a heartbeat) on its way back to the device; yields its port and what it lost."""
    dropped: list[Frame] = []
    reports: set[int] = set()

    async def serve(device_r: asyncio.StreamReader, device_w: asyncio.StreamWriter) -> None:
        centre_r, centre_w = await asyncio.open_connection("127.0.0.1", target)

        async def relay(r: asyncio.StreamReader, w: asyncio.StreamWriter, up: bool) -> None:
            frames = FrameReader()
            with contextlib.suppress(ConnectionError, OSError):
                while chunk := await r.read(4096):
                    for frame in frames.feed(chunk):
                        assert isinstance(frame, Frame), frame
                        if up and frame.command == 2 and frame.data[:1] == b"\x02":
                            reports.add(frame.serial)  # a component-state report
                        if not up and frame.command == 3 and frame.serial in reports \
                                and not dropped:
                            dropped.append(frame)
                            continue
                        w.write(frame.encode())
            w.close()

        await asyncio.gather(relay(device_r, centre_w, True), relay(centre_r, device_w, False))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], dropped


async def test_a_lost_confirm_makes_the_device_resend_and_the_centre_reports_once() -> None:
    sink = HealthSink()
    driver = site_driver()
    async with running(driver, sink) as port, losing_first_confirm(port) as (relay, dropped), \
            playing(site_config(confirm_timeout=0.3), relay) as device:
        await until(lambda: device.connected.is_set(), "the device connected")
        device.perform(Action("fire", {"panel": 2, "loop": 1, "point": 2}))
        await until(lambda: not device.outbox, "every report confirmed")
        assert len(dropped) == 1 and device.counts["resent"] >= 1
        assert dropped[0].serial in device.confirmed_serials
    assert driver.link("uitd-b").duplicates >= 1
    assert len(sink.found("panel-b", "zone_fire")) == 1


async def test_a_panel_nobody_configured_reports_on_its_transmission_device() -> None:
    sink = HealthSink()
    driver = site_driver()
    async with running(driver, sink) as port, playing(site_config(), port) as device:
        device.perform(Action("fire", {"panel": 3, "loop": 1, "point": 2}))
        await until(lambda: sink.found("uitd-b", "zone_fire"), "zone_fire on the device")
        (event,) = sink.found("uitd-b", "zone_fire")
        assert event.severity is Severity.CRITICAL
        assert (event.data["system_address"], event.data["loop"], event.data["point"]) == \
            (3, 1, 2)
        assert "zone" not in event.data


async def test_a_centre_that_restarts_reads_what_is_still_active() -> None:
    device: TransmissionDeviceSim | None = None
    try:
        async with running(site_driver(), HealthSink()) as port:
            device = TransmissionDeviceSim(site_config(), "127.0.0.1", port,
                                           reconnect_min=0.05, reconnect_max=0.2)
            await device.start()
            device.perform(Action("fire", {"panel": 2, "loop": 1, "point": 1}))
            device.perform(Action("device", {"flag": "main_power_fault"}))
            await until(lambda: not device.outbox, "reports confirmed")
        # A new centre knows nothing; the device redials and is read on connecting.
        later = HealthSink()
        async with running(site_driver(port), later):
            await until(lambda: later.found("panel-b", "fire_alarm"), "the fire read back")
            await until(lambda: later.found("uitd-b", "main_power_fault"), "the power fault")
        assert device.counts["answered"] >= 2 and device.counts["connections"] == 2
    finally:
        if device is not None:
            await device.stop()


async def test_a_clock_command_and_bare_heartbeats_are_understood() -> None:
    sink = HealthSink()
    driver = site_driver(sync_time=True, query_on_connect=False)
    async with running(driver, sink) as port, \
            playing(site_config(heartbeat=0.1, heartbeat_kind="empty"), port) as device:
        await until(lambda: device.counts["commands"] >= 1, "the clock set")
        await until(lambda: device.counts["heartbeats"] >= 3, "heartbeats")
        await until(lambda: len([o for o in sink.observations if o.device == "uitd-b"
                                 and o.outcome is Outcome.OK]) >= 3, "each heard")
        assert sink.state("uitd-b") == "online"
        assert device.counts["answered"] == 0
