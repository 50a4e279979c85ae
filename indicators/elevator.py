"""E-bike-into-elevator recognition (电动车进电梯智能识别、自动报警), per compound, as a pure
function of elevator, detector and lock-out facts.

Basic row 15 (50 % of compounds) / growth row 19 (80 %). The denominator is the compounds
that have elevators: registered ones (kind: elevator), or the compound says
`elevators: true` (then, with none registered, it fails: nothing shows recognition).
When no compound has elevators and every compound says `elevators: false`, the row is
`not_applicable`; when some do not say, `no_data`. A compound passes when EVERY elevator
in it passes, and an elevator
passes when one of its e-bike detectors answers now and has raised an alarm in the
window (default 7 days): "detections raise an alarm" is shown, not declared.

Decision on what shows the alarm: an alarm that reached the central alarm list, either
from the detector's own `ebike_detected` event or from an `ebike_lockout` linkage of the
gateway's rule naming the detector (`data.detector`) — the rule confirmed that
detection, and the alarm it raised is the recognition's alarm too. A detector whose
events never became alarms (uplink down for the whole window) does not show it.

Lift lock-out (the door held until the bike leaves) is a benchmark-tier feature: it does
not decide the figure; its detection-to-block latency (`latency_ms` of the lock-out
alarms in the window) is reported in `details.lockout`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.charging import CompoundFact
from indicators.model import IndicatorResult, Thresholds, Window
from indicators.states import EffectiveState
from indicators.thresholds import thresholds_for

INDICATOR_ID: Final = "ebike_elevator_compounds"
EBIKE_WINDOW: Final = timedelta(days=7)
DETECTED: Final = "ebike_detected"
LOCKOUT: Final = "ebike_lockout"
#: Why an elevator (and so its compound) fails, definite failures first.
REASONS: Final = ("elevators_not_registered", "no_detector", "detector_not_online",
                   "alarm_not_shown", "unknown")


@dataclass(frozen=True, slots=True)
class ElevatorFact:
    id: str
    compound: str | None
    building: str | None = None


@dataclass(frozen=True, slots=True)
class DetectorAlarm:
    """An alarm that shows a detector's detection: its type and when it was raised."""

    type: str
    time: datetime


@dataclass(frozen=True, slots=True)
class EbikeDetectorFact:
    id: str
    elevator: str | None
    status: EffectiveState
    alarms: tuple[DetectorAlarm, ...] = ()


@dataclass(frozen=True, slots=True)
class LockoutFact:
    """One lock-out alarm: when, which elevator (None when it cannot be told) and the
    detection-to-block latency the gateway measured."""

    time: datetime
    elevator: str | None
    latency_ms: float | None


def _shown(detector: EbikeDetectorFact, span: Window) -> DetectorAlarm | None:
    inside = [a for a in detector.alarms if span.contains(a.time)]
    return max(inside, key=lambda a: a.time) if inside else None


def _elevator_verdict(detectors: Sequence[EbikeDetectorFact],
                      span: Window) -> tuple[str, str]:
    if not detectors:
        return "no_detector", "no e-bike detector is registered for this elevator"
    answering = [d for d in detectors if d.status.answering]
    if not answering:
        reason = ("unknown" if any(d.status.state == "unknown" for d in detectors)
                  else "detector_not_online")
        return reason, "no detector answers: " + "; ".join(
            f"{d.id} {d.status.describe()}" for d in detectors)
    for d in answering:
        alarm = _shown(d, span)
        if alarm is not None:
            return "", f"{alarm.type} alarm from {d.id} at {alarm.time.isoformat()}"
    return "alarm_not_shown", ("no alarm from " + ", ".join(d.id for d in answering)
                               + " in the window: walk an e-bike into the lift to test it")


def lockout_summary(lockouts: Sequence[LockoutFact], span: Window) -> dict[str, Any]:
    """Count, median and max detection-to-block latency of the lock-outs in `span`."""
    inside = [x for x in lockouts if span.contains(x.time)]
    latencies = [x.latency_ms for x in inside if x.latency_ms is not None]
    return {"count": len(inside),
            "median_ms": statistics.median(latencies) if latencies else None,
            "max_ms": max(latencies) if latencies else None,
            "without_latency": len(inside) - len(latencies)}


def ebike_elevator_compounds(compounds: Sequence[str | CompoundFact],
                             elevators: Sequence[ElevatorFact],
                             detectors: Sequence[EbikeDetectorFact],
                             lockouts: Sequence[LockoutFact], as_of: datetime,
                             window: timedelta = EBIKE_WINDOW,
                             thresholds: Thresholds | None = None) -> IndicatorResult:
    """Compounds whose every elevator recognises e-bikes with an alarm ÷ compounds with
    elevators.

    `compounds` are ids (whether they have elevators then unsaid) or facts. `devices`
    lists compound ids. Breakdown (first reason among the compound's failing elevators):
    `elevators_not_registered` (says elevators: true, none registered), `no_detector`,
    `detector_not_online`, `alarm_not_shown`, `unknown`; compounds without elevators are
    under `no_elevators`, those that do not say under `elevators_unstated`, in neither
    count.
    `details.elevators` says per elevator what passed or why not; `details.lockout` the
    lock-out latency over the window.
    """
    span = Window.ending(as_of, window)
    per_elevator: dict[str, list[EbikeDetectorFact]] = {e.id: [] for e in elevators}
    unassigned: list[str] = []
    for detector in sorted(detectors, key=lambda d: d.id):
        if detector.elevator in per_elevator:
            per_elevator[detector.elevator].append(detector)
        else:
            unassigned.append(detector.id)
    facts = {c.id: c for c in (x if isinstance(x, CompoundFact) else CompoundFact(x)
                               for x in compounds)}
    lifts: dict[str, list[ElevatorFact]] = {c: [] for c in sorted(facts)}
    for lift in sorted(elevators, key=lambda e: e.id):
        if lift.compound in lifts:
            lifts[lift.compound].append(lift)
        else:
            unassigned.append(lift.id)
    with_lifts = [c for c, ls in lifts.items() if ls or facts[c].elevators]
    counted: list[str] = []
    breakdown: dict[str, list[str]] = {reason: [] for reason in REASONS}
    elevator_details: dict[str, dict[str, Any]] = {}
    lockout_count: dict[str, int] = {}
    for x in lockouts:
        if x.elevator is not None and span.contains(x.time):
            lockout_count[x.elevator] = lockout_count.get(x.elevator, 0) + 1
    for cid in with_lifts:
        found: set[str] = set() if lifts[cid] else {"elevators_not_registered"}
        for lift in lifts[cid]:
            reason, why = _elevator_verdict(per_elevator[lift.id], span)
            elevator_details[lift.id] = {
                "compound": cid, "building": lift.building,
                "detectors": [d.id for d in per_elevator[lift.id]], "pass": not reason,
                "why": why, "lockouts": lockout_count.get(lift.id, 0)}
            if reason:
                found.add(reason)
        if found:
            breakdown[next(r for r in REASONS if r in found)].append(cid)
        else:
            counted.append(cid)
    breakdown["no_elevators"] = [c for c, ls in lifts.items()
                                 if not ls and facts[c].elevators is False]
    breakdown["elevators_unstated"] = [c for c, ls in lifts.items()
                                       if not ls and facts[c].elevators is None]
    details: dict[str, Any] = {
        "counts": "compounds with elevators", "elevators": elevator_details,
        "shown_by": [DETECTED, f"{LOCKOUT} naming the detector"],
        "lockout": lockout_summary(lockouts, span)}
    if unassigned:
        details["unassigned"] = sorted(unassigned)
    silent = breakdown["elevators_unstated"]
    if silent:
        details["unregistered"] = {"attribute": "elevators", "objects": "compounds",
                                   "ids": list(silent)}
    none_eligible = not with_lifts and bool(facts) and not silent
    if not with_lifts and not none_eligible:
        details["no_data"] = ("no elevator is registered in a compound, and not every "
                              "compound says elevators: false; add devices of kind: "
                              "elevator, or register elevators: true|false per compound")
    return IndicatorResult(
        id=INDICATOR_ID, numerator=len(counted), denominator=len(with_lifts), as_of=as_of,
        window=span, thresholds=thresholds or thresholds_for(INDICATOR_ID),
        numerator_devices=tuple(counted), denominator_devices=tuple(with_lifts),
        breakdown={reason: tuple(ids) for reason, ids in breakdown.items()},
        details=details, none_eligible=none_eligible)
