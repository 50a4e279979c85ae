"""Fire alarm coverage from panels heard through a GB 26875 transmission device: a building
whose panel is silent because its transmission device is offline is not covered, and
says it is the device; an unknown device (gateway gone) leaves the panel unknown."""

from __future__ import annotations

from datetime import UTC, datetime

from indicators import BuildingFact, EffectiveState, ZoneFact, fire_alarm_coverage
from indicators.field_load import transmission_devices

AS_OF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 23, 19, 58, tzinfo=UTC)
SILENT = ("transmission device uitd-1 (address 100000000001) has been silent for 3 s "
          "(heartbeat expected every 1 s)")
ONLINE = EffectiveState("online")
DEVICE_OFF = EffectiveState("offline", SINCE, SILENT)
PANEL_OFF = EffectiveState("offline", SINCE, f"panel panel-b reports through {SILENT}")


def gb_zone(panel: str, n: int, building: str, status: EffectiveState,
            device: EffectiveState, *conditions: str) -> ZoneFact:
    return ZoneFact(panel, n, building, True, status, tuple(conditions), via="uitd-1",
                    via_status=device)


BUILDINGS = [BuildingFact(b, "north") for b in ("A", "B", "C")]


def test_all_three_buildings_covered_while_the_device_and_its_panels_answer() -> None:
    zones = [gb_zone(f"panel-{b.lower()}", 1, b, ONLINE, ONLINE) for b in "ABC"]
    zones.append(gb_zone("panel-b", 2, "B", ONLINE, ONLINE, "zone_fire"))  # a fire: working
    r = fire_alarm_coverage(BUILDINGS, zones, AS_OF)
    assert (r.numerator, r.denominator) == (3, 3)
    assert r.numerator_devices == ("A", "B", "C")


def test_a_silent_transmission_device_takes_its_buildings_out_with_its_name() -> None:
    zones = [gb_zone(f"panel-{b.lower()}", 1, b, PANEL_OFF, DEVICE_OFF) for b in "ABC"]
    r = fire_alarm_coverage(BUILDINGS, zones, AS_OF)
    assert (r.numerator, r.denominator) == (0, 3)
    assert r.breakdown["transmission_device_not_online"] == ("A", "B", "C")
    assert r.breakdown["panel_not_online"] == ()
    assert r.details["buildings"]["B"]["failing"] == {
        "panel-b:1": f"panel panel-b offline: its transmission device uitd-1 is offline since "
                     f"{SINCE.isoformat()}: {SILENT}"}


def test_a_panel_off_its_line_while_the_device_answers_is_the_panel() -> None:
    cut = EffectiveState("offline", SINCE, "panel panel-b: transmission device uitd-1 "
                                           "reports its line to the panels is broken")
    zones = [gb_zone("panel-a", 1, "A", ONLINE, ONLINE), gb_zone("panel-b", 1, "B", cut,
                                                                  ONLINE)]
    r = fire_alarm_coverage(BUILDINGS[:2], zones, AS_OF)
    assert r.breakdown["panel_not_online"] == ("B",)
    assert r.breakdown["transmission_device_not_online"] == ()


def test_a_device_behind_an_offline_gateway_leaves_its_panels_unknown() -> None:
    gone = EffectiveState("unknown", SINCE, "gateway gw1 is offline (last will)")
    zones = [gb_zone("panel-a", 1, "A", gone, gone)]
    r = fire_alarm_coverage(BUILDINGS[:1], zones, AS_OF)
    assert r.breakdown["unknown"] == ("A",)
    assert r.breakdown["transmission_device_not_online"] == ()


def test_a_building_with_a_modbus_panel_offline_too_names_the_panel_first() -> None:
    modbus_off = ZoneFact("fire-a", 1, "A", True, EffectiveState("offline", SINCE, "no answer"))
    zones = [modbus_off, gb_zone("panel-a", 1, "A", PANEL_OFF, DEVICE_OFF)]
    r = fire_alarm_coverage(BUILDINGS[:1], zones, AS_OF)
    assert r.breakdown["panel_not_online"] == ("A",)
    assert set(r.details["buildings"]["A"]["failing"]) == {"fire-a:1", "panel-a:1"}


def test_panels_map_to_the_registered_transmission_device_they_name() -> None:
    rows = [
        {"id": "uitd-1", "kind": "fire_transmission_device", "protocol": "gb26875",
         "address": "100000000001"},
        {"id": "panel-a", "kind": "fire_panel", "protocol": "gb26875", "address": "uitd-1/1"},
        {"id": "panel-x", "kind": "fire_panel", "protocol": "gb26875", "address": "nobody/2"},
        {"id": "fire-b", "kind": "fire_panel", "protocol": "modbus", "address": "fire/1"},
        {"id": "plain", "kind": "fire_panel", "protocol": None, "address": None},
    ]
    assert transmission_devices(rows) == {"panel-a": "uitd-1"}
