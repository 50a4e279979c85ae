"""Judging one measured indicator for one catalogue row: the tier figure it reads, the
threshold that applies, its status, and what the status would be if the devices whose
state is unknown (their gateway is offline) were online.

"If they were online" is read from the evaluators' own `unknown` breakdowns: each
evaluator lists under `unknown` exactly the items (lights, cameras, compounds,
buildings …) that fail only because a device's state is unknown, so the figure with
them online is at most numerator + that many (capped at the denominator). That bound is
what an assessor needs: it says which rows could change once the gateways are back,
without pretending to know what those devices would report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from acceptance.catalogue import Measure
from indicators.model import (
    IndicatorResult,
    Status,
    Thresholds,
    TierFigure,
    Window,
    display_value,
    status_for,
)

#: Fire-hazard detection has no `unknown` reason: a compound lacks a hazard kind whatever
#: the cause. Its details say, per missing kind, which registered detectors do not answer
#: and in what state ("<id> unknown since …"), which is what the bound needs.
_HAZARD: Final = "fire_hazard_compounds"


@dataclass(frozen=True, slots=True)
class MeasureOutcome:
    """One indicator of a row, judged for the row's catalogue."""

    indicator: str
    basis: str
    threshold: float | None
    numerator: float
    denominator: float
    status: Status
    unknown: tuple[str, ...] = ()
    status_if_online: Status = "no_data"
    source: str = "computed"   # computed now | recorded (indicator history) | missing

    @property
    def value(self) -> float | None:
        """Truncated to one decimal, as every format writes it."""
        return display_value(self.numerator, self.denominator)

    def to_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "basis": self.basis,
                "threshold": self.threshold, "numerator": self.numerator,
                "denominator": self.denominator, "value": self.value,
                "status": self.status, "unknown": list(self.unknown),
                "status_if_online": self.status_if_online, "source": self.source}


def figure_of(result: IndicatorResult, basis: str) -> TierFigure | None:
    return result.tiers.get(basis)


def breakdown_of(result: IndicatorResult, basis: str) -> Mapping[str, tuple[str, ...]]:
    """The breakdown of the tier the row reads (its own when the tiers count apart)."""
    figure = figure_of(result, basis)
    return figure.breakdown if figure is not None else result.breakdown


def unknown_items(result: IndicatorResult, basis: str) -> tuple[str, ...]:
    """The items kept out of the numerator only because a device's state is unknown."""
    if result.id == _HAZARD:
        return _hazard_unknown(result)
    return tuple(breakdown_of(result, basis).get("unknown", ()))


def _hazard_unknown(result: IndicatorResult) -> tuple[str, ...]:
    out: list[str] = []
    compounds: Mapping[str, Any] = result.details.get("compounds", {})
    for cid, entry in compounds.items():
        missing = entry.get("missing", [])
        silent: Mapping[str, list[str]] = entry.get("not_online", {})
        if missing and all(any(_state_word(s) == "unknown" for s in silent.get(kind, []))
                           for kind in missing):
            out.append(cid)
    return tuple(sorted(out))


def _state_word(described: str) -> str:
    """"unknown" from "hz-1 unknown since …: gateway … is offline"."""
    parts = described.split(" ", 2)
    return parts[1].rstrip(":") if len(parts) > 1 else ""


def threshold_for(measure: Measure, result: IndicatorResult) -> float | None:
    if measure.threshold is not None:
        return measure.threshold
    value: float | None = getattr(result.thresholds, measure.basis)
    return value


def judge(measure: Measure, result: IndicatorResult | None,
          source: str = "computed") -> MeasureOutcome:
    """The outcome of `measure` on `result` (None: the indicator was not computed)."""
    if result is None:
        return MeasureOutcome(measure.indicator, measure.basis, measure.threshold, 0, 0,
                              "no_data", source="missing")
    threshold = threshold_for(measure, result)
    num = result.numerator_for(measure.basis)
    den = result.denominator_for(measure.basis)
    status = result.status_for(measure.basis, threshold)
    unknown = unknown_items(result, measure.basis)
    hoped = status_for(min(num + len(unknown), den), den, threshold,
                       result.none_eligible_for(measure.basis))
    return MeasureOutcome(measure.indicator, measure.basis, threshold, num, den, status,
                          unknown, hoped, source)


def _figure(value: Any) -> float:
    """A count as the int it was, kWh as the float they were."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def result_from_dict(d: Mapping[str, Any]) -> IndicatorResult:
    """Rebuild a result from the JSON the API serves (as the indicator history stores it)."""
    window = d.get("window") or {}
    as_of = _when(str(d["as_of"]))
    span = (Window(_when(window["from"]), _when(window["to"])) if "from" in window
            else Window(as_of - timedelta(seconds=int(window.get("seconds", 0))), as_of))
    devices = d.get("devices") or {}
    thresholds = d.get("thresholds") or {}
    tiers: dict[str, TierFigure] = {}
    for tier, f in (d.get("tiers") or {}).items():
        tiers[tier] = TierFigure(
            numerator=int(f["numerator"]), numerator_devices=tuple(f.get("devices", ())),
            requires=tuple(f.get("requires", ())),
            breakdown={k: tuple(v) for k, v in (f.get("breakdown") or {}).items()},
            denominator=f.get("denominator"),
            denominator_devices=tuple(f.get("denominator_devices", ())),
            none_eligible=f.get("none_eligible"))
    return IndicatorResult(
        id=str(d["id"]), numerator=_figure(d["numerator"]),
        denominator=_figure(d["denominator"]), none_eligible=bool(d.get("none_eligible")),
        as_of=as_of, window=span,
        thresholds=Thresholds(thresholds.get("basic"), thresholds.get("growth")),
        numerator_devices=tuple(devices.get("numerator", ())),
        denominator_devices=tuple(devices.get("denominator", ())),
        breakdown={k: tuple(v) for k, v in (d.get("breakdown") or {}).items()},
        unit=str(d.get("unit", "%")), details=dict(d.get("details") or {}), tiers=tiers)
