"""Smart charging per compound as a pure function: functions shown by events or self-tests
in the window, one numerator per tier, per-compound reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from indicators import (
    TIER_FUNCTIONS,
    CompoundFact,
    EffectiveState,
    StationEvent,
    StationFact,
    Window,
    smart_charging_compounds,
)
from indicators.charging import functions_of, shown_functions

AS_OF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
DAY_AGO = AS_OF - timedelta(days=1)


def stopped(reason: str, t: datetime = DAY_AGO, port: int = 3) -> StationEvent:
    return StationEvent("charge_stopped", t, {"port": port, "reason": reason,
                                              "energy_kwh": 0.8})


def alarm(type_: str, active: bool | None = True, t: datetime = DAY_AGO) -> StationEvent:
    return StationEvent(type_, t, {"port": 2} if type_ == "port_fault" else {}, active)


def self_test(t: datetime = DAY_AGO, **flags: bool) -> StationEvent:
    return StationEvent("self_test", t, dict(flags))


def station(id_: str, compound: str | None, *events: StationEvent,
            state: str = "online") -> StationFact:
    return StationFact(id_, compound, EffectiveState(state), events)


ALL_THREE = (stopped("full"), stopped("timer"), alarm("over_temperature"))

COMPOUNDS = [
    CompoundFact("a", ebikes=True, name="甲苑"),
    CompoundFact("b", ebikes=True),
    CompoundFact("c", ebikes=True),
    CompoundFact("d", ebikes=True),
    CompoundFact("e", ebikes=True),
    CompoundFact("f", ebikes=False),
]
STATIONS = [
    station("ch-a1", "a", *ALL_THREE),                                  # both tiers
    station("ch-b1", "b", stopped("over_power")),                       # basic only
    station("ch-b2", "b", stopped("timer"), alarm("smoke")),            # lacks auto power-off
    # c: stations that never show auto power-off (sessions end by the timer or unplugged)
    station("ch-c1", "c", stopped("timer"), stopped("unplugged"), alarm("door_open")),
    station("ch-c2", "c", stopped("fault")),
    station("ch-d1", "d", *ALL_THREE, state="offline"),                 # would pass, offline
    # e has no station at all
    station("ch-x", None, *ALL_THREE),                                  # in no compound
]


def result() -> Any:
    return smart_charging_compounds(COMPOUNDS, STATIONS, AS_OF)


def test_each_tier_has_its_own_numerator_over_compounds_with_ebikes() -> None:
    r = result()
    # The top-level figure is the growth tier's: the highest tier that requires the row.
    assert (r.numerator, r.denominator, r.value) == (1, 5, 20.0)
    assert r.denominator_devices == ("a", "b", "c", "d", "e")
    assert r.numerator_devices == ("a",)
    assert (r.tiers["basic"].numerator, r.tiers["growth"].numerator) == (2, 1)
    assert r.tiers["growth"].numerator_devices == ("a",)
    assert r.tiers["growth"].requires == ("timed_charging", "auto_power_off", "fault_alarm")
    assert r.thresholds.basic == r.thresholds.growth == 100
    assert r.status == {"basic": "fail", "growth": "fail"}
    assert r.window.seconds == 7 * 86400


def test_breakdowns_say_per_tier_why_a_compound_fails() -> None:
    r = result()
    assert r.tiers["basic"].breakdown == {
        "no_station": ("e",), "unknown": (), "no_station_online": ("d",),
        "functions_not_shown": ("c",), "no_ebikes": ("f",), "ebikes_unstated": ()}
    assert r.breakdown == r.tiers["growth"].breakdown == {
        "no_station": ("e",), "unknown": (), "no_station_online": ("d",),
        "functions_not_shown": ("b", "c"), "no_ebikes": ("f",), "ebikes_unstated": ()}


def test_details_name_the_stations_and_the_missing_functions() -> None:
    r = result()
    c = r.details["compounds"]["c"]
    assert c["stations"] == ["ch-c1", "ch-c2"]
    assert c["basic"] == {"pass": False, "stations": [], "why": (
        "no online station showed auto_power_off in the window: ch-c1 lacks auto_power_off; "
        "ch-c2 lacks auto_power_off")}
    b = r.details["compounds"]["b"]
    assert b["basic"] == {"pass": True, "stations": ["ch-b1"], "why": "shown by ch-b1"}
    assert b["growth"]["why"] == (
        "no online station showed timed_charging, auto_power_off, fault_alarm in the window: "
        "ch-b1 lacks timed_charging, fault_alarm; ch-b2 lacks auto_power_off")
    assert r.details["compounds"]["d"]["basic"]["why"] == "no station is online: ch-d1 offline"
    assert r.details["stations"]["ch-a1"]["shown"] == {
        "auto_power_off": f"charge_stopped (full, port 3) at {DAY_AGO.isoformat()}",
        "timed_charging": f"charge_stopped (timer, port 3) at {DAY_AGO.isoformat()}",
        "fault_alarm": f"over_temperature at {DAY_AGO.isoformat()}"}
    assert r.details["stations"]["ch-c2"]["not_shown"] == ["auto_power_off", "timed_charging",
                                                           "fault_alarm"]
    assert r.details["unassigned_stations"] == ["ch-x"]
    assert r.details["requires"] == {k: list(v) for k, v in TIER_FUNCTIONS.items()}


def test_every_compound_passing_passes_both_tiers() -> None:
    compounds = [CompoundFact("a", ebikes=True), CompoundFact("b", ebikes=True)]
    stations = [station("ch-a1", "a", *ALL_THREE),
                station("ch-b1", "b", self_test(auto_power_off=True, timed_charging=True,
                                                fault_alarm=True), state="degraded")]
    r = smart_charging_compounds(compounds, stations, AS_OF)
    assert (r.numerator, r.denominator, r.tiers["growth"].numerator) == (2, 2, 2)
    assert r.status == {"basic": "pass", "growth": "pass"}
    out = r.to_dict()
    assert out["tiers"]["growth"] == {
        "numerator": 2, "value": 100.0,
        "requires": ["timed_charging", "auto_power_off", "fault_alarm"],
        "devices": ["a", "b"],
        "breakdown": {"no_station": [], "unknown": [], "no_station_online": [],
                      "functions_not_shown": [], "no_ebikes": [], "ebikes_unstated": []}}


def test_basic_pass_growth_fail_when_only_auto_power_off_is_shown() -> None:
    r = smart_charging_compounds([CompoundFact("a", ebikes=True)],
                                 [station("ch-a1", "a", stopped("full"))], AS_OF)
    assert r.status == {"basic": "pass", "growth": "fail"}


def test_functions_shown_only_inside_the_window() -> None:
    old = AS_OF - timedelta(days=8)
    span = Window.ending(AS_OF, timedelta(days=7))
    events = [stopped("full", old), stopped("timer"), alarm("smoke", t=old),
              self_test(AS_OF + timedelta(minutes=5), fault_alarm=True)]
    assert list(shown_functions(events, span)) == ["timed_charging"]


def test_which_events_show_which_function() -> None:
    assert functions_of(stopped("full")) == ("auto_power_off",)
    assert functions_of(stopped("over_power")) == ("auto_power_off",)
    assert functions_of(stopped("timer")) == ("timed_charging",)
    assert functions_of(stopped("unplugged")) == functions_of(stopped("fault")) == ()
    assert functions_of(alarm("port_fault")) == ("fault_alarm",)
    assert functions_of(alarm("smoke", active=None)) == ("fault_alarm",)
    assert functions_of(alarm("smoke", active=False)) == ()  # a clear alone shows nothing
    assert functions_of(self_test(auto_power_off=True, timed_charging=False,
                                  fault_alarm=True)) == ("auto_power_off", "fault_alarm")


def test_stations_behind_an_offline_gateway_make_the_compound_unknown() -> None:
    r = smart_charging_compounds(
        [CompoundFact("a", ebikes=True)],
        [station("ch-a1", "a", *ALL_THREE, state="unknown"),
         station("ch-a2", "a", state="offline")], AS_OF)
    assert r.breakdown["unknown"] == ("a",)


def test_compounds_that_do_not_say_whether_they_have_ebikes_are_no_data_with_the_fix(
        ) -> None:
    r = smart_charging_compounds([CompoundFact("a"), CompoundFact("b", ebikes=False)], [],
                                 AS_OF)
    assert (r.numerator, r.denominator) == (0, 0)
    assert r.status == {"basic": "no_data", "growth": "no_data"}
    assert r.details["unregistered"] == {"attribute": "ebikes", "objects": "compounds",
                                         "ids": ["a"]}
    assert "register ebikes: true|false" in r.details["no_data"]


def test_every_compound_registered_without_ebikes_is_not_applicable() -> None:
    r = smart_charging_compounds([CompoundFact("a", ebikes=False),
                                  CompoundFact("b", ebikes=False)], [], AS_OF)
    assert (r.numerator, r.denominator, r.value) == (0, 0, None)
    assert r.status == {"basic": "not_applicable", "growth": "not_applicable"}
    assert r.breakdown["no_ebikes"] == ("a", "b") and "no_data" not in r.details
    assert r.to_dict()["none_eligible"] is True


def test_no_compound_at_all_is_no_data() -> None:
    r = smart_charging_compounds([], [], AS_OF)
    assert r.status == {"basic": "no_data", "growth": "no_data"}
