"""The smart-lighting rate as a pure function: exact counts, statuses and breakdowns."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from indicators import (
    LightFact,
    ThresholdError,
    Thresholds,
    has_smart_controller,
    load_thresholds,
    smart_lighting_rate,
    status_for,
)

AS_OF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
RECENT = AS_OF - timedelta(hours=1)
STALE = AS_OF - timedelta(hours=25)


def light(id_: str, *, public: bool = True, controller: bool = True, state: str = "online",
          seen: datetime | None = RECENT) -> LightFact:
    return LightFact(id_, public, controller, state if controller else "unmonitored",
                     seen if controller else None)


def test_counts_reporting_controllers_over_all_public_lights() -> None:
    lights = [
        light("l-01"), light("l-02", state="degraded"),       # counted
        light("l-03", controller=False),                      # plain
        light("l-04", state="offline"),                       # silent: offline
        light("l-05", seen=STALE),                            # silent: not in the window
        light("l-06", seen=None),                             # silent: never reported
        light("l-07", state="unknown"),                       # gateway offline
        light("l-08", public=False),                          # not in the figure at all
    ]
    r = smart_lighting_rate(lights, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (2, 7, 28.5)
    assert r.status == {"basic": "not_required", "growth": "fail"}
    assert r.numerator_devices == ("l-01", "l-02")
    assert r.denominator_devices == ("l-01", "l-02", "l-03", "l-04", "l-05", "l-06", "l-07")
    assert r.breakdown == {"plain": ("l-03",), "silent": ("l-04", "l-05", "l-06"),
                           "unknown": ("l-07",), "not_public": ("l-08",)}


def test_exactly_80_percent_passes_the_growth_tier_and_just_below_fails() -> None:
    eight_of_ten = [light(f"a{i}") for i in range(8)] + [light("p1", controller=False),
                                                         light("p2", controller=False)]
    r = smart_lighting_rate(eight_of_ten, AS_OF)
    assert (r.numerator, r.denominator, r.value, r.status["growth"]) == (8, 10, 80.0, "pass")
    # 3999 / 5000 = 79.98 %: displayed truncated, 79.9, so it never reads as meeting 80.
    almost = [light(f"a{i:04d}") for i in range(3999)] + [
        light(f"p{i:04d}", controller=False) for i in range(1001)]
    r = smart_lighting_rate(almost, AS_OF)
    assert (r.value, r.status["growth"]) == (79.9, "fail")


def test_no_public_lights_means_no_data_not_zero() -> None:
    r = smart_lighting_rate([light("x", public=False)], AS_OF)
    assert (r.numerator, r.denominator, r.value) == (0, 0, None)
    assert r.status == {"basic": "not_required", "growth": "no_data"}


def test_window_bounds_are_inclusive_and_configurable() -> None:
    lights = [light("edge", seen=AS_OF - timedelta(hours=2)),
              light("now", seen=AS_OF), light("future", seen=AS_OF + timedelta(seconds=1))]
    r = smart_lighting_rate(lights, AS_OF, timedelta(hours=2))
    assert r.numerator_devices == ("edge", "now")
    assert r.breakdown["silent"] == ("future",)  # reported after as_of: not in this window
    assert smart_lighting_rate(lights, AS_OF, timedelta(hours=1)).numerator_devices == ("now",)


def test_result_json_shape() -> None:
    r = smart_lighting_rate([light("l-01"), light("l-02", controller=False)], AS_OF,
                            thresholds=Thresholds(basic=None, growth=80))
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc == {
        "id": "smart_lighting_rate", "value": 50.0, "numerator": 1, "denominator": 2,
        "unit": "%", "as_of": "2026-11-23T20:00:00Z",
        "window": {"from": "2026-11-22T20:00:00Z", "to": "2026-11-23T20:00:00Z",
                   "seconds": 86400},
        "thresholds": {"basic": None, "growth": 80},
        "status": {"basic": "not_required", "growth": "fail"},
        "devices": {"numerator": ["l-01"], "denominator": ["l-01", "l-02"]},
        "breakdown": {"plain": ["l-02"], "silent": [], "unknown": [], "not_public": []},
    }


def test_a_naive_as_of_or_an_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="has no timezone"):
        smart_lighting_rate([], datetime(2026, 11, 23))
    with pytest.raises(ValueError, match="window must be longer than zero"):
        smart_lighting_rate([], AS_OF, timedelta(0))


def test_a_controller_needs_a_protocol_and_one_smart_function() -> None:
    assert has_smart_controller("mqtt", ["dimming"])
    assert has_smart_controller("modbus", ["metering", "fault_report"])
    assert not has_smart_controller("mqtt", ["metering"])
    assert not has_smart_controller(None, ["dimming"])


def test_status_is_exact_arithmetic() -> None:
    assert status_for(4, 5, 80) == "pass"
    assert status_for(0, 0, 80) == "no_data"
    assert status_for(0, 0, None) == "not_required"
    assert status_for(1, 3, 33.4) == "fail"


def test_shipped_thresholds_match_the_growth_tier_table() -> None:
    assert load_thresholds()["smart_lighting_rate"] == Thresholds(basic=None, growth=80.0)


def test_a_bad_thresholds_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("smart_lighting_rate: {basic: null, growth: 180}\nx: {basic: 1}\n")
    with pytest.raises(ThresholdError) as err:
        load_thresholds(path)
    assert str(err.value) == (
        f"{path}:\n  smart_lighting_rate.growth: must be a percentage 0-100 or null, got 180"
        "\n  x: must have exactly the keys basic, growth (a percentage, or null when the tier "
        "does not require it)")
