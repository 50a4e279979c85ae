"""Automatic fire alarm coverage (火灾自动报警) and fire-hazard detection per compound
(消防隐患管理), as pure functions of building, zone and device facts. Both are live: they
judge the state as of `as_of`; the window only labels the figure.

A fire-alarm zone WORKS when its panel answers (online, or degraded: it answered, if
wrongly) and the zone has no open `zone_fault` or `zone_disabled` condition. A zone in
`zone_fire` or `zone_supervisory` is working: it is reporting. A residential building is
covered when it has at least one public-area zone and all of them work. A panel heard
only through a GB 26875 transmission device (用户信息传输装置) is silent whenever that device
is: the building is then not covered because of the device, and says so, since that box
in the fire control room is what someone has to go and mend.

A compound is protected against fire hazards when each of the four kinds (fire lane
blocked, hydrant abnormal, fire door open, electrical abnormal) has at least one answering
device in it that detects that kind (a fire_hazard_sensor, or a fire panel listing it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.model import DEFAULT_WINDOW, IndicatorResult, Thresholds, Window
from indicators.states import EffectiveState
from indicators.thresholds import thresholds_for

ALARM_COVERAGE: Final = "fire_alarm_coverage"
HAZARD_COMPOUNDS: Final = "fire_hazard_compounds"
#: In the order docs/indicators.md lists them.
FIRE_INDICATORS: Final = (HAZARD_COMPOUNDS, ALARM_COVERAGE)
#: Zone condition events of the fire-alarm gateway (data.zone says which zone).
ZONE_CONDITIONS: Final = ("zone_fire", "zone_fault", "zone_supervisory", "zone_disabled")
#: Open conditions that take a zone out of service, most serious first.
OUT_OF_SERVICE: Final = ("zone_disabled", "zone_fault")
HAZARD_KINDS: Final = ("fire_lane", "hydrant", "fire_door", "electrical")
#: Why a residential building is not covered, in the order they are tried.
COVERAGE_REASONS: Final = ("no_public_zone", "panel_not_online",
                           "transmission_device_not_online", "zone_disabled", "zone_fault",
                           "unknown")


@dataclass(frozen=True, slots=True)
class BuildingFact:
    id: str
    compound: str | None = None
    residential: bool = True
    #: Above-ground floors as registered (None: not declared); high-rise rules use it.
    floors: int | None = None


@dataclass(frozen=True, slots=True)
class ZoneFact:
    """A zone of a fire panel, with the panel's effective state and the zone's open
    conditions (latest event per condition active) as of a time."""

    panel: str
    zone: int
    building: str
    public: bool
    panel_status: EffectiveState
    open_conditions: tuple[str, ...] = ()
    #: The GB 26875 transmission device the panel reports through (None: the panel is
    #: reached directly, e.g. over Modbus), and that device's effective state.
    via: str | None = None
    via_status: EffectiveState | None = None

    @property
    def label(self) -> str:
        return f"{self.panel}:{self.zone}"


@dataclass(frozen=True, slots=True)
class HazardDeviceFact:
    """A device detecting fire hazards: a fire_hazard_sensor or a fire panel."""

    id: str
    kind: str
    compound: str | None
    hazards: tuple[str, ...]
    status: EffectiveState


def zone_problem(zone: ZoneFact) -> str:
    """"" when the zone works, else why not: `panel_not_online`,
    `transmission_device_not_online` (the panel is silent because the device it reports
    through is), `unknown`, or the open out-of-service condition."""
    state = zone.panel_status.state
    if state == "unknown":
        return "unknown"
    if not zone.panel_status.answering:
        if _device_silent(zone):
            return "transmission_device_not_online"
        return "panel_not_online"
    for condition in OUT_OF_SERVICE:
        if condition in zone.open_conditions:
            return condition
    return ""


def _device_silent(zone: ZoneFact) -> bool:
    """The panel's transmission device is known to be silent (offline, not merely unknown
    behind an offline gateway: then the panel is unknown too)."""
    via = zone.via_status
    return zone.via is not None and via is not None and not via.answering \
        and via.state != "unknown"


def _describe_zone(zone: ZoneFact, problem: str) -> str:
    if problem in OUT_OF_SERVICE:
        return f"{problem} open"
    if problem == "transmission_device_not_online":
        assert zone.via_status is not None
        return (f"panel {zone.panel} {zone.panel_status.state}: its transmission device "
                f"{zone.via} is {zone.via_status.describe()}")
    return f"panel {zone.panel} {zone.panel_status.describe()}"


def fire_alarm_coverage(buildings: Sequence[BuildingFact], zones: Sequence[ZoneFact],
                        as_of: datetime, window: timedelta = DEFAULT_WINDOW,
                        thresholds: Thresholds | None = None) -> IndicatorResult:
    """Residential buildings whose public-area zones all work ÷ residential buildings.

    `devices` lists building ids. Breakdown (first reason that applies, definite failures
    before `unknown`): `no_public_zone`, `panel_not_online` (offline, or no protocol),
    `transmission_device_not_online` (a GB 26875 panel silent because its transmission
    device is offline), `zone_disabled`, `zone_fault`, `unknown` (a panel behind an
    offline gateway or never reported); non-residential buildings are under
    `not_residential`, in neither count.
    `details.buildings` lists each building's public zones and why each failing one fails.
    """
    span = Window.ending(as_of, window)
    public: dict[str, list[ZoneFact]] = {}
    for zone in sorted(zones, key=lambda z: (z.panel, z.zone)):
        if zone.public:
            public.setdefault(zone.building, []).append(zone)
    counted: list[str] = []
    residential: list[str] = []
    breakdown: dict[str, list[str]] = {reason: [] for reason in (*COVERAGE_REASONS,
                                                                 "not_residential")}
    per_building: dict[str, dict[str, Any]] = {}
    degraded: set[str] = set()
    for building in sorted(buildings, key=lambda b: b.id):
        if not building.residential:
            breakdown["not_residential"].append(building.id)
            continue
        residential.append(building.id)
        its = public.get(building.id, [])
        problems = {z.label: zone_problem(z) for z in its}
        failing = {label: p for label, p in problems.items() if p}
        per_building[building.id] = {
            "zones": [z.label for z in its],
            "failing": {z.label: _describe_zone(z, failing[z.label]) for z in its
                        if z.label in failing}}
        if not its:
            breakdown["no_public_zone"].append(building.id)
        elif failing:
            found = set(failing.values())
            breakdown[next(r for r in COVERAGE_REASONS if r in found)].append(building.id)
        else:
            counted.append(building.id)
            degraded.update(z.panel for z in its if z.panel_status.state == "degraded")
    return IndicatorResult(
        id=ALARM_COVERAGE, numerator=len(counted), denominator=len(residential),
        as_of=as_of, window=span, thresholds=thresholds or thresholds_for(ALARM_COVERAGE),
        numerator_devices=tuple(counted), denominator_devices=tuple(residential),
        breakdown={reason: tuple(ids) for reason, ids in breakdown.items()},
        details={"counts": "buildings", "buildings": per_building,
                 "degraded_panels_counted": sorted(degraded)})


def fire_hazard_compounds(compounds: Sequence[str], devices: Sequence[HazardDeviceFact],
                          as_of: datetime, window: timedelta = DEFAULT_WINDOW,
                          thresholds: Thresholds | None = None) -> IndicatorResult:
    """Compounds where every hazard kind has an answering detector ÷ compounds.

    `devices` lists compound ids. Breakdown `no_<kind>` (no_fire_lane, no_hydrant,
    no_fire_door, no_electrical): the compounds missing that kind; a compound missing two
    is under both. `details.compounds` gives per compound the answering detectors per kind,
    the missing kinds and the registered detectors that do not answer.
    """
    span = Window.ending(as_of, window)
    ordered = sorted(set(compounds))
    by_compound: dict[str, list[HazardDeviceFact]] = {c: [] for c in ordered}
    unassigned: list[str] = []
    for device in sorted(devices, key=lambda d: d.id):
        if device.compound in by_compound:
            by_compound[device.compound].append(device)
        elif device.hazards:
            unassigned.append(device.id)
    counted: list[str] = []
    breakdown: dict[str, list[str]] = {f"no_{kind}": [] for kind in HAZARD_KINDS}
    per_compound: dict[str, dict[str, Any]] = {}
    for cid in ordered:
        detecting: dict[str, list[str]] = {kind: [] for kind in HAZARD_KINDS}
        silent: dict[str, list[str]] = {}
        for device in by_compound[cid]:
            for kind in device.hazards:
                if kind not in detecting:
                    continue
                if device.status.answering:
                    detecting[kind].append(device.id)
                else:
                    silent.setdefault(kind, []).append(
                        f"{device.id} {device.status.describe()}")
        missing = [kind for kind in HAZARD_KINDS if not detecting[kind]]
        per_compound[cid] = {"detectors": detecting, "missing": missing,
                             "not_online": silent}
        for kind in missing:
            breakdown[f"no_{kind}"].append(cid)
        if not missing:
            counted.append(cid)
    details: dict[str, Any] = {"counts": "compounds", "compounds": per_compound}
    if unassigned:
        details["unassigned_devices"] = unassigned
    return IndicatorResult(
        id=HAZARD_COMPOUNDS, numerator=len(counted), denominator=len(ordered), as_of=as_of,
        window=span, thresholds=thresholds or thresholds_for(HAZARD_COMPOUNDS),
        numerator_devices=tuple(counted), denominator_devices=tuple(ordered),
        breakdown={reason: tuple(ids) for reason, ids in breakdown.items()},
        details=details)
