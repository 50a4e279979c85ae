"""The result every indicator returns, and how a value is judged against a tier threshold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

Status = Literal["pass", "fail", "not_required", "no_data"]
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


def status_for(numerator: int, denominator: int, threshold: float | None) -> Status:
    """Judge numerator / denominator against a percentage, exactly (no rounding first)."""
    if threshold is None:
        return "not_required"
    if denominator == 0:
        return "no_data"
    return "pass" if numerator * 100 >= threshold * denominator else "fail"


def percent(numerator: int, denominator: int) -> float | None:
    """The rate in percent with one decimal, None when there is nothing to divide by."""
    if denominator == 0:
        return None
    return round(100 * numerator / denominator, 1)


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


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    """One measured indicator for one community, with the evidence behind it.

    `devices` lists the ids in the numerator and the denominator; `breakdown` lists, per
    reason, the devices left out of the numerator (or of the whole figure). `details` holds
    JSON-ready evidence particular to one indicator (per-device reasons, per-check counts).

    `tiers`, when set, gives a tier its own numerator (its requirement differs), and
    possibly its own denominator; that tier's status is judged on them. The headline
    figure is then the basic tier's.
    """

    id: str
    numerator: int
    denominator: int
    as_of: datetime
    window: Window
    thresholds: Thresholds
    numerator_devices: tuple[str, ...] = ()
    denominator_devices: tuple[str, ...] = ()
    breakdown: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unit: str = "%"
    details: Mapping[str, Any] = field(default_factory=dict)
    tiers: Mapping[str, TierFigure] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        return percent(self.numerator, self.denominator)

    def numerator_for(self, tier: str) -> int:
        figure = self.tiers.get(tier)
        return self.numerator if figure is None else figure.numerator

    def denominator_for(self, tier: str) -> int:
        figure = self.tiers.get(tier)
        if figure is None or figure.denominator is None:
            return self.denominator
        return figure.denominator

    @property
    def status(self) -> dict[str, Status]:
        return {"basic": status_for(self.numerator_for("basic"), self.denominator_for("basic"),
                                    self.thresholds.basic),
                "growth": status_for(self.numerator_for("growth"),
                                     self.denominator_for("growth"), self.thresholds.growth)}

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
            "devices": {"numerator": list(self.numerator_devices),
                        "denominator": list(self.denominator_devices)},
            "breakdown": {reason: list(ids) for reason, ids in self.breakdown.items()},
            **({"details": dict(self.details)} if self.details else {}),
            **({"tiers": {tier: self._tier_dict(tier, f) for tier, f in self.tiers.items()}}
               if self.tiers else {}),
        }

    def _tier_dict(self, tier: str, f: TierFigure) -> dict[str, Any]:
        own = {} if f.denominator is None else {
            "denominator": f.denominator, "denominator_devices": list(f.denominator_devices)}
        return {"numerator": f.numerator, **own,
                "value": percent(f.numerator, self.denominator_for(tier)),
                "requires": list(f.requires), "devices": list(f.numerator_devices),
                "breakdown": {reason: list(ids) for reason, ids in f.breakdown.items()}}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
