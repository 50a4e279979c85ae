"""Household energy collection rate as a pure function: the declared household count is the
denominator, a valid reading in the window decides, breakdowns name the meters."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from indicators import EffectiveState, MeterFact, energy_collection_rate
from indicators.energy import is_valid_energy

AS_OF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
RECENT = AS_OF - timedelta(hours=3)
OLD = AS_OF - timedelta(hours=49)


def meter(n: int, *, state: str = "online", last: datetime | None = RECENT,
          remote: bool = True, household: str | None = "") -> MeterFact:
    return MeterFact(f"m-{n:03d}", f"h-{n:03d}" if household == "" else household, remote,
                     EffectiveState(state, reason="poll failed 3 times" if state == "offline"
                                    else ""), last)


def test_400_households_280_collected_passes_growth_at_70_percent() -> None:
    meters = [meter(n) for n in range(1, 281)]
    meters += [meter(n, last=OLD) for n in range(281, 301)]            # silent: too old
    meters += [meter(n, state="offline", last=None) for n in range(301, 311)]
    meters += [meter(n, state="unknown", last=None) for n in range(311, 316)]
    meters += [meter(n, remote=False, state="unmonitored", last=None)
               for n in range(316, 321)]                               # read by hand
    r = energy_collection_rate(meters, 400, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (280, 400, 70.0)
    assert r.status == {"basic": "not_required", "growth": "pass"}
    assert r.window.seconds == 48 * 3600
    assert len(r.numerator_devices) == 280 and len(r.denominator_devices) == 320
    assert {k: len(v) for k, v in r.breakdown.items()} == {
        "no_household": 0, "not_remote": 5, "unknown": 5, "offline": 10, "silent": 20}
    assert r.breakdown["offline"][0] == "m-301"
    assert r.details["households"] == {"declared": 400, "metered": 320, "collected": 280,
                                       "without_meter": 80}
    assert r.details["reasons"]["m-281"] == (
        f"online; last valid reading {OLD.isoformat()} (before the window)")
    assert r.details["reasons"]["m-301"] == "offline: poll failed 3 times; never returned a " \
                                            "valid reading"


def test_one_household_short_of_70_percent_fails_exactly() -> None:
    r = energy_collection_rate([meter(n) for n in range(1, 280)], 400, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (279, 400, 69.7)
    assert r.status["growth"] == "fail"


def test_the_reading_decides_not_the_state() -> None:
    meters = [
        meter(1, state="offline", last=RECENT),   # read 3 h ago, offline since: counts
        meter(2, state="unknown", last=RECENT),   # gateway gone since: still counts
        meter(3, state="online", last=None),      # answers, never a valid reading: silent
        meter(4, state="degraded", last=RECENT),  # answered wrongly at times: counts
    ]
    r = energy_collection_rate(meters, 4, AS_OF)
    assert (r.numerator, r.denominator) == (3, 4)
    assert r.numerator_devices == ("m-001", "m-002", "m-004")
    assert r.breakdown["silent"] == ("m-003",)
    assert r.details["counted_not_online"] == ["m-001", "m-002"]


def test_no_declared_households_is_no_data_not_a_rate_over_meters() -> None:
    r = energy_collection_rate([meter(1), meter(2)], None, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (2, 0, None)
    assert r.status == {"basic": "not_required", "growth": "no_data"}
    assert r.details["no_data"].startswith("the community declares no households "
                                           "(community.households in the inventory)")
    assert r.details["households"]["without_meter"] is None
    assert r.to_dict()["details"]["no_data"] == r.details["no_data"]


def test_a_shorter_window_drops_older_readings() -> None:
    r = energy_collection_rate([meter(1), meter(2, last=AS_OF - timedelta(hours=30))], 2,
                               AS_OF, window=timedelta(hours=24))
    assert (r.numerator, r.breakdown["silent"]) == (1, ("m-002",))


def test_a_reading_after_as_of_is_not_in_the_window() -> None:
    r = energy_collection_rate([meter(1, last=AS_OF + timedelta(minutes=1))], 1, AS_OF)
    assert r.numerator == 0


def test_valid_energy_is_finite_and_not_negative() -> None:
    assert [is_valid_energy(v) for v in (0.0, 1234.5, -0.1, math.nan, math.inf)] == [
        True, True, False, False, False]


def test_meter_without_household_is_listed_apart() -> None:
    r = energy_collection_rate([meter(1), meter(2, household=None)], 10, AS_OF)
    assert r.breakdown["no_household"] == ("m-002",)
    assert r.denominator_devices == ("m-001",)
