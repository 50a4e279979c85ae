"""The result every indicator returns, how a value is judged against a tier threshold, and
the one rule by which every format writes a rate (truncated to one decimal)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

#: `not_applicable`: nothing is eligible and the inventory says so for every object (no
#: building reaches the floor count, every compound registered as not closed): the row is
#: met. `no_data`: nothing to divide by and the inventory cannot tell why.
Status = Literal["pass", "fail", "not_required", "not_applicable", "no_data"]
TIERS: Final = ("basic", "growth")

#: Window of the live indicators unless the caller asks for another.
DEFAULT_WINDOW: Final = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Window:
    """The period `[start, end]` the figure covers; `end` is the result's as_of."""

    start: datetime
    end: datetime

    @classmethod
    def ending(cls, as_of: datetime, length: timedelta) -> Window:
        if as_of.tzinfo is None:
            raise ValueError(f"as_of {as_of!r} has no timezone; use an aware UTC datetime")
        if length <= timedelta(0):
            raise ValueError(f"window must be longer than zero, got {length}")
        return cls(as_of - length, as_of)

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    def contains(self, t: datetime | None) -> bool:
        return t is not None and self.start <= t <= self.end


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Required percentage per tier; None where the tier does not require the indicator."""

    basic: float | None = None
    growth: float | None = None


def status_for(numerator: float, denominator: float, threshold: float | None,
               none_eligible: bool = False) -> Status:
    """Judge numerator / denominator against a percentage, exactly (no rounding first).
    An empty denominator is `not_applicable` when the inventory shows nothing is eligible
    (`none_eligible`), else `no_data`."""
    if threshold is None:
        return "not_required"
    if denominator == 0:
        return "not_applicable" if none_eligible else "no_data"
    return "pass" if numerator * 100 >= threshold * denominator else "fail"


def tenths(numerator: float, denominator: float) -> int:
    """The rate in tenths of a percent, rounded DOWN (towards minus infinity): a figure
    never reads as reaching a threshold it misses (79.96 % is 79.9 %, not 80 %). The
    inner rounding to 1e-6 keeps binary noise (0.7 * 100 = 70.00000000000001) out."""
    return math.floor(round(1000 * numerator / denominator, 6))


def display_value(numerator: float, denominator: float) -> float | None:
    """The rate every format shows (API `value`, report text, JSON, CSV, XLSX): percent
    truncated to one decimal; None when there is nothing to divide by."""
    if denominator == 0:
        return None
    return tenths(numerator, denominator) / 10


def percent_text(numerator: float, denominator: float) -> str:
    """The displayed rate as the published tables write it: `28`, `27.9`, `-3.5` (no
    trailing .0; the caller adds %); `—` when there is nothing to divide by."""
    if denominator == 0:
        return "—"
    return tenths_text(tenths(numerator, denominator))


def tenths_text(t: int) -> str:
    """`279` -> `27.9`, `280` -> `28`, `-35` -> `-3.5`."""
    sign, t = ("-", -t) if t < 0 else ("", t)
    return sign + (str(t // 10) if t % 10 == 0 else f"{t // 10}.{t % 10}")


def headline_tier(thresholds: Thresholds) -> str:
    """The tier whose figures are an indicator's top-level ones: the highest tier that
    requires it (growth before basic), basic when neither does."""
    for tier in reversed(TIERS):
        if getattr(thresholds, tier) is not None:
            return tier
    return TIERS[0]


@dataclass(frozen=True, slots=True)
class TierFigure:
    """The figure of one tier when tiers differ in what they require, not only in the
    percentage (smart charging: basic needs auto power-off, growth three functions).

    `requires` names what the tier asks for; `breakdown` lists, per reason, what is left
    out of this tier's numerator. `denominator`, when set, is the tier's own (high-rise
    throw detection counts buildings of >= 19 floors for basic, >= 12 for growth); None
    means the result's.
    """

    numerator: int
    numerator_devices: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    breakdown: dict[str, tuple[str, ...]] = field(default_factory=dict)
    denominator: int | None = None
    denominator_devices: tuple[str, ...] = ()
    #: This tier's own "nothing eligible, and the inventory says so"; None: the result's.
    none_eligible: bool | None = None


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    """One measured indicator for one community, with the evidence behind it.

    `devices` lists the ids in the numerator and the denominator; `breakdown` lists, per
    reason, the devices left out of the numerator (or of the whole figure). `details` holds
    JSON-ready evidence particular to one indicator (per-device reasons, per-check counts).

    `tiers`, when set, gives a tier its own numerator (its requirement differs), and
    possibly its own denominator; that tier's status is judged on them. The top-level
    figures are then those of the highest tier that requires the indicator
    (`headline_tier`), so the headline never shows a tier nobody is judged on.

    `none_eligible`: the denominator is empty because nothing is eligible and the
    inventory holds the deciding attribute for every object (status `not_applicable`).
    Numerator and denominator are counts, except for energy saving (kWh).
    """

    id: str
    numerator: float
    denominator: float
    as_of: datetime
    window: Window
    thresholds: Thresholds
    numerator_devices: tuple[str, ...] = ()
    denominator_devices: tuple[str, ...] = ()
    breakdown: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unit: str = "%"
    details: Mapping[str, Any] = field(default_factory=dict)
    tiers: Mapping[str, TierFigure] = field(default_factory=dict)
    none_eligible: bool = False

    @property
    def value(self) -> float | None:
        return display_value(self.numerator, self.denominator)

    def numerator_for(self, tier: str) -> float:
        figure = self.tiers.get(tier)
        return self.numerator if figure is None else figure.numerator

    def denominator_for(self, tier: str) -> float:
        figure = self.tiers.get(tier)
        if figure is None or figure.denominator is None:
            return self.denominator
        return figure.denominator

    def none_eligible_for(self, tier: str) -> bool:
        figure = self.tiers.get(tier)
        if figure is None or figure.none_eligible is None:
            return self.none_eligible
        return figure.none_eligible

    def status_for(self, tier: str, threshold: float | None) -> Status:
        """This result judged on `tier`'s figure against `threshold`."""
        return status_for(self.numerator_for(tier), self.denominator_for(tier), threshold,
                          self.none_eligible_for(tier))

    @property
    def status(self) -> dict[str, Status]:
        return {tier: self.status_for(tier, getattr(self.thresholds, tier)) for tier in TIERS}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form served by the API."""
        return {
            "id": self.id,
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "unit": self.unit,
            "as_of": _iso(self.as_of),
            "window": {"from": _iso(self.window.start), "to": _iso(self.window.end),
                       "seconds": self.window.seconds},
            "thresholds": {"basic": self.thresholds.basic, "growth": self.thresholds.growth},
            "status": self.status,
            **({"none_eligible": True} if self.none_eligible else {}),
            "devices": {"numerator": list(self.numerator_devices),
                        "denominator": list(self.denominator_devices)},
            "breakdown": {reason: list(ids) for reason, ids in self.breakdown.items()},
            **({"details": dict(self.details)} if self.details else {}),
            **({"tiers": {tier: self._tier_dict(tier, f) for tier, f in self.tiers.items()}}
               if self.tiers else {}),
        }

    def _tier_dict(self, tier: str, f: TierFigure) -> dict[str, Any]:
        own: dict[str, Any] = {} if f.denominator is None else {
            "denominator": f.denominator, "denominator_devices": list(f.denominator_devices)}
        if f.none_eligible is not None:
            own["none_eligible"] = f.none_eligible
        return {"numerator": f.numerator, **own,
                "value": display_value(f.numerator, self.denominator_for(tier)),
                "requires": list(f.requires), "devices": list(f.numerator_devices),
                "breakdown": {reason: list(ids) for reason, ids in f.breakdown.items()}}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
