"""The elderly emergency call (紧急呼叫装置, 15分钟内快速响应), as pure functions of SOS
presses and SOS devices.

Tiers, read from the seeds: the basic row 8 (养老服务) REQUIRES only "60岁及以上常住老年人
占比超过30%的社区提供2种社区养老服务" — services; the emergency-call devices and the
15-minute response appear there only in a community's completion text. The growth row
10 requires "为60岁及以上常住独居老人配备紧急呼叫装置，实现意外事故发生后15分钟内快速响应":
every lone elderly resident equipped (coverage 100 %) and every call answered within 15
minutes (response rate 100 %). So basic is `not_required` for both.

Response rate: an SOS press is the `sos_pressed` alarm (raised at the press's own time);
it is answered when staff acknowledge it (server time). Presses in the window (default 7
days) acknowledged within 15 minutes ÷ presses in the window whose outcome is known. A
press not acknowledged by `as_of` and at most 15 minutes old is pending: listed apart,
neither counted nor failed. An acknowledgement after `as_of` does not exist yet.

A community that declares 0 lone elderly residents has nobody to equip or answer: both
indicators are `not_applicable` there. Declaring none at all is `no_data`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.model import DEFAULT_WINDOW, IndicatorResult, Thresholds, Window
from indicators.states import EffectiveState
from indicators.thresholds import thresholds_for

RESPONSE_RATE: Final = "elderly_sos_response_rate"
COVERAGE: Final = "elderly_sos_coverage"
ELDERLY_INDICATORS: Final = (RESPONSE_RATE, COVERAGE)
SOS_EVENT: Final = "sos_pressed"
SOS_WINDOW: Final = timedelta(days=7)
RESPONSE_LIMIT: Final = timedelta(minutes=15)
#: What became of a press: counted, failed (late, missed) or not yet decided (pending).
VERDICTS: Final = ("within", "late", "missed", "pending")


@dataclass(frozen=True, slots=True)
class SosPress:
    alarm: int
    device: str
    pressed_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resident: str | None = None

    @property
    def label(self) -> str:
        return f"alarm:{self.alarm}"


@dataclass(frozen=True, slots=True)
class SosDeviceFact:
    id: str
    resident: str | None
    status: EffectiveState


def press_verdict(press: SosPress, as_of: datetime,
                  limit: timedelta = RESPONSE_LIMIT) -> str:
    acked = press.acknowledged_at
    if acked is not None and acked <= as_of:
        return "within" if acked - press.pressed_at <= limit else "late"
    return "pending" if as_of - press.pressed_at <= limit else "missed"


def elderly_sos_response_rate(presses: Sequence[SosPress], as_of: datetime,
                              window: timedelta = SOS_WINDOW,
                              thresholds: Thresholds | None = None,
                              limit: timedelta = RESPONSE_LIMIT,
                              lone_elderly: int | None = None) -> IndicatorResult:
    """Presses acknowledged within `limit` ÷ decided presses in the window. Without a
    decided press, `not_applicable` when `lone_elderly` (the declared count) is 0.

    `devices` lists presses as `alarm:<id>`. Breakdown: `late` (acknowledged after the
    limit), `missed` (not acknowledged, older than the limit), and `pending` (not
    acknowledged yet, within the limit: in neither count). `details.presses` gives each
    press's device, resident, times, who answered and the response in seconds.
    """
    span = Window.ending(as_of, window)
    inside = sorted((p for p in presses if span.contains(p.pressed_at)),
                    key=lambda p: (p.pressed_at, p.alarm))
    by_verdict: dict[str, list[str]] = {v: [] for v in VERDICTS}
    listed: list[dict[str, Any]] = []
    responses: list[float] = []
    for press in inside:
        verdict = press_verdict(press, as_of, limit)
        by_verdict[verdict].append(press.label)
        acked = press.acknowledged_at if verdict in ("within", "late") else None
        response = None if acked is None else (acked - press.pressed_at).total_seconds()
        if response is not None:
            responses.append(response)
        listed.append({"alarm": press.alarm, "device": press.device,
                       "resident": press.resident,
                       "pressed_at": press.pressed_at.isoformat(),
                       "acknowledged_at": acked.isoformat() if acked else None,
                       "acknowledged_by": press.acknowledged_by if acked else None,
                       "response_s": response, "verdict": verdict})
    pending = set(by_verdict["pending"])
    decided = [p.label for p in inside if p.label not in pending]
    details: dict[str, Any] = {
        "counts": "SOS presses", "limit_s": limit.total_seconds(), "presses": listed,
        "response_s": {"median": statistics.median(responses) if responses else None,
                       "max": max(responses) if responses else None}}
    none_eligible = not decided and lone_elderly == 0
    if not decided and not none_eligible:
        details["no_data"] = ("no SOS press with a known outcome in the window" + (
            f" ({len(by_verdict['pending'])} pending)" if by_verdict["pending"] else "")
            + "; press a button as a test and acknowledge it to show the response")
    return IndicatorResult(
        id=RESPONSE_RATE, numerator=len(by_verdict["within"]), denominator=len(decided),
        as_of=as_of, window=span, thresholds=thresholds or thresholds_for(RESPONSE_RATE),
        numerator_devices=tuple(by_verdict["within"]), denominator_devices=tuple(decided),
        breakdown={v: tuple(by_verdict[v]) for v in ("late", "missed", "pending")},
        details=details, none_eligible=none_eligible)


def elderly_sos_coverage(lone_elderly: int | None, devices: Sequence[SosDeviceFact],
                         as_of: datetime, window: timedelta = DEFAULT_WINDOW,
                         thresholds: Thresholds | None = None) -> IndicatorResult:
    """Lone elderly residents with an answering SOS device ÷ declared lone elderly.

    The denominator is the DECLARED count (`community.lone_elderly`): residents without a
    device cannot be named otherwise. `devices` lists SOS device ids. Breakdown of devices
    not counted: `not_online`, `unknown`. Without a declaration: status `no_data`.
    """
    span = Window.ending(as_of, window)
    ordered = sorted(devices, key=lambda d: d.id)
    counted: list[str] = []
    residents: set[str] = set()
    breakdown: dict[str, list[str]] = {"not_online": [], "unknown": []}
    for device in ordered:
        if device.status.answering and device.resident is not None:
            counted.append(device.id)
            residents.add(device.resident)
        else:
            breakdown["unknown" if device.status.state == "unknown"
                      else "not_online"].append(device.id)
    equipped = {d.resident for d in ordered if d.resident is not None}
    details: dict[str, Any] = {
        "counts": "lone elderly residents",
        "residents": {"declared": lone_elderly, "with_device": len(equipped),
                      "with_online_device": len(residents),
                      "without_device": None if lone_elderly is None
                      else max(lone_elderly - len(equipped), 0)},
        "states": {d.id: d.status.describe() for d in ordered if not d.status.answering}}
    if lone_elderly is None:
        details["no_data"] = (
            "the community declares no lone elderly residents (community.lone_elderly in "
            "the inventory); declare the count: lone_elderly: N")
    return IndicatorResult(
        id=COVERAGE, numerator=len(residents), denominator=lone_elderly or 0, as_of=as_of,
        window=span, thresholds=thresholds or thresholds_for(COVERAGE),
        numerator_devices=tuple(counted), denominator_devices=tuple(d.id for d in ordered),
        breakdown={reason: tuple(ids) for reason, ids in breakdown.items()},
        details=details, none_eligible=lone_elderly == 0)
