"""Nothing eligible, said by the inventory (`not_applicable`, the row is met) versus not
said (`no_data`, the inventory must be completed), for every indicator whose denominator
can be empty; and the top-level figure of a tiered indicator is the highest tier's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from indicators import (
    BuildingFact,
    CompoundFact,
    EffectiveState,
    ElevatorFact,
    IndicatorResult,
    SosDeviceFact,
    ThrowCameraFact,
    access_control_compounds,
    ebike_elevator_compounds,
    elderly_sos_coverage,
    elderly_sos_response_rate,
    highrise_throw_coverage,
    perimeter_compounds,
    smart_charging_compounds,
)

AS_OF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
ON = EffectiveState("online")

Compounds = Callable[[list[CompoundFact]], IndicatorResult]
BY_COMPOUND: dict[str, tuple[str, Compounds]] = {
    "access_control_compounds": ("closed", lambda cs: access_control_compounds(cs, [], AS_OF)),
    "perimeter_compounds": ("closed", lambda cs: perimeter_compounds(cs, [], AS_OF)),
    "smart_charging_compounds": ("ebikes", lambda cs: smart_charging_compounds(cs, [], AS_OF)),
    "ebike_elevator_compounds": ("elevators", lambda cs: ebike_elevator_compounds(
        cs, [], [], [], AS_OF)),
}


def growth(r: IndicatorResult) -> str:
    return r.status["growth"]


@pytest.mark.parametrize("ident", BY_COMPOUND)
def test_every_compound_saying_no_is_not_applicable(ident: str) -> None:
    attribute, evaluate = BY_COMPOUND[ident]
    r = evaluate([CompoundFact("east", **{attribute: False}),  # type: ignore[arg-type]
                  CompoundFact("west", **{attribute: False})])  # type: ignore[arg-type]
    assert (r.numerator, r.denominator, r.value) == (0, 0, None)
    assert growth(r) == "not_applicable" and r.none_eligible
    assert "no_data" not in r.details and "unregistered" not in r.details


@pytest.mark.parametrize("ident", BY_COMPOUND)
def test_a_compound_that_does_not_say_makes_it_no_data_naming_the_compound(
        ident: str) -> None:
    attribute, evaluate = BY_COMPOUND[ident]
    r = evaluate([CompoundFact("east", **{attribute: False}),  # type: ignore[arg-type]
                  CompoundFact("west")])
    assert growth(r) == "no_data" and not r.none_eligible
    assert r.details["unregistered"] == {"attribute": attribute, "objects": "compounds",
                                         "ids": ["west"]}
    assert f"{attribute}: true|false" in r.details["no_data"]


@pytest.mark.parametrize("ident", BY_COMPOUND)
def test_no_compound_registered_at_all_is_no_data(ident: str) -> None:
    _, evaluate = BY_COMPOUND[ident]
    assert growth(evaluate([])) == "no_data"


@pytest.mark.parametrize("ident", ["access_control_compounds", "perimeter_compounds"])
def test_an_unsaid_compound_beside_a_closed_one_is_left_out_and_named(ident: str) -> None:
    _, evaluate = BY_COMPOUND[ident]
    r = evaluate([CompoundFact("east", closed=True), CompoundFact("west")])
    assert (r.numerator, r.denominator, growth(r)) == (0, 1, "fail")
    assert r.breakdown["closed_unstated"] == ("west",)
    assert r.details["unregistered"]["ids"] == ["west"]


def test_a_compound_saying_it_has_elevators_but_registering_none_fails() -> None:
    r = ebike_elevator_compounds([CompoundFact("east", elevators=True)], [], [], [], AS_OF)
    assert (r.numerator, r.denominator, growth(r)) == (0, 1, "fail")
    assert r.breakdown["elevators_not_registered"] == ("east",)
    # Registered elevators make a compound eligible whatever it says.
    r = ebike_elevator_compounds([CompoundFact("east", elevators=False)],
                                 [ElevatorFact("lift-1", "east")], [], [], AS_OF)
    assert (r.denominator, r.breakdown["no_detector"]) == (1, ("east",))


def test_plain_compound_ids_cannot_say_they_have_no_elevators() -> None:
    r = ebike_elevator_compounds(["east"], [], [], [], AS_OF)
    assert growth(r) == "no_data" and r.details["unregistered"]["ids"] == ["east"]


def test_no_high_rise_in_a_fully_registered_inventory_is_not_applicable() -> None:
    buildings = [BuildingFact(f"b{n}", "east", floors=n) for n in (6, 9, 11)]
    r = highrise_throw_coverage(buildings, [], AS_OF)
    assert r.status == {"basic": "not_applicable", "growth": "not_applicable"}
    assert (r.details["residential"], r.details["tallest"]) == (3, 11)
    # 12-18 floors: eligible for growth only; basic (19 floors) still has nothing.
    buildings.append(BuildingFact("tower", "east", floors=15))
    r = highrise_throw_coverage(buildings, [], AS_OF)
    assert r.status == {"basic": "not_applicable", "growth": "fail"}
    assert r.tiers["basic"].none_eligible is True
    assert r.tiers["growth"].none_eligible is False


def test_a_building_without_floors_makes_an_empty_tier_no_data_and_is_named() -> None:
    buildings = [BuildingFact("b1", floors=6), BuildingFact("b2", floors=None)]
    r = highrise_throw_coverage(buildings, [], AS_OF)
    assert r.status == {"basic": "no_data", "growth": "no_data"}
    assert r.details["unregistered"] == {"attribute": "floors", "objects": "buildings",
                                         "ids": ["b2"]}
    # Non-residential buildings need no floors; no residential building at all is no data.
    assert highrise_throw_coverage([BuildingFact("office", residential=False)], [],
                                   AS_OF).status["growth"] == "no_data"


def test_the_top_level_figure_is_the_growth_tiers_when_the_tiers_count_apart() -> None:
    """Basic counts 19+ floors (none here), growth 12+ (six, one watched): the headline
    must be growth's 1/6, the figure that is judged, not basic's 0/0."""
    buildings = [BuildingFact(f"t{n}", floors=13) for n in range(6)]
    cameras = [ThrowCameraFact("cam-t0", "t0", (3, 13), ON)]
    r = highrise_throw_coverage(buildings, cameras, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (1, 6, 16.6)
    assert r.status == {"basic": "not_applicable", "growth": "fail"}
    out = r.to_dict()
    assert (out["numerator"], out["denominator"], out["value"]) == (1, 6, 16.6)
    assert out["tiers"]["basic"]["none_eligible"] is True


def test_zero_lone_elderly_declared_is_not_applicable_and_none_declared_is_no_data() -> None:
    assert growth(elderly_sos_coverage(0, [], AS_OF)) == "not_applicable"
    assert growth(elderly_sos_response_rate([], AS_OF, lone_elderly=0)) == "not_applicable"
    undeclared = elderly_sos_coverage(None, [SosDeviceFact("s1", "r1", ON)], AS_OF)
    assert growth(undeclared) == "no_data" and "lone_elderly: N" in undeclared.details[
        "no_data"]
    quiet = elderly_sos_response_rate([], AS_OF, lone_elderly=4)
    assert growth(quiet) == "no_data" and "press a button" in quiet.details["no_data"]
