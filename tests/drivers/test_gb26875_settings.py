"""The gb26875 settings, devices and profiles are checked at load: every mistake names the
key and the fix, before anything listens."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from gb26875_support import site_devices

from drivers.base import DeviceSpec, DriverConfigError
from drivers.gb26875 import ProfileError, create, find_profile, shipped_profiles
from drivers.gb26875.profile import parse_profile
from drivers.gb26875.settings import parse_settings
from gateway.build import build_drivers
from gateway.config import load_config
from gateway.registry import find_driver

EVERY = timedelta(seconds=30)
EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "edge" / \
    "gateway-gb26875.example.yaml"


def box(**changes: Any) -> DeviceSpec:
    values = {"id": "uitd", "driver": "gb26875", "profile": "transmission_device",
              "address": "100000000001", "period": EVERY, **changes}
    return DeviceSpec(**values)


def panel(address: str = "uitd/1", options: dict[str, Any] | None = None,
          **changes: Any) -> DeviceSpec:
    values = {"id": "panel", "driver": "gb26875", "profile": "fire_alarm_controller",
              "address": address, "period": EVERY, "options": options or {}, **changes}
    return DeviceSpec(**values)


def refused(devices: list[DeviceSpec], settings: dict[str, Any] | None = None) -> str:
    with pytest.raises(DriverConfigError) as caught:
        create(settings, devices)
    return str(caught.value)


def test_the_gateway_finds_the_driver_and_its_defaults() -> None:
    driver = find_driver("gb26875")(None, site_devices())  # type: ignore[arg-type]
    assert [d.id for d in driver.devices()] == ["uitd-b", "panel-a", "panel-b"]
    settings = parse_settings(None)
    assert (settings.host, settings.port, settings.centre_address) == ("0.0.0.0", 5200, 0)
    assert settings.tz.utcoffset(None) == timedelta(hours=8)
    assert (settings.query_on_connect, settings.sync_time) == (True, False)
    assert shipped_profiles() == ["fire_alarm_controller", "transmission_device"]


def test_the_example_gateway_config_builds_a_centre_for_three_devices() -> None:
    config = load_config(EXAMPLE)
    (driver,) = build_drivers(config).values()
    assert [d.id for d in driver.devices()] == ["uitd-north", "panel-north-a", "panel-north-b"]
    (panel_b,) = [p for b in driver.boxes for p in b.panels.values()  # type: ignore[attr-defined]
                  if p.id == "panel-north-b"]
    assert [panel_b.zone_of(2, p) for p in (1, 15, 16, 20, 21)] == [2, 2, 3, 3, None]


@pytest.mark.parametrize(("settings", "message"), [
    ({"listn": {}}, "unknown gb26875 setting(s) 'listn'; known: listen"),
    ({"listen": {"port": 70000}}, "'listen.port': expected a TCP port 1..65535"),
    ({"utc_offset": "UTC+8"}, "'utc_offset': expected a UTC offset such as +08:00"),
    ({"centre_address": "centre"}, "'centre_address': address 'centre' must be a number"),
    ({"idle_timeout": "soon"}, "'idle_timeout': expected a duration such as 5m"),
    ({"profile_dirs": ["/nonexistent/gb"]}, "/nonexistent/gb is not a folder"),
    ({"sync_time": "yes"}, "'sync_time': expected true or false, got 'yes'"),
])
def test_bad_settings_name_the_key_and_the_fix(settings: dict[str, Any], message: str) -> None:
    assert message in refused([box()], settings)


@pytest.mark.parametrize(("devices", "message"), [
    ([box(address="uitd-1")], "device uitd: address 'uitd-1' must be a number"),
    ([box(), box(id="other")], "device other: address 100000000001 is also device uitd"),
    ([box(options={"zones": []})], "a transmission device takes no options (got zones)"),
    ([box(), panel("1")], "address '1' must be DEVICE/SYSTEM_ADDRESS"),
    ([box(), panel("uitd-x/1")], "there is no transmission device 'uitd-x' in this config; "
                                 "gb26875 transmission devices: uitd"),
    ([box(), panel("uitd/300")], "the system address must be 0..255, e.g. uitd/1"),
    ([box(), panel(), panel(id="again")], "device again: system 1 (type 1) behind uitd is "
                                          "also device panel"),
    ([box(), panel(period=timedelta(seconds=5))], "period 5 s is shorter than the heartbeat "
                                                  "of uitd (30 s)"),
    ([box(), panel(options={"zone": []})], "unknown option(s) zone; a panel takes zones and "
                                           "detectors"),
    ([box(), panel(options={"zones": [{"zone": 1, "loop": 1}, {"zone": 2, "loop": 1}]})],
     "options.zones[1]: loop 1 is already zone 1"),
    ([box(), panel(options={"zones": [{"zone": 1, "loop": 1, "points": "1-10"},
                                      {"zone": 2, "loop": 1, "points": [10]}]})],
     "options.zones[1]: loop 1 point 10 is already in zone 1"),
    ([box(), panel(options={"zones": [{"zone": 1, "loop": 1, "points": "9-3"}]})],
     "points '9-3': ranges run low-high"),
    ([box(), panel(options={"detectors": [{"id": "d 1", "loop": 1, "point": 1}]})],
     "id 'd 1' must be the detector's inventory id"),
    ([box(), panel(profile="smoke_panel")], "unknown GB 26875 profile 'smoke_panel'; known "
                                            "profiles: fire_alarm_controller, "
                                            "transmission_device"),
    ([box(driver="modbus")], "device uitd: driver is 'modbus', not 'gb26875'"),
])
def test_bad_devices_name_the_device_and_the_fix(devices: list[DeviceSpec],
                                                  message: str) -> None:
    assert message in refused(devices)


def test_listed_points_win_over_their_whole_loop() -> None:
    driver = create({}, [box(), panel(options={"zones": [
        {"zone": 1, "loop": 1}, {"zone": 5, "loop": 1, "points": "30-32,40"}]})])
    (the_panel,) = driver.boxes[0].panels.values()
    assert [the_panel.zone_of(1, p) for p in (1, 30, 32, 33, 40)] == [1, 5, 5, 1, 5]
    assert the_panel.zone_of(2, 1) is None


def test_a_site_profile_can_pack_loop_and_point_its_own_way(tmp_path: Path) -> None:
    (tmp_path / "vendor_panel.yaml").write_text(
        "name: vendor_panel\nrole: system\nsystem_type: 1\n"
        "component_address: {loop: {byte: 1, size: 1}, point: {byte: 0, size: 1}}\n"
        "component_states:\n  fire_alarm: {event: zone_fire, severity: critical}\n")
    profile = find_profile("vendor_panel", [tmp_path])
    assert profile.split(0x0203) == (2, 3) and profile.join(2, 3) == 0x0203
    message = refused([box(), panel(profile="vendor_panel", options={
        "zones": [{"zone": 1, "loop": 300}]})], {"profile_dirs": [str(tmp_path)]})
    assert "loop must be a whole number 0..255, got 300" in message


@pytest.mark.parametrize(("doc", "message"), [
    ({"name": "p", "role": "panel"}, "role: must be system or transmission_device"),
    ({"name": "p", "role": "system", "system_type": 1, "component_states": {
        "smoke": {"event": "zone_fire", "severity": "critical"}}},
     "component_states.smoke: 'smoke' is not a flag of this field; flags: normal_operation, "
     "fire_alarm"),
    ({"name": "p", "role": "system", "system_type": 1, "component_states": {
        "fire_alarm": {"event": "zone_fire", "severity": "urgent"}}},
     "component_states.fire_alarm.severity: must be one of info, warning, alarm, critical"),
    ({"name": "p", "role": "system", "system_type": 1, "system_states": {
        "fault": {"event": "fault", "severity": "alarm", "clears": True}}},
     "only a momentary rule (an operation, or momentary: true) can clear"),
    ({"name": "p", "role": "system", "system_type": 1, "system_operations": {
        "reset": {"event": "reset", "severity": "info", "when": "clear"}}},
     "(an operation is always momentary)"),
    ({"name": "p", "role": "system", "system_type": 5}, "system_type: 5 is reserved"),
    ({"name": "p", "role": "system", "system_type": 1, "component_address": {
        "loop": {"byte": 1, "size": 2}, "point": {"byte": 0, "size": 2}}},
     "loop and point overlap"),
    ({"name": "p", "role": "transmission_device", "zones": []},
     "unknown key(s) zones for a transmission_device profile"),
])
def test_a_bad_profile_names_its_key_and_the_fix(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(doc, source="site/p.yaml")
    assert str(caught.value).startswith("site/p.yaml: ")
    assert message in str(caught.value)
