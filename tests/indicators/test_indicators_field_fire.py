"""Fire alarm coverage and fire-hazard detection as pure functions: zones that work, kinds
that are detected, exact counts and reasons."""

from __future__ import annotations

from datetime import UTC, datetime

from indicators import (
    BuildingFact,
    EffectiveState,
    HazardDeviceFact,
    ZoneFact,
    fire_alarm_coverage,
    fire_hazard_compounds,
)

AS_OF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
SINCE = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
STATES = {
    "p-on": EffectiveState("online"),
    "p-deg": EffectiveState("degraded", reason="zone register 40012 out of range"),
    "p-off": EffectiveState("offline", SINCE, "no answer to 3 polls"),
    "p-unk": EffectiveState("unknown", None, "no state reported yet by gateway g1"),
    "p-plain": EffectiveState("unmonitored"),
}


def zone(panel: str, n: int, building: str, *conditions: str,
         public: bool = True) -> ZoneFact:
    return ZoneFact(panel, n, building, public, STATES[panel], tuple(conditions))


BUILDINGS = [BuildingFact(f"b{i:02d}", "north") for i in range(1, 10)] + [
    BuildingFact("shop", "north", residential=False)]
ZONES = [
    zone("p-on", 1, "b01"), zone("p-on", 2, "b01"), zone("p-on", 3, "b01", public=False),
    zone("p-on", 4, "b02", "zone_fire"), zone("p-on", 5, "b02", "zone_supervisory"),
    zone("p-deg", 1, "b03"),                                   # degraded panel: counts
    zone("p-off", 1, "b04"),                                   # panel offline
    zone("p-on", 6, "b05"), zone("p-on", 7, "b05", "zone_disabled"),
    zone("p-on", 8, "b06", "zone_fault"),
    zone("p-unk", 1, "b07"),                                   # gateway never reported
    zone("p-on", 9, "b08", public=False),                      # only a private zone
    zone("p-plain", 1, "b09"), zone("p-unk", 2, "b09"),         # no protocol + unknown
    zone("p-on", 10, "shop"),
]


def test_buildings_are_covered_only_when_every_public_zone_works() -> None:
    r = fire_alarm_coverage(BUILDINGS, ZONES, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (3, 9, 33.3)
    assert r.numerator_devices == ("b01", "b02", "b03")
    assert r.status == {"basic": "fail", "growth": "fail"}
    assert r.breakdown == {
        "no_public_zone": ("b08",), "panel_not_online": ("b04", "b09"),
        "transmission_device_not_online": (), "zone_disabled": ("b05",),
        "zone_fault": ("b06",), "unknown": ("b07",),
        "not_residential": ("shop",)}
    assert r.details["degraded_panels_counted"] == ["p-deg"]


def test_details_say_which_zone_fails_and_why() -> None:
    r = fire_alarm_coverage(BUILDINGS, ZONES, AS_OF)
    buildings = r.details["buildings"]
    assert buildings["b01"] == {"zones": ["p-on:1", "p-on:2"], "failing": {}}
    assert buildings["b04"]["failing"] == {
        "p-off:1": f"panel p-off offline since {SINCE.isoformat()}: no answer to 3 polls"}
    assert buildings["b05"] == {"zones": ["p-on:6", "p-on:7"],
                                "failing": {"p-on:7": "zone_disabled open"}}
    assert buildings["b09"]["failing"] == {
        "p-plain:1": "panel p-plain unmonitored",
        "p-unk:2": "panel p-unk unknown: no state reported yet by gateway g1"}


def test_every_residential_building_covered_passes_both_tiers() -> None:
    r = fire_alarm_coverage([BuildingFact("b01"), BuildingFact("b02")],
                            [zone("p-on", 1, "b01"), zone("p-on", 2, "b02", "zone_fire")],
                            AS_OF)
    assert (r.numerator, r.denominator) == (2, 2)
    assert r.status == {"basic": "pass", "growth": "pass"}


HAZARD_STATES = {"on": EffectiveState("online"), "off": EffectiveState("offline"),
                 "unk": EffectiveState("unknown")}


def detector(id_: str, compound: str | None, *hazards: str, state: str = "on",
             kind: str = "fire_hazard_sensor") -> HazardDeviceFact:
    return HazardDeviceFact(id_, kind, compound, hazards, HAZARD_STATES[state])


ALL_KINDS = ("fire_lane", "hydrant", "fire_door", "electrical")


def test_compounds_need_an_answering_detector_for_each_of_the_four_kinds() -> None:
    devices = [
        detector("panel-a", "a", "hydrant", "fire_door", "electrical", kind="fire_panel"),
        detector("lane-a", "a", "fire_lane"),
        detector("all-b", "b", *ALL_KINDS),
        # c is missing one kind: no fire-lane detection
        detector("panel-c", "c", "hydrant", "fire_door", "electrical", kind="fire_panel"),
        # d: its only fire-lane sensor is offline, the door sensor's gateway is gone
        detector("panel-d", "d", "hydrant", "electrical", kind="fire_panel"),
        detector("lane-d", "d", "fire_lane", state="off"),
        detector("door-d", "d", "fire_door", state="unk"),
        detector("stray", None, "fire_lane"),
    ]
    r = fire_hazard_compounds(["a", "b", "c", "d", "e"], devices, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (2, 5, 40.0)
    assert r.numerator_devices == ("a", "b")
    assert r.status == {"basic": "not_required", "growth": "fail"}
    assert r.breakdown == {"no_fire_lane": ("c", "d", "e"), "no_hydrant": ("e",),
                           "no_fire_door": ("d", "e"), "no_electrical": ("e",)}
    assert r.details["compounds"]["c"] == {
        "detectors": {"fire_lane": [], "hydrant": ["panel-c"], "fire_door": ["panel-c"],
                      "electrical": ["panel-c"]},
        "missing": ["fire_lane"], "not_online": {}}
    assert r.details["compounds"]["d"]["not_online"] == {"fire_lane": ["lane-d offline"],
                                                         "fire_door": ["door-d unknown"]}
    assert r.details["unassigned_devices"] == ["stray"]


def test_four_of_five_compounds_pass_growth_at_80_percent() -> None:
    devices = [detector(f"all-{c}", c, *ALL_KINDS) for c in "abcd"]
    r = fire_hazard_compounds(list("abcde"), devices, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (4, 5, 80.0)
    assert r.status["growth"] == "pass"


def test_no_compounds_is_no_data() -> None:
    r = fire_hazard_compounds([], [], AS_OF)
    assert (r.denominator, r.status["growth"]) == (0, "no_data")
