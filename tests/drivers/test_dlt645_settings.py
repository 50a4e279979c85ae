"""`drivers.dlt645.create` refuses bad settings, addresses and profiles at load, naming the
key or file and the fix; the shipped profiles load."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers.base import DeviceSpec, DriverConfigError
from drivers.dlt645 import create, load_profile, load_shipped
from drivers.dlt645.profile import ProfileError, shipped_profiles
from drivers.dlt645.settings import SerialLink, TcpLink

LINKS = {"bus2": {"type": "serial", "port": "/dev/ttyUSB1", "baudrate": 2400, "parity": "E",
                  "timeout": "2s"},
         "tgw": {"type": "tcp", "host": "192.0.2.7", "port": 8899, "timeout": "2s"}}


def meter(address: str = "tgw/000012345678", **kw: Any) -> DeviceSpec:
    fields: dict[str, Any] = {"id": "meter-b02-0101", "driver": "dlt645",
                              "profile": "dlt645_2007", "address": address,
                              "period": timedelta(minutes=15)}
    fields.update(kw)
    return DeviceSpec(**fields)


def test_the_field_brief_example_is_accepted() -> None:
    driver = create({"links": LINKS, "reconnect_min": "0.5s", "reconnect_max": "30s"},
                    [meter(), meter("bus2/000000000042", id="m2")])
    assert driver.settings.links["bus2"] == SerialLink("bus2", "/dev/ttyUSB1", 2400, 8, "E",
                                                       1, 2.0)
    assert driver.settings.links["tgw"] == TcpLink("tgw", "192.0.2.7", 8899, 2.0)
    assert [str(m.where) for m in driver.meters] == ["tgw/000012345678", "bus2/000000000042"]
    assert [r.metrics for r in driver.meters[0].profile.readings] == [
        ("energy_import_kwh",), ("voltage_v",), ("current_a",), ("power_w",)]


@pytest.mark.parametrize(("settings", "message"), [
    ({}, "dlt645 setting 'links': name at least one link"),
    ({"links": LINKS, "timeout": 2}, "unknown dlt645 setting(s) 'timeout'"),
    ({"links": {"x": {"type": "rtu", "port": "/dev/ttyS0"}}},
     "'links.x.type': expected serial or tcp, got 'rtu'"),
    ({"links": {"x": {"type": "serial", "port": "/dev/ttyS0", "parity": "X"}}},
     "'links.x.parity': expected N, E or O (DL/T 645 meters use E, even)"),
    ({"links": {"x": {"type": "serial", "port": "/dev/ttyS0", "baud": 2400}}},
     "unknown dlt645 setting(s) 'links.x.baud'"),
    ({"links": {"x": {"type": "tcp", "host": "h", "port": 70000}}},
     "'links.x.port': expected a whole number from 1 to 65535, got 70000"),
    ({"links": {"x": {"type": "tcp", "host": "h", "port": 1, "timeout": "soon"}}},
     "'links.x.timeout': expected a duration such as 2s"),
    ({"links": {"a/b": {"type": "tcp", "host": "h", "port": 1}}},
     "a link name is letters, digits, '_', '.' or '-' (no '/')"),
    ({"links": {"a": {"type": "tcp", "host": "h", "port": 1},
                "b": {"type": "tcp", "host": "h", "port": 1}}},
     "'links.b': h:1 is also link a"),
    ({"links": LINKS, "reconnect_min": 5, "reconnect_max": 1},
     "'reconnect_min': 5 s is more than reconnect_max (1 s)"),
])
def test_bad_settings_are_refused_naming_the_key(settings: dict[str, Any],
                                                 message: str) -> None:
    with pytest.raises(DriverConfigError) as caught:
        create(settings, [meter()])
    assert message in str(caught.value)


@pytest.mark.parametrize(("device", "message"), [
    (meter("000012345678"), "device meter-b02-0101: address '000012345678' must be LINK/ADDR"),
    (meter("bus9/000012345678"), "there is no link 'bus9'; configured links: bus2, tgw"),
    (meter("tgw/12345678"), "12 digits printed on the meter, e.g. bus2/000012345678 (pad "
                            "with leading zeros to 12 digits)"),
    (meter("tgw/999999999999"), "999999999999 is the broadcast address, not a meter"),
    (meter(profile="sdm120"), "unknown DL/T 645 meter profile 'sdm120'; known profiles: "
                              "dlt645_2007, dlt645_2007_3phase"),
    (meter(options={"password": "x"}), "unknown option(s) password for the dlt645 driver"),
    (meter(driver="modbus"), "driver is 'modbus', not 'dlt645'"),
])
def test_bad_meters_are_refused_naming_the_device(device: DeviceSpec, message: str) -> None:
    with pytest.raises(DriverConfigError) as caught:
        create({"links": LINKS}, [device])
    assert message in str(caught.value)


def test_two_meters_with_one_address_on_one_link_are_refused() -> None:
    with pytest.raises(DriverConfigError, match="address tgw/000012345678 is also used by "
                                                "device meter-b02-0101"):
        create({"links": LINKS}, [meter(), meter(id="other")])


def test_shipped_profiles_load_with_standard_formats() -> None:
    assert shipped_profiles() == ["dlt645_2007", "dlt645_2007_3phase"]
    three = load_shipped("dlt645_2007_3phase")
    power = three.readings[-1]
    assert power.metrics == ("power_w", "power_l1_w", "power_l2_w", "power_l3_w")
    assert (power.format.count, power.format.decimals, float(power.scale)) == (4, 4, 1000.0)
    assert three.readings[0].label == "00010000 (total forward active energy)"


@pytest.mark.parametrize(("text", "message"), [
    ("name: p\nreadings:\n  - {di: 00010000, metric: e}\n",
     "readings[0].di: must be 8 hex digits in quotes, e.g. \"00010000\"; got 4096 "
     "(unquoted, YAML reads 00010000 as the octal number 4096)"),
    ("name: p\nreadings:\n  - {di: \"04000B01\", metric: e}\n",
     "readings[0]: data identifier 04000B01 is not one the codec knows; add format:"),
    ("name: p\nreadings:\n  - {di: \"0201FF00\", metric: v}\n",
     "readings[0]: 0201FF00 carries 3 value(s) but 1 metric(s) are named"),
    ("name: p\nreadings:\n  - {di: \"00010000\", metric: e}\n  - {di: \"02010100\", metric: e}\n",
     "readings[1]: metric 'e' is already given by readings[0]"),
    ("name: p\nreadings:\n  - {di: \"00010000\", metric: e, scale: 0}\n",
     "readings[0].scale: must be a non-zero number"),
    ("name: q\nreadings:\n  - {di: \"00010000\", metric: e}\n",
     "name: 'q' differs from the file name 'p'"),
    ("name: p\nreadings:\n  - {di: \"00010000\", metric: e, unit: kWh}\n",
     "readings[0]: unknown key(s) unit"),
    ("name: p\nreadings: []\n", "readings: must be a non-empty list"),
])
def test_bad_profiles_are_refused_naming_file_and_key(tmp_path: Path, text: str,
                                                      message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_profile_may_read_an_identifier_the_codec_does_not_know(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nreadings:\n  - {di: \"04000B01\", metric: settle_day, "
                    "format: {size: 2, decimals: 0}}\n")
    rule = load_profile(path).readings[0]
    assert (rule.di, rule.format.size, rule.label) == (0x04000B01, 2, "04000B01")
