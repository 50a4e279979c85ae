"""Smart e-bike charging per compound (智能充电设施), as a pure function of compound and
charging-station facts.

The seeds ask that EVERY compound with e-bikes has a smart charging facility: basic row 5
"具备自动断电功能" (auto power-off), growth row 6 "具备定时充电、自动断电、故障报警等功能"
(timed charging, auto power-off, fault alarm). The tiers differ in the functions required,
not in the share: both thresholds are 100 % (thresholds.yaml), and each tier has its own
numerator — compounds with at least one answering station that SHOWED all of that tier's
functions in the window (default 7 days). The result carries both in `tiers`; the top-level
numerator is the growth tier's (the highest tier that requires the row). When no compound
has e-bikes and every compound says so (`ebikes: false`), the row is `not_applicable`.

A function is shown (docs/indicators.md: "reported such an event or passed the function
self-test in the window, not merely declared") by:
  auto power-off — `charge_stopped` with reason `full` or `over_power`;
  timed charging — `charge_stopped` with reason `timer`;
  fault alarm    — an `over_temperature`, `smoke`, `door_open` or `port_fault` alarm raised
                   (active true, or momentary); a clearing event alone shows nothing;
and by a `self_test` event whose data has that function true.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.model import IndicatorResult, Thresholds, TierFigure, Window, headline_tier
from indicators.states import EffectiveState
from indicators.thresholds import thresholds_for

INDICATOR_ID: Final = "smart_charging_compounds"
#: docs/indicators.md: the window of the shown functions, default 7 days.
CHARGING_WINDOW: Final = timedelta(days=7)
AUTO_POWER_OFF: Final = "auto_power_off"
TIMED_CHARGING: Final = "timed_charging"
FAULT_ALARM: Final = "fault_alarm"
FUNCTIONS: Final = (AUTO_POWER_OFF, TIMED_CHARGING, FAULT_ALARM)
#: What each tier requires of one station (basic row 5 / growth row 6 of the seeds).
TIER_FUNCTIONS: Final[dict[str, tuple[str, ...]]] = {
    "basic": (AUTO_POWER_OFF,),
    "growth": (TIMED_CHARGING, AUTO_POWER_OFF, FAULT_ALARM),
}
#: `charge_stopped` reasons that show a function; `unplugged` and `fault` show none.
STOP_REASONS: Final[dict[str, str]] = {"full": AUTO_POWER_OFF, "over_power": AUTO_POWER_OFF,
                                       "timer": TIMED_CHARGING}
FAULT_EVENTS: Final = ("over_temperature", "smoke", "door_open", "port_fault")
#: Every event type that can show a function: what the loader fetches.
EVENT_TYPES: Final = ("charge_stopped", "self_test", *FAULT_EVENTS)
#: Why a compound with e-bikes fails a tier, in the order they are tried.
REASONS: Final = ("no_station", "unknown", "no_station_online", "functions_not_shown")


@dataclass(frozen=True, slots=True)
class StationEvent:
    """An event of a charging station: `data` as sent (port, reason, self-test flags)."""

    type: str
    time: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class StationFact:
    """One registered charging station as of a time, with its events in (or near) the
    window; the evaluator keeps only those inside it."""

    id: str
    compound: str | None
    status: EffectiveState
    events: tuple[StationEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class CompoundFact:
    """A compound (小区) with the attributes that make it eligible for a row. None means the
    inventory does not say: then an empty denominator is `no_data`, not `not_applicable`."""

    id: str
    #: Residents have e-bikes: smart charging is judged on it.
    ebikes: bool | None = None
    name: str | None = None
    #: A closed compound (封闭式小区): access control and perimeter detection are judged on it.
    closed: bool | None = None
    #: The compound has elevators: e-bike-into-elevator recognition is judged on it.
    elevators: bool | None = None


def unstated(compounds: Sequence[CompoundFact], attribute: str) -> list[str]:
    """Ids of the compounds whose `attribute` the inventory leaves unsaid, in id order."""
    return sorted(c.id for c in compounds if getattr(c, attribute) is None)


def undecided(compounds: Sequence[CompoundFact], attribute: str) -> dict[str, Any]:
    """`details.unregistered` for an attribute some compounds leave unsaid."""
    return {"attribute": attribute, "objects": "compounds",
            "ids": unstated(compounds, attribute)}


def functions_of(event: StationEvent) -> tuple[str, ...]:
    """The functions one event shows."""
    if event.type == "charge_stopped":
        shown = STOP_REASONS.get(str(event.data.get("reason")))
        return (shown,) if shown is not None else ()
    if event.type == "self_test":
        return tuple(f for f in FUNCTIONS if event.data.get(f) is True)
    if event.type in FAULT_EVENTS and event.active is not False:
        return (FAULT_ALARM,)
    return ()


def _evidence(event: StationEvent) -> str:
    what = event.type
    if event.type == "charge_stopped":
        port = event.data.get("port")
        what += f" ({event.data.get('reason')}" + (f", port {port})" if port is not None
                                                    else ")")
    elif event.type in FAULT_EVENTS and "port" in event.data:
        what += f" (port {event.data['port']})"
    return f"{what} at {event.time.isoformat()}"


def shown_functions(events: Sequence[StationEvent], span: Window) -> dict[str, str]:
    """Each function shown within `span`, with the latest event that showed it."""
    latest: dict[str, StationEvent] = {}
    for event in events:
        if not span.contains(event.time):
            continue
        for function in functions_of(event):
            if function not in latest or event.time > latest[function].time:
                latest[function] = event
    return {f: _evidence(latest[f]) for f in FUNCTIONS if f in latest}


def _tier_verdict(stations: list[StationFact], shown: dict[str, dict[str, str]],
                  required: tuple[str, ...]) -> tuple[list[str], str, str]:
    """(passing stations, breakdown reason or "", why in words) for one compound."""
    passing = [s.id for s in stations
               if s.status.answering and all(f in shown[s.id] for f in required)]
    if passing:
        return passing, "", "shown by " + ", ".join(passing)
    if not stations:
        return [], "no_station", "no charging station is registered in this compound"
    answering = [s for s in stations if s.status.answering]
    if not answering:
        reason = ("unknown" if any(s.status.state == "unknown" for s in stations)
                  else "no_station_online")
        return [], reason, "no station is online: " + "; ".join(
            f"{s.id} {s.status.describe()}" for s in stations)
    return [], "functions_not_shown", "no online station showed " + ", ".join(required) + (
        " in the window: " + "; ".join(
            f"{s.id} lacks " + ", ".join(f for f in required if f not in shown[s.id])
            for s in answering))


def smart_charging_compounds(compounds: Sequence[CompoundFact],
                             stations: Sequence[StationFact], as_of: datetime,
                             window: timedelta = CHARGING_WINDOW,
                             thresholds: Thresholds | None = None) -> IndicatorResult:
    """Compounds with e-bikes whose smart charging passes ÷ compounds with e-bikes, per
    tier (`tiers.basic`, `tiers.growth`); the top-level figure is the growth tier's.

    `devices` lists compound ids. Breakdown per tier (first reason that applies):
    `no_station`, `unknown` (no station answering, some behind an offline gateway or never
    reported), `no_station_online`, `functions_not_shown`; compounds without e-bikes are
    listed under `no_ebikes` and are in neither count, and so are those that do not say
    (`ebikes_unstated`). `details.compounds` says per
    compound and tier which stations pass or why none does; `details.stations` what each
    station showed, when.
    """
    span = Window.ending(as_of, window)
    ordered = sorted(compounds, key=lambda c: c.id)
    by_compound: dict[str, list[StationFact]] = {c.id: [] for c in ordered}
    unassigned: list[str] = []
    for station in sorted(stations, key=lambda s: s.id):
        if station.compound in by_compound:
            by_compound[station.compound].append(station)
        else:
            unassigned.append(station.id)
    shown = {s.id: shown_functions(s.events, span) for s in stations}
    with_ebikes = [c.id for c in ordered if c.ebikes]
    no_ebikes = tuple(c.id for c in ordered if c.ebikes is False)
    silent = tuple(unstated(ordered, "ebikes"))
    figures: dict[str, TierFigure] = {}
    compound_details: dict[str, dict[str, Any]] = {
        c.id: {"name": c.name, "ebikes": c.ebikes,
               "stations": [s.id for s in by_compound[c.id]]} for c in ordered}
    for tier, required in TIER_FUNCTIONS.items():
        counted: list[str] = []
        breakdown: dict[str, list[str]] = {reason: [] for reason in REASONS}
        for cid in with_ebikes:
            passing, reason, why = _tier_verdict(by_compound[cid], shown, required)
            compound_details[cid][tier] = {"pass": bool(passing), "stations": passing,
                                           "why": why}
            if passing:
                counted.append(cid)
            else:
                breakdown[reason].append(cid)
        figures[tier] = TierFigure(
            numerator=len(counted), numerator_devices=tuple(counted), requires=required,
            breakdown={**{r: tuple(ids) for r, ids in breakdown.items()},
                       "no_ebikes": no_ebikes, "ebikes_unstated": silent})
    limits = thresholds or thresholds_for(INDICATOR_ID)
    top = figures[headline_tier(limits)]
    details: dict[str, Any] = {
        "counts": "compounds",
        "requires": {tier: list(fs) for tier, fs in TIER_FUNCTIONS.items()},
        "compounds": compound_details,
        "stations": {s.id: {"compound": s.compound, "state": s.status.describe(),
                            "shown": shown[s.id],
                            "not_shown": [f for f in FUNCTIONS if f not in shown[s.id]]}
                     for s in sorted(stations, key=lambda s: s.id)},
    }
    if unassigned:
        details["unassigned_stations"] = unassigned
    if silent:
        details["unregistered"] = undecided(ordered, "ebikes")
    none_eligible = not with_ebikes and bool(ordered) and not silent
    if not with_ebikes and not none_eligible:
        details["no_data"] = ("no compound is marked ebikes: true, and not every compound "
                              "says ebikes: false; register ebikes: true|false for each")
    return IndicatorResult(
        id=INDICATOR_ID, numerator=top.numerator, denominator=len(with_ebikes),
        as_of=as_of, window=span, thresholds=limits,
        numerator_devices=top.numerator_devices, denominator_devices=tuple(with_ebikes),
        breakdown=dict(top.breakdown), details=details, tiers=figures,
        none_eligible=none_eligible)
