"""Messages from devices become readings, edge-triggered events and health observations."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from driver_support import RecordingSink

from drivers.base import DeviceSpec, DriverConfigError, Observation, Outcome
from drivers.mqtt import create, load_profile
from drivers.mqtt.payload import decode_message
from telemetry import Event, Reading, Severity

T = datetime(2026, 11, 23, 8, 0, 0, 123000, tzinfo=UTC)
TS = "2026-11-23T08:00:00.123Z"


def light(n: int) -> DeviceSpec:
    return DeviceSpec(f"light-{n:03d}", "mqtt", "street_light", f"addr-{n}", timedelta(seconds=5))


def status(ts: str = TS, **over: Any) -> bytes:
    doc: dict[str, Any] = {"ts": ts, "on": True, "dim": 80, "power_w": 72.4,
                           "energy_kwh": 1234.567,
                           "faults": {"lamp": False, "gear": False, "relay": False}}
    faults = over.pop("faults", {})
    doc.update(over)
    doc["faults"].update(faults)
    return json.dumps(doc).encode()


def at(seconds: int) -> str:
    return (T + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.123Z")


TOPIC = "scg-sim/lights/addr-1/status"


@pytest.fixture
def driver_and_sink() -> tuple[Any, RecordingSink]:
    return create({"host": "127.0.0.1", "port": 1883}, [light(1), light(2)]), RecordingSink()


def test_status_becomes_four_readings_at_its_own_time(driver_and_sink: Any) -> None:
    driver, sink = driver_and_sink
    driver.handle(TOPIC, status(), sink)
    assert sink.items == [Reading("light-001", "on", T, 1.0),
                          Reading("light-001", "dim_pct", T, 80.0),
                          Reading("light-001", "power_w", T, 72.4),
                          Reading("light-001", "energy_kwh", T, 1234.567)]
    assert sink.observations == [Observation("light-001", Outcome.OK)]
    assert driver.subscriptions() == ["scg-sim/lights/+/status"]


def test_fault_events_fire_on_change_only(driver_and_sink: Any) -> None:
    driver, sink = driver_and_sink
    flags = [{"lamp": True}, {"lamp": True}, {"lamp": True, "gear": True},
             {"lamp": False, "gear": True}, {"lamp": False, "gear": True}]
    for i, faults in enumerate(flags):
        driver.handle(TOPIC, status(at(i), faults=faults), sink)
    assert [(e.type, e.active, e.time) for e in sink.events()] == [
        ("lamp_fault", True, T),
        ("gear_fault", True, T + timedelta(seconds=2)),
        ("lamp_fault", False, T + timedelta(seconds=3))]
    assert all(e.severity is Severity.ALARM and e.device == "light-001" for e in sink.events())


def test_first_message_with_no_fault_raises_no_event(driver_and_sink: Any) -> None:
    driver, sink = driver_and_sink
    driver.handle(TOPIC, status(), sink)
    assert sink.events() == []


@pytest.mark.parametrize(("payload", "field", "expected", "got"), [
    (b"garbage{", "payload", "a JSON object", "'garbage{' (not JSON)"),
    (b"[1, 2]", "payload", "a JSON object", "an array"),
    (status(ts="yesterday"), "'ts'", "an RFC 3339 time", "the string \"yesterday\""),
    (status(power_w="72W"), "'power_w'", "a number", "the string \"72W\""),
    (status(on=1), "'on'", "true or false", "the number 1"),
    (status(faults={"lamp": "yes"}), "'faults.lamp'", "true or false", "the string \"yes\""),
])
def test_malformed_message_degrades_the_device_with_a_reason(
        driver_and_sink: Any, payload: bytes, field: str, expected: str, got: str) -> None:
    driver, sink = driver_and_sink
    driver.handle(TOPIC, payload, sink)
    [obs] = sink.observations
    assert obs.device == "light-001" and obs.outcome is Outcome.DEGRADED
    assert obs.reason.startswith("device light-001: ")
    assert f"{field}: expected {expected}" in obs.reason and f"got {got}" in obs.reason
    assert driver.malformed == {"light-001": 1, "light-002": 0}


def test_missing_field_is_named(driver_and_sink: Any) -> None:
    driver, sink = driver_and_sink
    doc = json.loads(status())
    del doc["energy_kwh"]
    driver.handle(TOPIC, json.dumps(doc).encode(), sink)
    assert sink.observations[0].reason == (
        "device light-001: field 'energy_kwh': expected a number, got nothing (field absent)")
    # the good fields of the same message still count
    assert [r.metric for r in sink.readings()] == ["on", "dim_pct", "power_w"]


def test_bad_messages_are_logged_once_and_recovery_once(
        driver_and_sink: Any, caplog: pytest.LogCaptureFixture) -> None:
    driver, sink = driver_and_sink
    caplog.set_level(logging.INFO, logger="drivers.mqtt")
    for i in range(3):
        driver.handle(TOPIC, b"not json %d" % i, sink)
    driver.handle(TOPIC, status(at(10)), sink)
    driver.handle(TOPIC, b"not json again", sink)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 2 and "light-001" in warnings[0].getMessage()
    assert len(infos) == 1 and "good messages again (3 malformed" in infos[0].getMessage()
    assert driver.malformed["light-001"] == 4
    assert [o.outcome for o in sink.observations] == [Outcome.DEGRADED] * 3 + [
        Outcome.OK, Outcome.DEGRADED]
    assert [r.value for r in sink.readings() if r.metric == "power_w"] == [72.4]


def test_unknown_address_is_counted_and_logged_once(
        driver_and_sink: Any, caplog: pytest.LogCaptureFixture) -> None:
    driver, sink = driver_and_sink
    for _ in range(3):
        driver.handle("scg-sim/lights/stranger/status", status(), sink)
    driver.handle("scg-sim/lights/addr-2/status", status(), sink)
    assert driver.unknown == {"stranger": 3}
    assert len([r for r in caplog.records if "stranger" in r.getMessage()]) == 1
    assert {o.device for o in sink.observations} == {"light-002"}


def test_redelivered_message_is_dropped(driver_and_sink: Any) -> None:
    driver, sink = driver_and_sink
    driver.handle(TOPIC, status(), sink)
    driver.handle(TOPIC, status(), sink)
    assert len(sink.readings()) == 4 and driver.duplicates["light-001"] == 1


def test_momentary_and_valued_events_from_a_yaml_profile(tmp_path: Path) -> None:
    path = tmp_path / "sos_button.yaml"
    path.write_text("""\
name: sos_button
topics: {prefix: site/sos, status: "{prefix}/{address}/up"}
time: {field: t, format: epoch_ms}
readings:
  - {field: battery, metric: battery_pct, optional: true}
events:
  - {field: event, equals: press, kind: momentary, type: sos_pressed, severity: critical,
     data: {room: where.room}}
  - {field: cover, equals: [open, broken], type: tamper, severity: warning}
""")
    profile = load_profile(path)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    msg = {"t": 1767225600000, "event": "press", "cover": "open", "where": {"room": "3-201"}}
    out = decode_message(profile, "sos-1", json.dumps(msg).encode(), received=T)
    assert out.problems == [] and out.readings == []
    assert out.momentary == [Event("sos-1", "sos_pressed", Severity.CRITICAL, t, None,
                                   {"room": "3-201"})]
    assert [(c.rule.type, c.active) for c in out.conditions] == [("tamper", True)]
    out = decode_message(profile, "sos-1", b'{"t": 1767225600000, "event": "idle", '
                                           b'"cover": "closed", "battery": 87}', received=T)
    assert out.momentary == [] and [c.active for c in out.conditions] == [False]
    assert out.readings == [Reading("sos-1", "battery_pct", t, 87.0)]


@pytest.mark.parametrize(("settings", "devices", "message"), [
    ({"hots": "x"}, [light(1)], r"unknown mqtt driver setting\(s\) 'hots'; known: host, port"),
    ({"port": 70000}, [light(1)], r"setting 'port': 70000 is not a TCP port"),
    ({"port": "1883"}, [light(1)], r"setting 'port': expected int, got '1883'"),
    ({}, [DeviceSpec("x", "mqtt", "lamp", "x", timedelta(1))],
     r"device x: unknown MQTT device profile 'lamp'"),
    ({}, [light(1), DeviceSpec("y", "mqtt", "street_light", "addr-1", timedelta(1))],
     r"device y: address 'addr-1' is also used by device light-001"),
    ({}, [DeviceSpec("x", "mqtt", "street_light", "a/b", timedelta(1))],
     r"address 'a/b' must be one MQTT topic level"),
])
def test_create_refuses_bad_settings_and_devices(settings: dict[str, Any],
                                                 devices: list[DeviceSpec],
                                                 message: str) -> None:
    with pytest.raises(DriverConfigError, match=message):
        create(settings, devices)


def test_prefix_setting_moves_the_subscription() -> None:
    driver = create({"prefix": "site/a", "prefixes": {"street_light": "site/b"}}, [light(1)])
    assert driver.subscriptions() == ["site/b/+/status"]
    assert create({"prefix": "site/a"}, [light(1)]).subscriptions() == ["site/a/+/status"]
