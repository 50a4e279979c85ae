"""`create(settings, devices)` refuses bad links, addresses and profiles with the key and
the fix, before anything runs; the link lock serves healthy devices first."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from modbus_support import spec

from drivers.base import DriverConfigError
from drivers.modbus import create
from drivers.modbus.link import LinkLock
from drivers.modbus.settings import LinkSpec

LINKS: dict[str, Any] = {
    "bus1": {"type": "rtu", "port": "/dev/ttyUSB0", "baudrate": 9600, "parity": "N",
             "stopbits": 1, "timeout": "1s"},
    "gw2": {"type": "tcp", "host": "192.0.2.5", "port": 502, "timeout": "500ms"},
    "gw3": {"type": "rtu_over_tcp", "host": "192.0.2.6", "port": 4001},
}


def refused(settings: Any, devices: list[Any] | None = None) -> str:
    with pytest.raises(DriverConfigError) as caught:
        create(settings, devices or [spec("m1", "eastron_sdm120", "bus1/3")])
    return str(caught.value)


def test_the_example_config_is_accepted() -> None:
    driver = create({"links": LINKS, "reconnect_min": "0.5s", "reconnect_max": "30s"}, [
        spec("meter-b01-0101", "eastron_sdm120", "bus1/3", 60),
        spec("charger-north-1", "ebike_charger_10p", "gw2/1", 10),
        spec("fire-gw-b01", "fire_alarm_gateway", "gw2/2", 5),
        spec("meter-3p", "acrel_adw300", "gw3/7", 60)])
    assert sorted(driver.links) == ["bus1", "gw2", "gw3"]
    assert driver.links["gw2"].spec.timeout == 0.5
    assert [p.device.unit for p in driver.pollers.values()] == [3, 1, 2, 7]
    assert driver.settings.retry_max == 300.0


def test_links_are_required() -> None:
    assert "modbus setting 'links': list at least one serial line or TCP endpoint" in \
        refused({"links": {}})


def test_unknown_settings_and_link_keys_are_named() -> None:
    assert "unknown modbus driver setting(s) 'reconect_max'" in refused(
        {"links": LINKS, "reconect_max": 3})
    assert "modbus link 'gw2': unknown key(s) 'baudrate' for a tcp link" in refused(
        {"links": {**LINKS, "gw2": {**LINKS["gw2"], "baudrate": 9600}}})


def test_bad_serial_settings_are_named() -> None:
    assert "modbus link 'bus1': 'parity' must be one of N, E, O, got 'X'" in refused(
        {"links": {"bus1": {**LINKS["bus1"], "parity": "X"}}})
    assert "modbus setting 'links.bus1.timeout': expected a duration such as 1s" in refused(
        {"links": {"bus1": {**LINKS["bus1"], "timeout": "soon"}}})


def test_addresses_name_a_configured_link_and_a_valid_unit() -> None:
    assert "device m1: address 'bus9/3' names link 'bus9', which is not among the modbus " \
           "links (bus1, gw2, gw3)" in refused({"links": LINKS},
                                               [spec("m1", "eastron_sdm120", "bus9/3")])
    assert "device m1: address 'bus1/248': unit id 248 is out of range for a rtu link " \
           "(1..247; 0 is broadcast" in refused({"links": LINKS},
                                                [spec("m1", "eastron_sdm120", "bus1/248")])
    assert "must be LINK/UNIT, e.g. bus1/3" in refused(
        {"links": LINKS}, [spec("m1", "eastron_sdm120", "192.0.2.5:502")])


def test_two_devices_cannot_share_a_unit_on_one_link() -> None:
    assert "device m2: address bus1/3 is also used by device m1" in refused(
        {"links": LINKS}, [spec("m1", "eastron_sdm120", "bus1/3"),
                           spec("m2", "chint_ddsu666", "bus1/3")])


def test_an_unknown_profile_lists_the_known_ones() -> None:
    assert "device m1: unknown Modbus device profile 'sdm999'; known profiles: acrel_adw300" \
        in refused({"links": LINKS}, [spec("m1", "sdm999", "bus1/3")])


def test_a_broken_site_profile_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "my_meter.yaml").write_text("name: my_meter\npoints: []\n", encoding="utf-8")
    message = refused({"links": LINKS, "profile_dirs": [str(tmp_path)]},
                      [spec("m1", "my_meter", "bus1/3")])
    assert f"device m1: {tmp_path / 'my_meter.yaml'}: points: the profile lists no points" \
        in message


def test_serial_frame_gap_is_three_and_a_half_characters() -> None:
    assert LinkSpec("b", "rtu", baudrate=9600).frame_gap == pytest.approx(3.5 * 10 / 9600)
    assert LinkSpec("b", "rtu", baudrate=2400, parity="E").frame_gap == pytest.approx(
        3.5 * 11 / 2400)
    assert LinkSpec("b", "rtu", baudrate=115200).frame_gap == 0.00175
    assert LinkSpec("g", "tcp").frame_gap == 0.0


async def test_the_link_lock_serves_healthy_devices_before_silent_ones() -> None:
    lock = LinkLock()
    order: list[str] = []
    await lock.acquire()

    async def use(name: str, urgent: bool) -> None:
        await lock.acquire(urgent)
        order.append(name)
        lock.release()

    tasks = [asyncio.create_task(use("dead-a", False)), asyncio.create_task(use("live-1", True)),
             asyncio.create_task(use("dead-b", False)), asyncio.create_task(use("live-2", True))]
    await asyncio.sleep(0)
    assert lock.waiting == 4
    lock.release()
    await asyncio.gather(*tasks)
    assert order == ["live-1", "live-2", "dead-a", "dead-b"]


async def test_a_cancelled_waiter_does_not_keep_the_lock() -> None:
    lock = LinkLock()
    await lock.acquire()
    waiter = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    lock.release()
    await asyncio.wait_for(lock.acquire(), 1)
