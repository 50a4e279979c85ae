"""Access control (出入管理) and perimeter detection (周界防范) per closed compound, as pure
functions of compound and device facts. Both are live: they judge the devices' effective
states as of `as_of`; the window only labels the figure.

Basic row 12 / growth row 15: every closed compound's entrances authenticate people AND
vehicles, so a compound passes when an answering access gate serves people and an
answering one (the same or another) serves vehicles. Basic row 13 / growth row 16: every
closed compound has at least one perimeter protection (infrared, radar, electronic fence
or video analysis), so a compound passes with one answering perimeter detector.

A device behind an offline gateway is `unknown`: not answering, and a compound is listed
under `unknown` only when unknown devices are all that stop it from passing.

No closed compound: `not_applicable` when every compound says `closed: false`; `no_data`
when some do not say (they are listed in `details.unregistered`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.charging import CompoundFact, undecided
from indicators.model import DEFAULT_WINDOW, IndicatorResult, Thresholds, Window
from indicators.states import EffectiveState
from indicators.thresholds import thresholds_for

ACCESS_CONTROL: Final = "access_control_compounds"
PERIMETER: Final = "perimeter_compounds"
SUBJECTS: Final = ("person", "vehicle")
#: Why a closed compound fails, definite failures first, in the order they are tried.
ACCESS_REASONS: Final = ("no_person_gate", "no_vehicle_gate", "not_online", "unknown")
PERIMETER_REASONS: Final = ("no_detector", "not_online", "unknown")


@dataclass(frozen=True, slots=True)
class SiteDeviceFact:
    """A device judged by presence in a place: an access gate (`subjects` it
    authenticates), a perimeter detector, a throw camera, an SOS button."""

    id: str
    compound: str | None
    status: EffectiveState
    subjects: tuple[str, ...] = ()


def presence(devices: Sequence[SiteDeviceFact]) -> str:
    """"" when one of `devices` answers; else `none` (no device), `unknown` (one is behind
    an offline gateway or never reported, so it might answer) or `not_online`."""
    if not devices:
        return "none"
    if any(d.status.answering for d in devices):
        return ""
    if any(d.status.state == "unknown" for d in devices):
        return "unknown"
    return "not_online"


def _split(devices: Sequence[SiteDeviceFact]) -> dict[str, list[str]]:
    """Answering device ids, and the others with their state in words."""
    return {"online": [d.id for d in devices if d.status.answering],
            "not_online": [f"{d.id} {d.status.describe()}" for d in devices
                           if not d.status.answering]}


def _by_compound(compounds: Sequence[CompoundFact], devices: Sequence[SiteDeviceFact]
                 ) -> tuple[list[str], list[str], dict[str, list[SiteDeviceFact]], list[str]]:
    """(closed compound ids, compound ids registered as not closed, devices per closed
    compound, devices in no known compound)."""
    ordered = sorted(compounds, key=lambda c: c.id)
    closed = [c.id for c in ordered if c.closed]
    others = [c.id for c in ordered if c.closed is False]
    known = {c.id for c in ordered}
    per: dict[str, list[SiteDeviceFact]] = {cid: [] for cid in closed}
    unassigned: list[str] = []
    for device in sorted(devices, key=lambda d: d.id):
        if device.compound in per:
            per[device.compound].append(device)
        elif device.compound not in known:
            unassigned.append(device.id)
    return closed, others, per, unassigned


def _result(ident: str, counted: list[str], closed: list[str],
            compounds: Sequence[CompoundFact], as_of: datetime, window: timedelta,
            thresholds: Thresholds | None, breakdown: dict[str, list[str]],
            details: dict[str, Any]) -> IndicatorResult:
    unregistered = undecided(compounds, "closed")
    breakdown["closed_unstated"] = list(unregistered["ids"])
    if unregistered["ids"]:
        details["unregistered"] = unregistered
    none_eligible = not closed and bool(compounds) and not unregistered["ids"]
    if not closed and not none_eligible:
        details["no_data"] = ("no compound is marked closed: true, and not every compound "
                              "says closed: false; register closed: true|false for each "
                              "compound (封闭式小区)")
    return IndicatorResult(
        id=ident, numerator=len(counted), denominator=len(closed), as_of=as_of,
        window=Window.ending(as_of, window), thresholds=thresholds or thresholds_for(ident),
        numerator_devices=tuple(counted), denominator_devices=tuple(closed),
        breakdown={reason: tuple(ids) for reason, ids in breakdown.items()},
        details=details, none_eligible=none_eligible)


def access_control_compounds(compounds: Sequence[CompoundFact],
                             gates: Sequence[SiteDeviceFact], as_of: datetime,
                             window: timedelta = DEFAULT_WINDOW,
                             thresholds: Thresholds | None = None) -> IndicatorResult:
    """Closed compounds with answering access control for people and for vehicles ÷
    closed compounds.

    `devices` lists compound ids. Breakdown (first that applies): `no_person_gate`,
    `no_vehicle_gate` (no gate registered for that subject), `not_online`, `unknown`;
    compounds not closed are under `not_closed`, those that do not say under
    `closed_unstated`, in neither count. `details.compounds`
    gives per compound and subject the answering gates and the others with their state.
    """
    closed, others, per, unassigned = _by_compound(compounds, gates)
    counted: list[str] = []
    breakdown: dict[str, list[str]] = {reason: [] for reason in ACCESS_REASONS}
    per_compound: dict[str, dict[str, Any]] = {}
    for cid in closed:
        found: set[str] = set()
        entry: dict[str, Any] = {}
        for subject in SUBJECTS:
            serving = [g for g in per[cid] if subject in g.subjects]
            verdict = presence(serving)
            entry[subject] = _split(serving)
            if verdict == "none":
                found.add(f"no_{subject}_gate")
            elif verdict:
                found.add(verdict)
        entry["pass"] = not found
        per_compound[cid] = entry
        if found:
            breakdown[next(r for r in ACCESS_REASONS if r in found)].append(cid)
        else:
            counted.append(cid)
    breakdown["not_closed"] = others
    details: dict[str, Any] = {"counts": "closed compounds", "compounds": per_compound}
    if unassigned:
        details["unassigned_devices"] = unassigned
    return _result(ACCESS_CONTROL, counted, closed, compounds, as_of, window, thresholds,
                   breakdown, details)


def perimeter_compounds(compounds: Sequence[CompoundFact],
                        detectors: Sequence[SiteDeviceFact], as_of: datetime,
                        window: timedelta = DEFAULT_WINDOW,
                        thresholds: Thresholds | None = None) -> IndicatorResult:
    """Closed compounds with an answering perimeter detector ÷ closed compounds.

    `devices` lists compound ids. Breakdown: `no_detector`, `not_online`, `unknown`;
    compounds not closed are under `not_closed`.
    """
    closed, others, per, unassigned = _by_compound(compounds, detectors)
    counted: list[str] = []
    breakdown: dict[str, list[str]] = {reason: [] for reason in PERIMETER_REASONS}
    per_compound: dict[str, dict[str, Any]] = {}
    for cid in closed:
        verdict = presence(per[cid])
        per_compound[cid] = {**_split(per[cid]), "pass": not verdict}
        if not verdict:
            counted.append(cid)
        else:
            breakdown["no_detector" if verdict == "none" else verdict].append(cid)
    breakdown["not_closed"] = others
    details: dict[str, Any] = {"counts": "closed compounds", "compounds": per_compound}
    if unassigned:
        details["unassigned_devices"] = unassigned
    return _result(PERIMETER, counted, closed, compounds, as_of, window, thresholds,
                   breakdown, details)
