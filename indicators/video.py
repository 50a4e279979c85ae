"""The five video indicators of docs/indicators.md as pure functions of camera facts:
key-position coverage, networked rate (联网率), intact rate (完好率), picture-out rate
(出图率) and record compliance (合规率).

Key-position cameras are those registered with a `key_position`. Every camera in the
denominator of networked, intact and picture-out rates is either in the numerator or in
exactly one breakdown reason, so the reasons add up to the gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.model import DEFAULT_WINDOW, IndicatorResult, Thresholds, Window
from indicators.thresholds import thresholds_for
from indicators.video_facts import (
    NOT_NETWORKED_STATES,
    PROBE_CHECKS,
    CameraFact,
    KeyPositionFact,
    describe,
    intact_status,
    network_status,
)
from inventory.records.compliance import RECORD_CHECKS

KEY_COVERAGE: Final = "video_key_coverage"
NETWORKED_RATE: Final = "video_networked_rate"
INTACT_RATE: Final = "video_intact_rate"
PICTURE_OUT_RATE: Final = "video_picture_out_rate"
RECORD_COMPLIANCE: Final = "video_record_compliance"
#: In the order docs/indicators.md lists them.
VIDEO_INDICATORS: Final = (KEY_COVERAGE, NETWORKED_RATE, INTACT_RATE, PICTURE_OUT_RATE,
                           RECORD_COMPLIANCE)

#: A probe older than this does not show the picture is out now (docs/indicators.md: 1 h).
DEFAULT_PROBE_PERIOD: Final = timedelta(hours=1)
#: A probe slower than this did not return the picture "within the timeout" (10 s).
DEFAULT_PROBE_TIMEOUT: Final = timedelta(seconds=10)

_NOT_NETWORKED: Final = ("no_access", *NOT_NETWORKED_STATES)


def _key_cameras(cameras: Sequence[CameraFact]) -> list[CameraFact]:
    return sorted((c for c in cameras if c.key_position is not None), key=lambda c: c.id)


def _result(ident: str, counted: list[str], denominator: list[str], as_of: datetime,
            span: Window, thresholds: Thresholds | None, breakdown: dict[str, list[str]],
            details: dict[str, Any], unit: str = "%") -> IndicatorResult:
    return IndicatorResult(
        id=ident, numerator=len(counted), denominator=len(denominator), as_of=as_of,
        window=span, thresholds=thresholds or thresholds_for(ident),
        numerator_devices=tuple(counted), denominator_devices=tuple(denominator),
        breakdown={reason: tuple(ids) for reason, ids in breakdown.items()},
        unit=unit, details=details)


def video_networked_rate(cameras: Sequence[CameraFact], as_of: datetime,
                         window: timedelta = DEFAULT_WINDOW,
                         thresholds: Thresholds | None = None) -> IndicatorResult:
    """Key-position cameras networked as of `as_of` ÷ key-position cameras.

    Breakdown: `no_access` (degraded because credentials or clock skew keep us out),
    `offline`, `unknown` (gateway offline or nothing reported), `unmonitored` (no
    protocol). `details.degraded_counted` lists the degraded cameras that still count.
    """
    span = Window.ending(as_of, window)
    keyed = _key_cameras(cameras)
    counted: list[str] = []
    breakdown: dict[str, list[str]] = {reason: [] for reason in _NOT_NETWORKED}
    degraded: list[str] = []
    reasons: dict[str, str] = {}
    for cam in keyed:
        networked, why = network_status(cam)
        if networked:
            counted.append(cam.id)
            if why == "degraded":
                degraded.append(cam.id)
                reasons[cam.id] = describe(cam)
        else:
            breakdown[why].append(cam.id)
            reasons[cam.id] = describe(cam)
    return _result(NETWORKED_RATE, counted, [c.id for c in keyed], as_of, span, thresholds,
                   breakdown, {"degraded_counted": degraded, "reasons": reasons})


def video_intact_rate(cameras: Sequence[CameraFact], as_of: datetime,
                      window: timedelta = DEFAULT_WINDOW,
                      thresholds: Thresholds | None = None) -> IndicatorResult:
    """Key-position cameras networked, with a last probe that passed and no open tamper /
    video-loss fault ÷ key-position cameras.

    Breakdown (first failing reason): the networked-rate reasons, then `open_fault`,
    `never_probed`, `bad_picture`.
    """
    span = Window.ending(as_of, window)
    keyed = _key_cameras(cameras)
    counted: list[str] = []
    breakdown: dict[str, list[str]] = {reason: [] for reason in (
        *_NOT_NETWORKED, "open_fault", "never_probed", "bad_picture")}
    reasons: dict[str, str] = {}
    for cam in keyed:
        intact, why = intact_status(cam)
        if intact:
            counted.append(cam.id)
        else:
            breakdown[why].append(cam.id)
            reasons[cam.id] = describe(cam)
    return _result(INTACT_RATE, counted, [c.id for c in keyed], as_of, span, thresholds,
                   breakdown, {"reasons": reasons})


def video_key_coverage(positions: Sequence[KeyPositionFact], cameras: Sequence[CameraFact],
                       as_of: datetime, window: timedelta = DEFAULT_WINDOW,
                       thresholds: Thresholds | None = None) -> IndicatorResult:
    """Key positions with at least one networked and intact camera ÷ key positions in the
    inventory. The ids in `devices` are key-position ids.

    Breakdown: `no_camera` (none registered), `unknown` (every camera of it is unknown),
    `not_intact` (cameras, none intact). `details.cameras` maps each position to its
    cameras and `details.covered_by` to the intact ones.
    """
    span = Window.ending(as_of, window)
    by_position: dict[str, list[CameraFact]] = {}
    for cam in _key_cameras(cameras):
        by_position.setdefault(cam.key_position or "", []).append(cam)
    counted: list[str] = []
    breakdown: dict[str, list[str]] = {"no_camera": [], "unknown": [], "not_intact": []}
    watching: dict[str, list[str]] = {}
    covered_by: dict[str, list[str]] = {}
    ordered = sorted(positions, key=lambda p: p.id)
    for pos in ordered:
        cams = by_position.get(pos.id, [])
        watching[pos.id] = [c.id for c in cams]
        intact = [c.id for c in cams if intact_status(c)[0]]
        if intact:
            counted.append(pos.id)
            covered_by[pos.id] = intact
        elif not cams:
            breakdown["no_camera"].append(pos.id)
        elif all(c.state == "unknown" for c in cams):
            breakdown["unknown"].append(pos.id)
        else:
            breakdown["not_intact"].append(pos.id)
    types = {p.id: p.type for p in ordered}
    return _result(KEY_COVERAGE, counted, [p.id for p in ordered], as_of, span, thresholds,
                   breakdown, {"counts": "key_positions", "types": types, "cameras": watching,
                               "covered_by": covered_by})


def picture_out_reason(cam: CameraFact, as_of: datetime, period: timedelta,
                       timeout: timedelta) -> str:
    """`out` when the camera's picture is out as of `as_of`, else why not: `unknown`,
    `never_probed`, `stale`, `slow` or the failing probe check."""
    if cam.state == "unknown":
        return "unknown"
    probe = cam.probe
    if probe is None:
        return "never_probed"
    if not as_of - period <= probe.time <= as_of:
        return "stale"
    if not probe.ok:
        return probe.check if probe.check in PROBE_CHECKS[1:] else "failed"  # [0] is "ok"
    if probe.latency_ms is not None and probe.latency_ms > timeout.total_seconds() * 1000:
        return "slow"
    return "out"


def video_picture_out_rate(cameras: Sequence[CameraFact], as_of: datetime,
                           probe_period: timedelta = DEFAULT_PROBE_PERIOD,
                           probe_timeout: timedelta = DEFAULT_PROBE_TIMEOUT,
                           thresholds: Thresholds | None = None) -> IndicatorResult:
    """Public cameras whose last probe, within `probe_period` before `as_of`, returned a
    good picture within `probe_timeout` ÷ public cameras. The window is the probe period.

    Breakdown: `unknown` (gateway offline: shown apart, not out), `never_probed`, `stale`
    (last probe older than the period), `slow`, and one reason per failed probe check
    (timeout, unreachable, auth, http_error, not_jpeg, corrupt, black, white, blank,
    frozen; `failed` when the probe named none). Cameras not public: `not_public`.
    """
    span = Window.ending(as_of, probe_period)
    counted: list[str] = []
    public: list[str] = []
    failing = [c for c in PROBE_CHECKS if c != "ok"]
    breakdown: dict[str, list[str]] = {reason: [] for reason in (
        "unknown", "never_probed", "stale", "slow", *failing, "failed", "not_public")}
    reasons: dict[str, str] = {}
    for cam in sorted(cameras, key=lambda c: c.id):
        if not cam.public:
            breakdown["not_public"].append(cam.id)
            continue
        public.append(cam.id)
        why = picture_out_reason(cam, as_of, probe_period, probe_timeout)
        if why == "out":
            counted.append(cam.id)
        else:
            breakdown[why].append(cam.id)
            reasons[cam.id] = describe(cam)
    return _result(PICTURE_OUT_RATE, counted, public, as_of, span, thresholds, breakdown,
                   {"probe_period_s": int(probe_period.total_seconds()),
                    "probe_timeout_s": probe_timeout.total_seconds(), "reasons": reasons})


def video_record_compliance(cameras: Sequence[CameraFact], as_of: datetime,
                            window: timedelta = DEFAULT_WINDOW,
                            thresholds: Thresholds | None = None,
                            notes: Sequence[str] = ()) -> IndicatorResult:
    """Cameras whose record passes every check ÷ cameras in the inventory.

    Breakdown: per check (code, civil_code, name, coordinates) the cameras failing it; a
    camera failing two checks is in both. `details.failed_checks` counts them and
    `details.problems` gives each failing camera's messages.
    """
    span = Window.ending(as_of, window)
    ordered = sorted(cameras, key=lambda c: c.id)
    counted: list[str] = []
    breakdown: dict[str, list[str]] = {check: [] for check in RECORD_CHECKS}
    problems: dict[str, list[str]] = {}
    for cam in ordered:
        failed = [check for check in RECORD_CHECKS if cam.record_problems.get(check)]
        if not failed:
            counted.append(cam.id)
            continue
        for check in failed:
            breakdown[check].append(cam.id)
        problems[cam.id] = [p for check in failed for p in cam.record_problems[check]]
    return _result(RECORD_COMPLIANCE, counted, [c.id for c in ordered], as_of, span,
                   thresholds, breakdown,
                   {"failed_checks": {check: len(ids) for check, ids in breakdown.items()},
                    "problems": problems, "notes": list(notes)})
