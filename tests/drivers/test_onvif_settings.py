"""The onvif driver's settings and camera entries are validated at load, with the fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers.base import DeviceSpec, DriverConfigError
from drivers.onvif import Checks, OnvifDriver, create
from drivers.onvif.settings import parse_address


def cam(id_: str = "cam-001", address: str = "127.0.0.1:8081", *, driver: str = "onvif",
        profile: str = "onvif_profile_s", period: float = 60.0,
        options: dict[str, Any] | None = None) -> DeviceSpec:
    return DeviceSpec(id_, driver, profile, address, timedelta(seconds=period),
                      {"username": "admin", "password": "admin123"} if options is None
                      else options)


def test_defaults_match_the_camera_brief() -> None:
    driver = create(None, [cam()])
    assert isinstance(driver, OnvifDriver)
    s = driver.settings
    assert (s.concurrency, s.timeout, s.events) == (16, 10.0, True)
    assert s.checks == Checks(black_below=30, white_above=225, blank_std_below=5)
    assert driver.name == "onvif"
    assert [d.id for d in driver.devices()] == ["cam-001"]


def test_settings_take_durations_and_thresholds() -> None:
    driver = create({"concurrency": 4, "timeout": "1500ms", "pull_timeout": "5s",
                     "subscription_time": "2m", "events": False,
                     "checks": {"black_below": 20, "blank_std_below": 3.5}}, [cam()])
    s = driver.settings
    assert (s.concurrency, s.timeout, s.pull_timeout, s.subscription_time) == (4, 1.5, 5, 120)
    assert s.checks == Checks(black_below=20, white_above=225, blank_std_below=3.5)
    assert s.events is False


@pytest.mark.parametrize(("settings", "words"), [
    ({"concurency": 4}, ["unknown onvif driver setting", "'concurency'", "concurrency"]),
    ({"concurrency": 0}, ["'concurrency'", "at least 1", "0"]),
    ({"concurrency": True}, ["'concurrency'"]),
    ({"timeout": "ten seconds"}, ["'timeout'", "10s", "'ten seconds'"]),
    ({"timeout": 0}, ["'timeout'", "longer than zero"]),
    ({"events": "yes"}, ["'events'", "true or false"]),
    ({"checks": {"black": 10}}, ["checks.black", "black_below"]),
    ({"checks": {"black_below": 300}}, ["checks.black_below", "0 and 255", "300"]),
    ({"checks": {"black_below": 200, "white_above": 100}}, ["black_below", "white_above"]),
    ({"checks": [30]}, ["'checks'", "mapping"]),
    ({"pull_timeout": "5m", "subscription_time": "1m"}, ["subscription_time", "pull_timeout"]),
    (["concurrency"], ["mapping"]),
])
def test_bad_settings_name_the_key_and_the_fix(settings: Any, words: list[str]) -> None:
    with pytest.raises(DriverConfigError) as err:
        create(settings, [cam()])
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize(("address", "url", "host", "port"), [
    ("127.0.0.1:8081", "http://127.0.0.1:8081/onvif/device_service", "127.0.0.1", 8081),
    ("http://10.0.0.5/onvif/device_service", "http://10.0.0.5:80/onvif/device_service",
     "10.0.0.5", 80),
    ("https://cam.example:8443/onvif/device_service",
     "https://cam.example:8443/onvif/device_service", "cam.example", 8443),
    ("http://10.0.0.5:8000/onvif/Device", "http://10.0.0.5:8000/onvif/Device", "10.0.0.5",
     8000),
    ("http://[fe80::1]:80/onvif/device_service", "http://[fe80::1]:80/onvif/device_service",
     "fe80::1", 80),
])
def test_addresses_become_device_service_urls(address: str, url: str, host: str,
                                              port: int) -> None:
    parsed = parse_address(address)
    assert (parsed.url, parsed.host, parsed.port) == (url, host, port)


@pytest.mark.parametrize(("device", "words"), [
    (cam(driver="mqtt"), ["cam-001", "'mqtt'", "not 'onvif'"]),
    (cam(profile="street_light"), ["cam-001", "'street_light'", "onvif_profile_s"]),
    (cam(address="rtsp://10.0.0.5/stream"), ["cam-001", "'rtsp'", "http or https"]),
    (cam(address="http://admin:pw@10.0.0.5/onvif/device_service"),
     ["cam-001", "credentials", "options username/password"]),
    (cam(address="10.0.0.5:99999"), ["cam-001", "10.0.0.5:99999"]),
    (cam(address=""), ["cam-001", "empty"]),
    (cam(options={"user": "admin"}), ["cam-001", "unknown option", "user", "username"]),
    (cam(options={"password": "x"}), ["cam-001", "options.username missing", "admin"]),
    (cam(options={}), ["cam-001", "options.username and password missing"]),
    (cam(options={"username": "admin"}), ["cam-001", "options.password missing"]),
    (cam(options={"username": "", "password": "x"}), ["cam-001", "username is empty"]),
    (cam(options={"username": ["a"], "password": "x"}), ["cam-001", "username", "text"]),
])
def test_bad_cameras_name_the_device_and_the_fix(device: DeviceSpec, words: list[str]) -> None:
    with pytest.raises(DriverConfigError) as err:
        create({}, [device])
    for word in words:
        assert word in str(err.value)


def test_two_cameras_may_not_share_an_address() -> None:
    with pytest.raises(DriverConfigError, match=r"cam-002.*also used by device cam-001"):
        create({}, [cam("cam-001", "127.0.0.1:8081"),
                    cam("cam-002", "http://127.0.0.1:8081/onvif/device_service")])


def test_numeric_passwords_from_yaml_become_text() -> None:
    driver = create({}, [cam(options={"username": "admin", "password": 123456})])
    assert (driver.cameras[0].username, driver.cameras[0].password) == ("admin", "123456")


def test_the_gateway_finds_the_driver_by_name() -> None:
    from gateway.registry import find_driver

    factory = find_driver("onvif")
    driver = factory({"timeout": "2s"}, [cam()])
    assert isinstance(driver, OnvifDriver) and driver.settings.timeout == 2.0


def secret_file(folder: Path, text: str = "s3cret-Pa55\n", mode: int = 0o600) -> Path:
    path = folder / "cam.password"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_password_file_keeps_the_password_out_of_the_config(tmp_path: Path) -> None:
    shared = secret_file(tmp_path)
    driver = create({}, [cam("cam-001", "127.0.0.1:8081",
                             options={"username": "admin", "password_file": str(shared)}),
                         cam("cam-002", "127.0.0.1:8082",
                             options={"username": "op", "password_file": str(shared)})])
    assert [(c.username, c.password) for c in driver.cameras] == [
        ("admin", "s3cret-Pa55"), ("op", "s3cret-Pa55")]


def test_a_bad_password_file_names_the_camera_the_file_and_the_fix(tmp_path: Path) -> None:
    def refusal(options: dict[str, Any]) -> str:
        with pytest.raises(DriverConfigError) as err:
            create({}, [cam(options={"username": "admin", **options})])
        return str(err.value)

    good = secret_file(tmp_path)
    assert refusal({"password_file": "cam.password"}) == (
        "device cam-001: options.password_file 'cam.password' is relative; give an absolute "
        "path such as /etc/scg/cameras/cam-001.password")
    assert refusal({"password_file": str(good), "password": "x"}).startswith(
        "device cam-001: options.password and options.password_file are both set")
    missing = tmp_path / "none.password"
    assert refusal({"password_file": str(missing)}) == (
        f"device cam-001: options.password_file {str(missing)!r} cannot be read: No such "
        "file or directory; check the path and that the gateway's user may read it")
    good.chmod(0o644)
    assert refusal({"password_file": str(good)}) == (
        f"device cam-001: options.password_file {str(good)!r} may be read by others (mode "
        f"0644); run `chmod 600 {good}`, or the camera's password is as good as in the "
        "config")
    two_lines = secret_file(tmp_path, "a\nb\n")
    assert refusal({"password_file": str(two_lines)}).endswith(
        "must hold the password on one line, got several lines")
