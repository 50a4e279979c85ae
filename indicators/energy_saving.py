"""Public-lighting energy saving (DB37/T 3890.3-2020 L1P8, 社区路灯、景观灯节能20%以上), as a
pure function of light facts.

The standard's formula: (annual energy of the public lighting without smart control −
annual energy with it) ÷ annual energy without it. Energy without smart control is not
metered anywhere, so it is the baseline a conventional lamp would burn: its rated power
× the hours it would burn a day at full output (both registered per light in the
inventory) × the days its meter covers. Energy with smart control is what the light's
controller metered: the increase of its `energy_kwh` counter over the same span.

Only public lights with a smart controller take part (plain lamps save nothing and have
no meter). A light counts when it has a rated power, burn hours and at least a day of
metered energy in the window; the others are listed by reason. Numerator and
denominator are kWh (saved, baseline), rounded to the watt-hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.model import IndicatorResult, Thresholds, Window
from indicators.thresholds import thresholds_for

INDICATOR_ID: Final = "lighting_energy_saving"
#: The counter a light controller reports (street_light and street_light_controller).
ENERGY_METRIC: Final = "energy_kwh"
#: DB37 speaks of annual energy; a month of metering is the default span looked at.
ENERGY_SAVING_WINDOW: Final = timedelta(days=30)
#: Less metering than this does not cover one night, so says nothing about saving.
MIN_METERED: Final = timedelta(hours=24)
#: Why a public light is not in the figure, in the order they are tried.
REASONS: Final = ("plain", "no_rated_power", "no_burn_hours", "not_metered",
                  "metered_too_short")


@dataclass(frozen=True, slots=True)
class LightEnergyFact:
    """One light with what its saving needs: registered rated power and burn hours, and
    the energy its controller metered in the window between the first and last reading
    (`metered_from`, `metered_to`); `metered_kwh` None when there was no reading."""

    id: str
    public: bool
    has_controller: bool
    rated_power_w: float | None = None
    burn_hours_per_day: float | None = None
    metered_kwh: float | None = None
    metered_from: datetime | None = None
    metered_to: datetime | None = None

    @property
    def metered_span(self) -> timedelta:
        if self.metered_from is None or self.metered_to is None:
            return timedelta(0)
        return self.metered_to - self.metered_from


def baseline_kwh(light: LightEnergyFact) -> float:
    """What the lamp would have burnt over its metered span at full output."""
    assert light.rated_power_w is not None and light.burn_hours_per_day is not None
    days = light.metered_span.total_seconds() / 86400
    return light.rated_power_w / 1000 * light.burn_hours_per_day * days


def _reason(light: LightEnergyFact) -> str:
    if not light.has_controller:
        return "plain"
    if light.rated_power_w is None:
        return "no_rated_power"
    if light.burn_hours_per_day is None:
        return "no_burn_hours"
    if light.metered_kwh is None:
        return "not_metered"
    if light.metered_span < MIN_METERED:
        return "metered_too_short"
    return ""


def lighting_energy_saving(lights: Sequence[LightEnergyFact], as_of: datetime,
                           window: timedelta = ENERGY_SAVING_WINDOW,
                           thresholds: Thresholds | None = None) -> IndicatorResult:
    """(baseline − metered) ÷ baseline over the smart public lights that can be counted.

    `devices` lists light ids. Breakdown of public lights left out: `plain` (no smart
    controller), `no_rated_power`, `no_burn_hours` (not registered), `not_metered` (no
    energy reading in the window), `metered_too_short` (less than a day of readings);
    lights not public are under `not_public`. `details` gives the kWh totals and, per
    light counted, its baseline and metered energy.
    """
    span = Window.ending(as_of, window)
    counted: list[str] = []
    public: list[str] = []
    breakdown: dict[str, list[str]] = {reason: [] for reason in (*REASONS, "not_public")}
    per_light: dict[str, dict[str, float]] = {}
    baseline = metered = 0.0
    for light in sorted(lights, key=lambda x: x.id):
        if not light.public:
            breakdown["not_public"].append(light.id)
            continue
        public.append(light.id)
        reason = _reason(light)
        if reason:
            breakdown[reason].append(light.id)
            continue
        assert light.metered_kwh is not None
        own = baseline_kwh(light)
        baseline += own
        metered += light.metered_kwh
        counted.append(light.id)
        per_light[light.id] = {"baseline_kwh": round(own, 3),
                               "metered_kwh": round(light.metered_kwh, 3),
                               "metered_hours": round(
                                   light.metered_span.total_seconds() / 3600, 2)}
    smart = [i for i in public if i not in breakdown["plain"]]
    details: dict[str, Any] = {
        "counts": "kWh", "metric": ENERGY_METRIC,
        "baseline_kwh": round(baseline, 3), "metered_kwh": round(metered, 3),
        "saved_kwh": round(baseline - metered, 3),
        "lights": {"public": len(public), "smart": len(smart), "counted": len(counted)},
        "per_light": per_light}
    if not counted:
        details["no_data"] = (
            "no smart public light has a rated power (rated_power_w), burn hours "
            "(burn_hours_per_day) and a day of metered energy_kwh in the window; register "
            "both on the lights and let their controllers report energy")
    return IndicatorResult(
        id=INDICATOR_ID, numerator=round(baseline - metered, 3),
        denominator=round(baseline, 3) if counted else 0, as_of=as_of, window=span,
        thresholds=thresholds or thresholds_for(INDICATOR_ID),
        numerator_devices=tuple(counted), denominator_devices=tuple(counted),
        breakdown={reason: tuple(ids) for reason, ids in breakdown.items()},
        details=details)
