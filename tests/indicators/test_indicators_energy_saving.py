"""DB37/T 3890.3 energy saving as a pure function: (baseline − metered) ÷ baseline in kWh,
baseline = rated power × burn hours at full output over the metered span; lights lacking
what the baseline needs are named, not guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from indicators.energy_saving import LightEnergyFact, baseline_kwh, lighting_energy_saving

AS_OF = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def light(ident: str, kwh: float | None, *, days: float = 30, power: float | None = 100,
          hours: float | None = 12, public: bool = True,
          controller: bool = True) -> LightEnergyFact:
    start = AS_OF - timedelta(days=days)
    return LightEnergyFact(ident, public, controller, power, hours, kwh,
                           start if kwh is not None else None,
                           AS_OF if kwh is not None else None)


def test_saving_is_baseline_minus_metered_over_baseline_in_kwh() -> None:
    # 100 W × 12 h × 30 days = 36 kWh each; dimmed lamps used 27 and 28.8 kWh.
    r = lighting_energy_saving([light("l1", 27.0), light("l2", 28.8)], AS_OF)
    assert (r.numerator, r.denominator) == (16.2, 72.0)
    assert (r.value, r.unit) == (22.5, "%")
    assert r.details["baseline_kwh"] == 72.0 and r.details["metered_kwh"] == 55.8
    assert r.details["per_light"]["l1"] == {"baseline_kwh": 36.0, "metered_kwh": 27.0,
                                            "metered_hours": 720.0}
    assert r.window.seconds == 30 * 86400
    # Neither provincial tier has the row: DB37's 20 % is the catalogue's.
    assert r.status == {"basic": "not_required", "growth": "not_required"}
    assert r.status_for("growth", 20) == "pass"
    assert r.status_for("growth", 22.6) == "fail"


def test_the_baseline_covers_only_the_span_the_meter_covers() -> None:
    short = light("new", 1.0, days=2)          # installed two days ago
    assert baseline_kwh(short) == 100 / 1000 * 12 * 2
    r = lighting_energy_saving([short], AS_OF)
    assert (r.numerator, r.denominator, r.value) == (1.4, 2.4, 58.3)


def test_lights_without_what_the_baseline_needs_are_named_by_reason() -> None:
    lights = [light("ok", 30.0), light("plain", None, controller=False),
              light("nopower", 30.0, power=None), light("nohours", 30.0, hours=None),
              light("silent", None), light("young", 0.2, days=0.5),
              light("private", 30.0, public=False)]
    r = lighting_energy_saving(lights, AS_OF)
    assert r.numerator_devices == ("ok",)
    assert {k: v for k, v in r.breakdown.items() if v} == {
        "plain": ("plain",), "no_rated_power": ("nopower",), "no_burn_hours": ("nohours",),
        "not_metered": ("silent",), "metered_too_short": ("young",),
        "not_public": ("private",)}
    assert r.details["lights"] == {"public": 6, "smart": 5, "counted": 1}


def test_nothing_countable_is_no_data_saying_what_to_register() -> None:
    r = lighting_energy_saving([light("l1", 30.0, power=None)], AS_OF)
    assert (r.denominator, r.status_for("growth", 20)) == (0, "no_data")
    assert "rated_power_w" in r.details["no_data"]


def test_lamps_using_more_than_the_baseline_give_a_negative_saving_that_fails() -> None:
    r = lighting_energy_saving([light("l1", 39.6)], AS_OF)
    assert (r.numerator, r.denominator, r.value) == (-3.6, 36.0, -10.0)
    assert r.status_for("growth", 20) == "fail"
