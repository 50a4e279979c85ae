"""MQTT readings have limits like the Modbus ones: min / max, energy never below zero, and
counters that only grow; an out-of-range value is a rejected reading with its reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from driver_support import RecordingSink

from drivers.base import DeviceSpec, Outcome
from drivers.mqtt import create
from drivers.mqtt.counters import Counters
from drivers.mqtt.profile import ProfileError, parse_profile

T = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TOPIC = "scg-sim/lights/addr-1/status"


def status(n: int, **over: Any) -> bytes:
    doc: dict[str, Any] = {"ts": (T + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
                           "on": True, "dim": 80, "power_w": 72.4, "energy_kwh": 1234.5,
                           "faults": {"lamp": False, "gear": False, "relay": False}}
    doc.update(over)
    return json.dumps(doc).encode()


@pytest.fixture
def driver() -> Any:
    light = DeviceSpec("light-001", "mqtt", "street_light", "addr-1", timedelta(seconds=5))
    return create({"host": "127.0.0.1", "port": 1883}, [light])


def metrics(sink: RecordingSink) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for r in sink.readings():
        out.setdefault(r.metric, []).append(r.value)
    return out


def test_out_of_range_values_are_rejected_readings_with_their_reason(driver: Any) -> None:
    sink = RecordingSink()
    driver.handle(TOPIC, status(0, dim=150), sink)
    driver.handle(TOPIC, status(1, energy_kwh=-1), sink)
    driver.handle(TOPIC, status(2, power_w=-5.0), sink)
    assert [o.outcome for o in sink.observations] == [Outcome.DEGRADED] * 3
    assert [o.reason for o in sink.observations] == [
        "device light-001: field 'dim': expected a value in 0 .. 100 for dim_pct, got 150; "
        "the reading was rejected",
        "device light-001: field 'energy_kwh': expected a value of at least 0 for "
        "energy_kwh, got -1; the reading was rejected",
        "device light-001: field 'power_w': expected a value in 0 .. 100000 for power_w, got "
        "-5; the reading was rejected"]
    got = metrics(sink)
    assert got["dim_pct"] == [80.0, 80.0] and got["power_w"] == [72.4, 72.4]
    assert got["energy_kwh"] == [1234.5, 1234.5]


def test_a_counter_going_down_is_rejected_until_a_reset_is_confirmed(driver: Any) -> None:
    sink = RecordingSink()
    for n, energy in enumerate((1234.5, 1234.6, 12.0, 1234.7, 3.0, 3.1, 3.2, 3.3)):
        driver.handle(TOPIC, status(n, energy_kwh=energy), sink)
    # 12.0 is a glitch; 3.0, 3.1 wait for a third that agrees; 3.2 is taken as a reset.
    assert metrics(sink)["energy_kwh"] == [1234.5, 1234.6, 1234.7, 3.2, 3.3]
    outcomes = [o.outcome for o in sink.observations]
    assert outcomes == [Outcome.OK, Outcome.OK, Outcome.DEGRADED, Outcome.OK,
                        Outcome.DEGRADED, Outcome.DEGRADED, Outcome.OK, Outcome.OK]
    assert sink.observations[2].reason == (
        "device light-001: field 'energy_kwh': energy_kwh went down from 1234.6 to 12, and a "
        "counter only grows; the reading was rejected (a meter that was reset or replaced is "
        "believed after 3 messages in a row agree)")


def test_counters_are_kept_per_device_and_metric() -> None:
    counters = Counters(confirm=2)
    assert counters.check("a", "energy_kwh", 10.0) is None
    assert counters.check("b", "energy_kwh", 1.0) is None  # another device
    assert counters.check("a", "water_m3", 1.0) is None     # another metric
    assert counters.check("a", "energy_kwh", 9.0) is not None
    assert counters.check("a", "energy_kwh", 8.0) is not None  # lower again: starts over
    assert counters.check("a", "energy_kwh", 8.5) is None      # two in a row agree


def test_limits_in_a_profile_are_checked_at_load() -> None:
    doc = {"name": "meter", "topics": {"status": "m/{address}/status"},
           "readings": [{"field": "v", "metric": "v", "min": 10, "max": 5}]}
    with pytest.raises(ProfileError, match=r"readings\[0\]\.min: min 10 is above max 5"):
        parse_profile(doc, source="meter.yaml")
    doc["readings"] = [{"field": "on", "metric": "on", "type": "bool", "max": 1}]
    with pytest.raises(ProfileError, match=r"readings\[0\]\.max: a bool reading has no max"):
        parse_profile(doc, source="meter.yaml")
    doc["readings"] = [{"field": "e", "metric": "energy_kwh"}]
    assert parse_profile(doc, source="meter.yaml").readings[0].low == 0.0  # _kwh: >= 0
