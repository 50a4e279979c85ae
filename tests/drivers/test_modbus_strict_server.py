"""The Modbus driver against pymodbus's own server holding only the registers the meters'
public maps list (independent of simulators/modbus): every point of the five meter
profiles is read; a request refused with exception 02 is split down to single points, the
plan the device answers is kept, and the points it lacks are named once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from modbus_support import TimedSink, eventually, make_driver, running, spec
from strict_modbus import METERS, sdm630, strict_server

from drivers.base import Outcome
from drivers.modbus.profile import PROFILES_DIR

pytestmark = pytest.mark.integration

LINK = "drivers.modbus"


def link(port: int) -> dict[str, object]:
    return {"type": "tcp", "host": "127.0.0.1", "port": port, "timeout": 0.5}


async def test_every_point_of_the_five_meters_is_read_from_a_strict_server(
        caplog: pytest.LogCaptureFixture) -> None:
    profiles = sorted(METERS)
    meters = {unit: METERS[name]() for unit, name in enumerate(profiles, 1)}
    async with strict_server(meters) as port:
        driver = make_driver({"gw": link(port)},
                             [spec(name, name, f"gw/{unit}")
                              for unit, name in enumerate(profiles, 1)])
        sink = TimedSink()
        with caplog.at_level(logging.INFO, logger=LINK):
            async with running(driver, sink):
                await eventually(lambda: all(len(sink.ok_times(n)) >= 3 for n in profiles),
                                 "three good polls of each meter")
    readings = 0
    for unit, name in enumerate(profiles, 1):
        assert sink.latest(name) == meters[unit].expected, name
        assert {o.outcome for o in sink.observations if o.device == name} == {Outcome.OK}
        assert driver.missing_points(name) == []
        readings += len(meters[unit].expected)
    assert readings == 57  # the 56 of the field report, plus the DDSU666 export energy
    assert "does not have" not in caplog.text


async def test_a_refused_block_is_split_and_the_working_plan_is_kept(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # The SDM630 profile as it was: one request across 0x002C and 0x0032, which no public
    # map lists; a strict meter refuses it whole.
    doc = yaml.safe_load((PROFILES_DIR / "eastron_sdm630.yaml").read_text())
    doc.update(name="sdm630_wide", max_gap=30)
    (tmp_path / "sdm630_wide.yaml").write_text(yaml.safe_dump(doc))
    meter = sdm630()
    async with strict_server({1: meter}) as port:
        driver = make_driver({"gw": link(port)}, [spec("m1", "sdm630_wide", "gw/1")],
                             profile_dirs=[str(tmp_path)])
        poller = driver.pollers["m1"]
        assert [(b.address, b.count) for b in poller.plan.planned] == [(0, 0x36), (0x46, 6)]
        sink = TimedSink()
        with caplog.at_level(logging.INFO, logger=LINK):
            async with running(driver, sink):
                await eventually(lambda: len(sink.ok_times("m1")) >= 1, "a first good poll")
                after_first = driver.links["gw"].requests
                await eventually(lambda: len(sink.ok_times("m1")) >= 4, "three more polls")
                per_poll = (driver.links["gw"].requests - after_first) / (
                    len(sink.ok_times("m1")) - 1)
    # The first poll already reads everything: nothing is lost while the plan is learned.
    first = [r for r in sink.readings() if r.time == sink.readings()[0].time]
    assert {r.metric: r.value for r in first} == meter.expected
    assert sink.latest("m1") == meter.expected
    assert {o.outcome for o in sink.observations} == {Outcome.OK}
    # Learned once: the refused request is never sent again.
    learned = [(b.address, b.count) for b in poller.blocks]
    assert learned == [(0x00, 0x12), (0x2A, 2), (0x2E, 2), (0x34, 2), (0x46, 6)]
    assert per_poll == len(learned)
    assert poller.missing == ()
    assert "does not have" not in caplog.text


async def test_points_the_device_does_not_have_are_named_once_with_their_addresses(
        caplog: pytest.LogCaptureFixture) -> None:
    # An SDM630 whose firmware lacks frequency and export energy (not in its table).
    meter = sdm630().without([0x0046, 0x004A])
    expected = {k: v for k, v in meter.expected.items()
                if k not in ("frequency_hz", "energy_export_kwh")}
    async with strict_server({1: meter, 2: sdm630()}) as port:
        driver = make_driver({"gw": link(port)}, [spec("m1", "eastron_sdm630", "gw/1"),
                                                  spec("m2", "eastron_sdm630", "gw/2")])
        sink = TimedSink()
        with caplog.at_level(logging.INFO, logger=LINK):
            async with running(driver, sink):
                await eventually(lambda: len(sink.ok_times("m1")) >= 5, "five polls")
    assert sink.latest("m1") == expected
    assert sink.latest("m2") == sdm630().expected
    assert {o.outcome for o in sink.observations} == {Outcome.OK}
    missing = ["input register 0x0046 (f32, frequency_hz)",
               "input register 0x004A (f32, energy_export_kwh)"]
    assert driver.missing_points("m1") == missing
    assert driver.missing_points("m2") == []
    named = [r.getMessage() for r in caplog.records if "does not have" in r.getMessage()]
    assert named == [
        "device m1 (unit 1 on link gw), profile eastron_sdm630: the device does not have "
        f"{', '.join(missing)} (it answers exception 02 ILLEGAL DATA ADDRESS); reading its "
        "other points without them, in 5 requests (tried again after a reconnect, after it "
        "was silent, or in 24 h; logged once until this changes)"]
    assert [r.levelno for r in caplog.records if "does not have" in r.getMessage()] == [
        logging.WARNING]


async def test_a_reconnect_tries_the_profile_again_and_a_firmware_update_is_noticed(
        caplog: pytest.LogCaptureFixture) -> None:
    old = sdm630().without([0x0046])
    async with strict_server({1: old}) as port:
        driver = make_driver({"gw": link(port)}, [spec("m1", "eastron_sdm630", "gw/1")])
        sink = TimedSink()
        with caplog.at_level(logging.INFO, logger=LINK):
            async with running(driver, sink):
                await eventually(lambda: driver.missing_points("m1"), "the gap found")
                assert len(driver.pollers["m1"].blocks) == 5
                # Same firmware after a reconnect: probed again, nothing new to say.
                link_ = driver.links["gw"]
                link_._lose("test: the far end was power-cycled")
                await eventually(lambda: link_.connects >= 2, "reconnected")
                polls = len(sink.ok_times("m1"))
                await eventually(lambda: len(sink.ok_times("m1")) >= polls + 2, "two polls")
    assert sum("does not have" in r.getMessage() for r in caplog.records) == 1
    # New firmware (the register is there now), seen on the next re-probe.
    async with strict_server({1: sdm630()}) as port:
        driver2 = make_driver({"gw": link(port)}, [spec("m1", "eastron_sdm630", "gw/1")])
        poller = driver2.pollers["m1"]
        poller.plan = driver.pollers["m1"].plan  # the plan learned on the old firmware
        poller.suspect = True  # it was silent (rebooted for the update): re-probe
        sink2 = TimedSink()
        with caplog.at_level(logging.INFO, logger=LINK):
            async with running(driver2, sink2):
                await eventually(lambda: len(sink2.ok_times("m1")) >= 2, "two polls")
    assert driver2.missing_points("m1") == []
    assert sink2.latest("m1") == sdm630().expected
    assert any("now answers every point of its profile" in r.getMessage()
               for r in caplog.records)


async def test_a_profile_the_device_does_not_have_at_all_is_degraded() -> None:
    # DDSU666 registers asked with function 03 of a meter that has them as input registers
    # (the profile's old mistake): every point is refused.
    doc = yaml.safe_load((PROFILES_DIR / "chint_ddsu666.yaml").read_text())
    assert doc["function"] == 4
    meter = METERS["chint_ddsu666"]()
    wrong = type(meter)("hr", {0x9000: [0]}, meter.expected)
    async with strict_server({3: wrong}) as port:
        driver = make_driver({"gw": link(port)}, [spec("d", "chint_ddsu666", "gw/3")])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.last("d") is not None, "a poll")
    last = sink.last("d")
    assert last is not None and last.outcome is Outcome.DEGRADED
    assert "the device has none of the profile's points" in last.reason
    assert len(driver.missing_points("d")) == 6
