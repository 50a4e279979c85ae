"""High-rise throw detection (高空抛物监测), as a pure function of building and camera facts.

The seeds: basic row 14 "19 层及以上住宅 … 监控范围覆盖 3 层及以上所有窗户和洞口", growth
row 17 the same from 12 floors. The tiers count different buildings, so each has its own
denominator (`tiers`); the top-level figure is the growth tier's (the highest tier that
requires the row). A residential building below a tier's floor count is not in that
tier's figure at all.

Nothing eligible: when every residential building has its floors registered and none
reaches a tier's count, that tier is `not_applicable` (published: 社区内19层及以上住宅0栋,
达标). When some lack floors (or no residential building is registered) it is `no_data`
and `details.unregistered` names the buildings to complete.

Decision on "watching floors >= 3": a building is covered when every floor from 3 up to
its top floor is inside the watched range (`floors: [from, to]`) of at least one
ANSWERING throw camera registered in it. Several cameras may share the height (one
watching 3-14, another 12-26); floors 1 and 2 need not be watched. Façades are not
modelled: one camera per façade is the inventory's business (list each).

Live: the cameras' effective states as of `as_of`; the window only labels the figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.fire import BuildingFact
from indicators.model import (
    DEFAULT_WINDOW,
    TIERS,
    IndicatorResult,
    Thresholds,
    TierFigure,
    Window,
    headline_tier,
)
from indicators.states import EffectiveState
from indicators.thresholds import thresholds_for

INDICATOR_ID: Final = "highrise_throw_coverage"
#: The lowest floor that must be watched (3 层及以上).
LOWEST_WATCHED: Final = 3
#: Residential buildings with at least this many floors are in the tier's figure.
TIER_MIN_FLOORS: Final[dict[str, int]] = {"basic": 19, "growth": 12}
#: Why an eligible building is not covered, definite failures first.
REASONS: Final = ("no_camera", "floors_not_covered", "not_online", "unknown")


@dataclass(frozen=True, slots=True)
class ThrowCameraFact:
    id: str
    building: str | None
    watched: tuple[int, int] | None
    status: EffectiveState


def unwatched(top: int, ranges: Sequence[tuple[int, int] | None]) -> list[tuple[int, int]]:
    """The floors from LOWEST_WATCHED to `top` that no range covers, as inclusive runs."""
    gaps: list[tuple[int, int]] = []
    floor = LOWEST_WATCHED
    for low, high in sorted(r for r in ranges if r is not None):
        if low > floor:
            gaps.append((floor, min(low - 1, top)))
        floor = max(floor, high + 1)
        if floor > top:
            break
    if floor <= top:
        gaps.append((floor, top))
    return [g for g in gaps if g[0] <= g[1]]


def runs(floors: Sequence[tuple[int, int]]) -> str:
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in floors)


def _verdict(top: int, cameras: Sequence[ThrowCameraFact]) -> tuple[str, str]:
    """(reason or "" when covered, why in words) for a building of `top` floors."""
    if not cameras:
        return "no_camera", "no throw-detection camera is registered in this building"
    answering = [c.watched for c in cameras if c.status.answering]
    gaps = unwatched(top, answering)
    if not gaps:
        return "", f"floors {LOWEST_WATCHED}-{top} watched by answering cameras"
    silent = "; ".join(f"{c.id} {c.status.describe()}" for c in cameras
                       if not c.status.answering)
    why = f"floors {runs(gaps)} are not watched by an answering camera" + (
        f" (not answering: {silent})" if silent else "")
    maybe = answering + [c.watched for c in cameras if c.status.state == "unknown"]
    if not unwatched(top, maybe):
        return "unknown", why
    if not unwatched(top, [c.watched for c in cameras]):
        return "not_online", why
    return "floors_not_covered", why


def highrise_throw_coverage(buildings: Sequence[BuildingFact],
                            cameras: Sequence[ThrowCameraFact], as_of: datetime,
                            window: timedelta = DEFAULT_WINDOW,
                            thresholds: Thresholds | None = None) -> IndicatorResult:
    """Eligible buildings covered ÷ eligible buildings, per tier (19 floors basic, 12
    growth); the top-level figure is the growth tier's.

    `devices` lists building ids. Breakdown per tier: `no_camera`, `floors_not_covered`
    (even the registered cameras together leave floors unwatched), `not_online` (covered
    only with cameras that do not answer), `unknown` (covered if the cameras behind an
    offline gateway answered); `below_threshold` (residential, fewer floors),
    `floors_unregistered` (residential, no floors registered), `not_residential`.
    `details.buildings` says per building what is watched.
    """
    span = Window.ending(as_of, window)
    by_building: dict[str, list[ThrowCameraFact]] = {}
    for camera in sorted(cameras, key=lambda c: c.id):
        by_building.setdefault(camera.building or "", []).append(camera)
    known = {b.id for b in buildings}
    verdicts: dict[str, str] = {}
    per_building: dict[str, dict[str, Any]] = {}
    ordered = sorted(buildings, key=lambda b: b.id)
    for b in ordered:
        its = by_building.get(b.id, [])
        eligible = [t for t in TIERS if b.residential and b.floors is not None
                    and b.floors >= TIER_MIN_FLOORS[t]]
        entry: dict[str, Any] = {"floors": b.floors, "compound": b.compound,
                                 "residential": b.residential, "eligible": eligible,
                                 "cameras": {c.id: list(c.watched) if c.watched else None
                                             for c in its}}
        if eligible and b.floors is not None:
            verdicts[b.id], entry["why"] = _verdict(b.floors, its)
            entry["pass"] = not verdicts[b.id]
        if eligible or its:
            per_building[b.id] = entry
    # A tier with nothing eligible is decided (not_applicable) only when every residential
    # building has its floors registered, and there is at least one.
    unregistered = [b.id for b in ordered if b.residential and b.floors is None]
    decided = not unregistered and any(b.residential for b in ordered)
    figures: dict[str, TierFigure] = {}
    for tier in TIERS:
        least = TIER_MIN_FLOORS[tier]
        breakdown: dict[str, list[str]] = {r: [] for r in (
            *REASONS, "below_threshold", "floors_unregistered", "not_residential")}
        eligible_ids: list[str] = []
        counted: list[str] = []
        for b in ordered:
            if not b.residential:
                breakdown["not_residential"].append(b.id)
            elif b.floors is None:
                breakdown["floors_unregistered"].append(b.id)
            elif b.floors < least:
                breakdown["below_threshold"].append(b.id)
            else:
                eligible_ids.append(b.id)
                reason = verdicts[b.id]
                (breakdown[reason] if reason else counted).append(b.id)
        figures[tier] = TierFigure(
            numerator=len(counted), numerator_devices=tuple(counted),
            requires=(f"residential buildings of >= {least} floors",
                      f"floors {LOWEST_WATCHED} and up watched"),
            breakdown={r: tuple(ids) for r, ids in breakdown.items()},
            denominator=len(eligible_ids), denominator_devices=tuple(eligible_ids),
            none_eligible=not eligible_ids and decided)
    residential = [b for b in ordered if b.residential]
    details: dict[str, Any] = {
        "counts": "buildings", "min_floors": dict(TIER_MIN_FLOORS),
        "lowest_watched_floor": LOWEST_WATCHED, "buildings": per_building,
        "residential": len(residential),
        "tallest": max((b.floors for b in residential if b.floors is not None), default=None)}
    if unregistered:
        details["unregistered"] = {"attribute": "floors", "objects": "buildings",
                                   "ids": unregistered}
    stray = sorted(c.id for c in cameras if c.building not in known)
    if stray:
        details["unassigned_cameras"] = stray
    limits = thresholds or thresholds_for(INDICATOR_ID)
    top = figures[headline_tier(limits)]
    return IndicatorResult(
        id=INDICATOR_ID, numerator=top.numerator, denominator=top.denominator or 0,
        as_of=as_of, window=span, thresholds=limits,
        numerator_devices=top.numerator_devices,
        denominator_devices=top.denominator_devices, breakdown=dict(top.breakdown),
        details=details, tiers=figures, none_eligible=bool(top.none_eligible))
