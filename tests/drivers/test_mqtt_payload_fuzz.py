"""No device message can raise inside the MQTT driver: whatever the bytes (deep nesting,
integers of thousands of digits, lone surrogates, NaN, not JSON at all), the answer is one
observation, a rejected message with its reason, and the driver goes on."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from driver_support import RecordingSink
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.base import DeviceSpec, Outcome
from drivers.mqtt import create
from telemetry import codec

DEVICES = [DeviceSpec("light-001", "mqtt", "street_light", "addr-1", timedelta(seconds=5)),
           DeviceSpec("sos-001", "mqtt", "sos_button", "sos-1", timedelta(seconds=5)),
           DeviceSpec("fh-001", "mqtt", "fire_hazard_sensor", "fh-1", timedelta(seconds=5))]
TOPICS = ["scg-sim/lights/addr-1/status", "scg-sim/sos/sos-1/status",
          "scg-sim/sos/sos-1/event"]


def driver() -> Any:
    return create({"host": "127.0.0.1", "port": 1883}, DEVICES)


def fire_topic(drv: Any) -> str:
    return next(s for s in drv.subscriptions() if "+" in s and "sos" not in s
                and "lights" not in s).replace("+", "fh-1")


def check(drv: Any, topic: str, payload: bytes) -> None:
    """One message: exactly one observation, a reason when degraded, and every item it
    produced can be put on the wire."""
    sink = RecordingSink()
    drv.handle(topic, payload, sink)  # must not raise
    assert len(sink.observations) == 1
    seen = sink.observations[0]
    assert seen.outcome in (Outcome.OK, Outcome.DEGRADED)
    assert (seen.outcome is Outcome.OK) == (seen.reason == "")
    for item in sink.items:
        codec.encode_item(item)  # what the spool does with it: raises for NaN, surrogates


_json_leaf = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.integers(), st.text(),
    st.integers(min_value=10**300, max_value=10**400), st.just("\ud800"))
_json = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.sampled_from(["ts", "dim", "energy_kwh", "on",
                                                        "faults", "lamp", "battery_pct",
                                                        "event", "kind", "alarm", "value",
                                                        "power_w", "x"]), inner, max_size=6),
                     max_leaves=20)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=300), st.sampled_from(range(4)))
def test_arbitrary_bytes_are_a_rejected_message_never_an_exception(payload: bytes,
                                                                    where: int) -> None:
    drv = driver()
    topic = TOPICS[where] if where < len(TOPICS) else fire_topic(drv)
    check(drv, topic, payload)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_json, st.sampled_from(range(4)))
def test_arbitrary_json_documents_never_raise(doc: Any, where: int) -> None:
    drv = driver()
    topic = TOPICS[where] if where < len(TOPICS) else fire_topic(drv)
    text = json.dumps(doc, allow_nan=True)
    check(drv, topic, text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(("payload", "reason"), [
    (b"[" * 100_000, "device light-001: payload: expected a JSON object at most 32 levels "
                     "deep, got '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[...' (nested "
                     "deeper)"),
    (b'{"dim": ' + b"9" * 5000 + b"}", "device light-001: payload: expected a JSON object, "
                                       "got '{\"dim\": 99999999999999999999999999999999...' "
                                       "(not JSON that can be read: a number of more than 4300 "
                                       "digits)"),
    (b"\xc3(garbage", "device light-001: payload: expected a JSON object, got "
                      "'\ufffd(garbage' (not JSON: not UTF-8 text)"),
])
def test_hostile_payloads_are_rejected_with_their_reason(
        payload: bytes, reason: str, caplog: pytest.LogCaptureFixture) -> None:
    drv = driver()
    sink = RecordingSink()
    with caplog.at_level(logging.WARNING, logger="drivers.mqtt"):
        for n in range(3):  # not byte-identical, or they would be dropped as redeliveries
            drv.handle(TOPICS[0], payload + b" " * n, sink)
    assert sink.observations[0].reason == reason
    assert [o.outcome for o in sink.observations] == [Outcome.DEGRADED] * 3
    assert sink.items == []
    assert len(caplog.records) == 1  # once per device and condition, not per message


def test_a_huge_number_in_a_field_costs_that_field_only() -> None:
    drv = driver()
    sink = RecordingSink()
    big = "1" + "0" * 400  # parses, but no float can hold it
    drv.handle(TOPICS[0], ('{"ts": "2026-11-23T08:00:00Z", "on": true, "dim": ' + big
                           + ', "power_w": 1.5, "energy_kwh": 2, "faults": {"lamp": false, '
                           '"gear": false, "relay": false}}').encode(), sink)
    assert [r.metric for r in sink.readings()] == ["on", "power_w", "energy_kwh"]
    [seen] = sink.observations
    assert seen.outcome is Outcome.DEGRADED
    assert seen.reason.startswith("device light-001: field 'dim': expected a number, got the "
                                  "number 100000000000")


def test_an_alarm_keeps_going_out_when_its_data_cannot_travel() -> None:
    drv = driver()
    sink = RecordingSink()
    drv.handle(fire_topic(drv), b'{"ts": "2026-11-23T08:00:00Z", "kind": "hydrant", '
                                b'"alarm": true, "value": NaN}', sink)
    [event] = sink.events()
    assert (event.type, event.active, event.data) == ("hydrant_pressure_low", True, {})
    codec.encode_item(event)
    [seen] = sink.observations
    assert "field 'value' is nan; numbers must be finite" in seen.reason
    assert "left out of the hydrant_pressure_low event" in seen.reason
