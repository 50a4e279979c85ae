"""Household energy automatic collection rate (居民用电自动采集率), as a pure function of
meter facts.

Numerator: households whose remote meter returned a valid `energy_import_kwh` reading
within the window (default 48 h). Denominator: the community's DECLARED household count
— not the number of meters, which would hide the households that have none. Without a
declared count the figure has no denominator: status `no_data`, with the reason.

The reading decides, not the state: docs/indicators.md asks for a meter that "returned a valid
reading within the window", so a meter offline now whose last valid reading is inside the
window still counts (it is listed in `details.counted_not_online`), and an online meter
that returned nothing valid in the window does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.model import IndicatorResult, Thresholds, Window
from indicators.states import EffectiveState
from indicators.thresholds import thresholds_for

INDICATOR_ID: Final = "energy_collection_rate"
#: The metric a collected meter must return: total forward active energy.
ENERGY_METRIC: Final = "energy_import_kwh"
#: docs/indicators.md: "a valid reading within the window (default 48 h)".
ENERGY_WINDOW: Final = timedelta(hours=48)
#: Why a meter's household is not counted, in the order they are tried.
REASONS: Final = ("no_household", "not_remote", "unknown", "offline", "silent")


@dataclass(frozen=True, slots=True)
class MeterFact:
    """One registered meter as of a time.

    `remote` is true when some protocol reaches it (a gateway reads it); `last_reading` is
    the time of its latest valid `energy_import_kwh` reading at or before as_of.
    """

    id: str
    household: str | None
    remote: bool
    status: EffectiveState
    last_reading: datetime | None = None


def is_valid_energy(value: float) -> bool:
    """A plausible cumulative energy: finite and not negative (the driver contract)."""
    return math.isfinite(value) and value >= 0


def _reason(meter: MeterFact) -> str:
    if meter.household is None:
        return "no_household"
    if not meter.remote:
        return "not_remote"
    if meter.status.state == "unknown":
        return "unknown"
    if meter.status.state in ("offline", "unmonitored"):
        return "offline"
    return "silent"


def _describe(meter: MeterFact, span: Window) -> str:
    if meter.last_reading is None:
        last = "never returned a valid reading"
    elif meter.last_reading < span.start:
        last = f"last valid reading {meter.last_reading.isoformat()} (before the window)"
    else:
        last = f"last valid reading {meter.last_reading.isoformat()}"
    return f"{meter.status.describe()}; {last}"


def energy_collection_rate(meters: Sequence[MeterFact], households: int | None,
                           as_of: datetime, window: timedelta = ENERGY_WINDOW,
                           thresholds: Thresholds | None = None) -> IndicatorResult:
    """Households collected ÷ `households` (the declared count) at `as_of`.

    `devices` lists meters: the numerator the collected ones, the denominator every meter
    with a household. Breakdown of meters not counted (first reason that applies):
    `no_household`, `not_remote` (no protocol: read by hand), `unknown` (its gateway is
    offline or nothing was reported), `offline`, `silent` (answering, yet no valid reading
    in the window). Households with no meter cannot be named (the inventory lists only
    metered ones): `details.households.without_meter` counts them.
    """
    span = Window.ending(as_of, window)
    ordered = sorted(meters, key=lambda m: m.id)
    counted: list[str] = []
    collected: set[str] = set()
    breakdown: dict[str, list[str]] = {reason: [] for reason in REASONS}
    not_online: list[str] = []
    reasons: dict[str, str] = {}
    for meter in ordered:
        if (meter.household is not None and meter.remote
                and span.contains(meter.last_reading)):
            counted.append(meter.id)
            collected.add(meter.household)
            if not meter.status.answering:
                not_online.append(meter.id)
                reasons[meter.id] = _describe(meter, span)
            continue
        breakdown[_reason(meter)].append(meter.id)
        reasons[meter.id] = _describe(meter, span)
    metered = {m.household for m in ordered if m.household is not None}
    details: dict[str, Any] = {
        "counts": "households",
        "households": {
            "declared": households, "metered": len(metered), "collected": len(collected),
            "without_meter": None if households is None else max(households - len(metered),
                                                                  0)},
        "metric": ENERGY_METRIC,
        "counted_not_online": not_online,
        "reasons": reasons,
    }
    if households is None or households == 0:
        details["no_data"] = (
            "the community declares no households (community.households in the "
            "inventory); the rate is households collected ÷ declared households, so "
            "declare the count: households: N" if households is None else
            "the community declares 0 households: there is nothing to collect from")
    elif len(metered) > households:
        details["notes"] = [f"meters name {len(metered)} households but the community "
                            f"declares {households}; correct community.households"]
    return IndicatorResult(
        id=INDICATOR_ID, numerator=len(collected), denominator=households or 0,
        as_of=as_of, window=span, thresholds=thresholds or thresholds_for(INDICATOR_ID),
        numerator_devices=tuple(counted),
        denominator_devices=tuple(m.id for m in ordered if m.household is not None),
        breakdown={reason: tuple(ids) for reason, ids in breakdown.items()},
        details=details)
