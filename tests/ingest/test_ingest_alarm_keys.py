"""Which alarm an event belongs to: zone, port, and the system address of a GB 26875 panel
nobody configured, so two such panels' fires on one transmission device are two alarms
while every other device keeps the key it had."""

from __future__ import annotations

from ingest.alarms import alarm_key


def test_zone_and_port_keys_are_unchanged() -> None:
    assert alarm_key({"zone": 1, "loop": 1, "point": 3}) == "zone=1"
    assert alarm_key({"port": 4, "reason": "smoke"}) == "port=4"
    assert alarm_key({"value": 1.0}) == ""
    # a configured GB 26875 panel's own (system-level) conditions carry no address
    assert alarm_key({"device_time": "2026-11-24T14:00:00+08:00"}) == ""


def test_unconfigured_panels_on_one_transmission_device_are_told_apart() -> None:
    third = {"system_type": 1, "system_address": 3, "system": "火灾报警系统", "loop": 1,
             "point": 2}
    fourth = {**third, "system_address": 4}
    assert alarm_key(third) == "system_address=3"
    assert alarm_key(fourth) == "system_address=4"


def test_a_zone_wins_over_the_system_address() -> None:
    assert alarm_key({"zone": 2, "system_address": 3}) == "zone=2"
