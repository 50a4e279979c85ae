"""The safety evaluators as pure functions: watched floor ranges, tiers with their own
denominators, elevators per compound, gates per subject, SOS responses at the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from indicators import (
    BuildingFact,
    CompoundFact,
    DetectorAlarm,
    EbikeDetectorFact,
    EffectiveState,
    ElevatorFact,
    LockoutFact,
    SiteDeviceFact,
    SosDeviceFact,
    SosPress,
    ThrowCameraFact,
    access_control_compounds,
    ebike_elevator_compounds,
    elderly_sos_coverage,
    elderly_sos_response_rate,
    highrise_throw_coverage,
)
from indicators.throw import unwatched

AS_OF = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ON = EffectiveState("online")
DEGRADED = EffectiveState("degraded", reason="bad payload")
OFF = EffectiveState("offline", reason="silent for 3 periods")
UNKNOWN = EffectiveState("unknown", reason="gateway g2 is offline")


def test_unwatched_floors_are_the_runs_from_3_to_the_top_no_range_covers() -> None:
    assert unwatched(26, [(3, 14), (12, 26)]) == []
    assert unwatched(26, [(1, 26)]) == []
    assert unwatched(20, [(4, 20)]) == [(3, 3)]
    assert unwatched(30, [(3, 10), (15, 18), (25, 40)]) == [(11, 14), (19, 24)]
    assert unwatched(12, []) == [(3, 12)]
    assert unwatched(12, [None, (30, 40)]) == [(3, 12)]


def test_a_building_of_12_to_18_floors_counts_for_growth_only_and_below_12_for_neither(
        ) -> None:
    buildings = [BuildingFact("b19", floors=19), BuildingFact("b12", floors=12),
                 BuildingFact("b11", floors=11), BuildingFact("bx", floors=None),
                 BuildingFact("office", floors=40, residential=False)]
    cameras = [ThrowCameraFact("c19", "b19", (3, 19), ON),
               ThrowCameraFact("c12", "b12", (2, 12), DEGRADED),
               ThrowCameraFact("c11", "b11", (3, 11), ON)]
    r = highrise_throw_coverage(buildings, cameras, AS_OF)
    # The top-level figure is the growth tier's (the highest tier requiring the row).
    assert (r.numerator, r.denominator, r.value) == (2, 2, 100.0)
    assert (r.tiers["basic"].numerator, r.tiers["basic"].denominator) == (1, 1)
    assert r.tiers["growth"].denominator_devices == ("b12", "b19")
    assert r.status == {"basic": "pass", "growth": "pass"}
    assert r.tiers["basic"].breakdown["below_threshold"] == ("b11", "b12")
    assert r.tiers["growth"].breakdown["below_threshold"] == ("b11",)
    assert r.tiers["growth"].breakdown["floors_unregistered"] == ("bx",)
    assert r.details["unregistered"] == {"attribute": "floors", "objects": "buildings",
                                         "ids": ["bx"]}
    out = r.to_dict()
    assert out["tiers"]["growth"]["denominator"] == 2
    assert out["tiers"]["growth"]["value"] == 100.0


def test_throw_reasons_tell_missing_floors_from_offline_and_unknown_cameras() -> None:
    buildings = [BuildingFact(b, floors=20) for b in ("gap", "off", "unk", "none")]
    cameras = [ThrowCameraFact("g1", "gap", (4, 20), ON),
               ThrowCameraFact("o1", "off", (3, 10), ON),
               ThrowCameraFact("o2", "off", (11, 20), OFF),
               ThrowCameraFact("u1", "unk", (3, 20), UNKNOWN),
               ThrowCameraFact("u2", "unk", (3, 5), OFF)]
    r = highrise_throw_coverage(buildings, cameras, AS_OF)
    assert (r.numerator, r.denominator) == (0, 4)
    assert {k: v for k, v in r.breakdown.items() if v} == {
        "no_camera": ("none",), "floors_not_covered": ("gap",), "not_online": ("off",),
        "unknown": ("unk",)}
    assert r.details["buildings"]["off"]["why"] == (
        "floors 11-20 are not watched by an answering camera (not answering: o2 offline: "
        "silent for 3 periods)")
    assert highrise_throw_coverage([], [], AS_OF).status == {"basic": "no_data",
                                                              "growth": "no_data"}


def detector(ident: str, lift: str, state: EffectiveState = ON,
             *alarms: DetectorAlarm) -> EbikeDetectorFact:
    return EbikeDetectorFact(ident, lift, state, alarms)


def seen(days: float, type_: str = "ebike_detected") -> DetectorAlarm:
    return DetectorAlarm(type_, AS_OF - timedelta(days=days))


def test_a_compound_passes_ebike_recognition_only_if_every_elevator_does() -> None:
    lifts = [ElevatorFact("a1", "a"), ElevatorFact("a2", "a"), ElevatorFact("b1", "b"),
             ElevatorFact("c1", "c"), ElevatorFact("c2", "c")]
    detectors = [
        detector("d-a1", "a1", ON, seen(1)), detector("d-a2", "a2", ON, seen(10)),
        detector("d-b1", "b1", DEGRADED, seen(6.9, "ebike_lockout")),
        # c1: the detector that alarmed is offline now; the online one never alarmed
        detector("d-c1a", "c1", OFF, seen(1)), detector("d-c1b", "c1", ON),
        detector("d-c2", "c2", UNKNOWN, seen(1)),
    ]
    lockouts = [LockoutFact(AS_OF - timedelta(hours=h), "b1", ms)
                for h, ms in ((1, 900.0), (2, 600.0), (3, None))] + [
        LockoutFact(AS_OF - timedelta(days=9), "b1", 99999.0)]
    compounds = [CompoundFact(c) for c in "abc"] + [CompoundFact("d", elevators=False)]
    r = ebike_elevator_compounds(compounds, lifts, detectors, lockouts, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (1, 3, 33.3)
    assert r.numerator_devices == ("b",)
    assert r.breakdown == {"elevators_not_registered": (), "no_detector": (),
                           "detector_not_online": (), "alarm_not_shown": ("a", "c"),
                           "unknown": (), "no_elevators": ("d",), "elevators_unstated": ()}
    assert r.details["elevators"]["a1"]["pass"] is True
    assert r.details["elevators"]["a2"]["why"] == (
        "no alarm from d-a2 in the window: walk an e-bike into the lift to test it")
    assert r.details["lockout"] == {"count": 3, "median_ms": 750.0, "max_ms": 900.0,
                                    "without_latency": 1}
    only_unknown = ebike_elevator_compounds(["c"], [ElevatorFact("c2", "c")],
                                            [detector("d-c2", "c2", UNKNOWN, seen(1))], [],
                                            AS_OF)
    assert only_unknown.breakdown["unknown"] == ("c",)


def test_one_gate_for_people_and_vehicles_is_enough_and_degraded_answers() -> None:
    compounds = [CompoundFact("a", closed=True), CompoundFact("b", closed=True),
                 CompoundFact("open")]
    gates = [SiteDeviceFact("g-a", "a", DEGRADED, ("person", "vehicle")),
             SiteDeviceFact("g-b1", "b", OFF, ("person",)),
             SiteDeviceFact("g-b2", "b", UNKNOWN, ("vehicle",))]
    r = access_control_compounds(compounds, gates, AS_OF)
    assert (r.numerator, r.denominator) == (1, 2)
    # b is not_online (definite) although its vehicle gate might answer
    assert r.breakdown["not_online"] == ("b",) and r.breakdown["unknown"] == ()
    assert access_control_compounds([CompoundFact("x")], [], AS_OF).details["no_data"]


def sos(ident: int, pressed_min: float, acked_min: float | None) -> SosPress:
    pressed = AS_OF - timedelta(minutes=pressed_min)
    acked = None if acked_min is None else pressed + timedelta(minutes=acked_min)
    return SosPress(ident, "sos-1", pressed, acked, "值班员" if acked else None)


def test_an_acknowledgement_at_exactly_15_minutes_is_in_time_and_a_later_as_of_decides(
        ) -> None:
    presses = [sos(1, 60, 15), sos(2, 60, 15.01), sos(3, 15, None), sos(4, 16, None),
               sos(5, 10, 20), sos(6, 8 * 24 * 60, 1)]
    r = elderly_sos_response_rate(presses, AS_OF)
    # 5's acknowledgement lies in the future of as_of: it is pending, not counted
    assert (r.numerator, r.denominator) == (1, 3)
    assert r.breakdown == {"late": ("alarm:2",), "missed": ("alarm:4",),
                           "pending": ("alarm:3", "alarm:5")}
    empty = elderly_sos_response_rate([], AS_OF)
    assert (empty.denominator, empty.status["growth"]) == (0, "no_data")


def test_sos_coverage_needs_a_declared_count() -> None:
    buttons = [SosDeviceFact("s1", "r1", ON), SosDeviceFact("s2", "r2", DEGRADED)]
    r = elderly_sos_coverage(2, buttons, AS_OF)
    assert (r.numerator, r.denominator, r.status["growth"]) == (2, 2, "pass")
    undeclared = elderly_sos_coverage(None, buttons, AS_OF)
    assert (undeclared.denominator, undeclared.status) == (
        0, {"basic": "not_required", "growth": "no_data"})
    assert "lone_elderly: N" in undeclared.details["no_data"]
