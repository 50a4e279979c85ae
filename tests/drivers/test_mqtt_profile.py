"""Device profiles are data; a bad profile is refused naming the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.mqtt import ProfileError, load_profile, load_shipped
from drivers.mqtt.profile import EventRule, ReadingRule, TimeRule, shipped_profiles
from telemetry import Severity

GOOD = """\
name: door_sensor
topics:
  prefix: site/doors
  status: "{prefix}/{address}/state"
readings:
  - {field: battery, metric: battery_pct}
events:
  - {field: door, equals: open, type: door_open, severity: warning}
"""


def write(tmp_path: Path, text: str, name: str = "door_sensor") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_shipped_street_light_profile_maps_the_controller_status() -> None:
    p = load_shipped("street_light")
    assert "street_light" in shipped_profiles()
    assert p.status.subscription(p.prefix) == "scg-sim/lights/+/status"
    assert p.command is not None and p.command.topic("x", "light-001") == "x/light-001/set"
    assert p.time == TimeRule("ts", "rfc3339")
    assert p.readings == (ReadingRule("on", "on", "bool"),
                          ReadingRule("dim", "dim_pct", low=0.0, high=100.0),
                          ReadingRule("power_w", "power_w", low=0.0, high=100000.0),
                          ReadingRule("energy_kwh", "energy_kwh", low=0.0, counter=True))
    assert [(e.field, e.type, e.severity, e.kind) for e in p.events] == [
        ("faults.lamp", "lamp_fault", Severity.ALARM, "condition"),
        ("faults.gear", "gear_fault", Severity.ALARM, "condition"),
        ("faults.relay", "relay_fault", Severity.ALARM, "condition")]


def test_a_new_device_kind_is_a_yaml_file(tmp_path: Path) -> None:
    p = load_profile(write(tmp_path, GOOD))
    assert p.time is None and p.command is None
    assert p.events == (EventRule("door", "door_open", Severity.WARNING, equals=("open",)),)
    match = p.status.matcher("site/doors").match("site/doors/d-7/state")
    assert match is not None and match.group(1) == "d-7"


@pytest.mark.parametrize(("change", "message"), [
    (("  - {field: battery, metric: battery_pct}",
      "  - {field: battery, metirc: battery_pct}"),
     r"readings\[0\]: unknown key 'metirc'; allowed keys: counter, field, max, metric, min, "
     r"optional, scale, topic, "
     r"type, when"),
    (("  - {field: battery, metric: battery_pct}",
      "  - {field: battery, metric: battery_pct, type: float}"),
     r"readings\[0\]\.type: must be one of number, bool, got the string 'float'"),
    (("  - {field: battery, metric: battery_pct}",
      "  - {field: battery, metric: battery_pct}\n  - {field: bat2, metric: battery_pct}"),
     r"readings\[1\]\.metric: 'battery_pct' is already used by readings\[0\]"),
    (("  - {field: battery, metric: battery_pct}", "  - {field: battery}"),
     r"readings\[0\]: missing key 'metric'"),
    (("  - {field: battery, metric: battery_pct}", "  - {field: on, metric: on}"),
     r"readings\[0\]\.field: must be a string, got the boolean True; YAML reads unquoted "
     r"on/off"),
    (('  status: "{prefix}/{address}/state"', '  status: "{prefix}/state"'),
     r"topics\.status: .* must contain \{address\} exactly once"),
    (('  status: "{prefix}/{address}/state"', '  status: "{prefix}/dev-{address}"'),
     r"as a whole topic level"),
    (("severity: warning", "severity: loud"),
     r"events\[0\]\.severity: must be one of info, warning, alarm, critical"),
    (("name: door_sensor", "name: door"),
     r"name: 'door' differs from the file name 'door_sensor'"),
])
def test_bad_profile_is_refused_naming_file_key_and_fix(
        tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ProfileError, match=message) as info:
        load_profile(path)
    assert str(info.value).startswith(f"{path}: ")


def test_two_conditions_of_one_type_are_refused(tmp_path: Path) -> None:
    text = GOOD + "  - {field: lock, type: door_open, severity: alarm}\n"
    with pytest.raises(ProfileError, match=r"events\[1\]\.type: 'door_open' is already used"):
        load_profile(write(tmp_path, text))


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown MQTT device profile 'streetlight'; "
                                           r"known profiles: .*street_light"):
        load_shipped("streetlight")
