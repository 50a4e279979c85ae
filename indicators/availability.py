"""Windowed availability: the networked rate over a window as online time ÷ observed time
(docs/indicators.md, "The windowed form"), from state intervals.

Observed time is the window less the time the device's gateway was offline (its last will
stood) and less the time before scg first heard of the device or its gateway (a birth, a
will, or the device's first state): an edge box losing its uplink, or not yet installed,
says nothing about the camera, so that time is neither online nor offline and is shown
apart. Without that, a community connected three days ago would read at most 3/7 of its
real rate for a week. A device of which nothing at all was ever heard is observed for
the whole window, so that a camera nobody connected still counts against the rate.
Within observed time, `online` and `degraded` count as online (the device answered its
gateway; see `states.ANSWERING`), except degraded time in which a camera refused our
credentials (`refused_s`), as the live rate judges it; `offline`, `unknown` and observed
time with no state yet (a camera silent while its gateway was up) count as not online.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from indicators.model import IndicatorResult, Thresholds, Window
from indicators.thresholds import thresholds_for

INDICATOR_ID: Final = "video_networked_time_rate"
#: The live networked rate whose tier thresholds the windowed form is judged against.
LIVE_ID: Final = "video_networked_rate"
#: The window of availability integrated from state intervals (INDICATORS.md).
AVAILABILITY_WINDOW: Final = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DeviceAvailability:
    """Seconds of one device within one window; the state seconds exclude the time its
    gateway was offline, which is `gateway_offline_s`; `before_connection_s` is the window's
    time before scg first heard of the device or its gateway."""

    device: str
    window_s: float
    online_s: float = 0.0
    degraded_s: float = 0.0
    offline_s: float = 0.0
    unknown_s: float = 0.0
    gateway_offline_s: float = 0.0
    #: Of `degraded_s`, the seconds it refused our credentials (cameras): not networked.
    refused_s: float = 0.0
    before_connection_s: float = 0.0

    @property
    def observed_s(self) -> float:
        return round(self.window_s - self.gateway_offline_s - self.before_connection_s, 3)

    @property
    def answering_s(self) -> float:
        return self.online_s + self.degraded_s

    @property
    def networked_s(self) -> float:
        """Answering and letting us in."""
        return round(max(0.0, self.answering_s - self.refused_s), 3)  # wire times: ms

    @property
    def unreported_s(self) -> float:
        """Observed time with no state at all (its gateway was up, the device silent)."""
        return round(max(0.0, self.observed_s - self.answering_s - self.offline_s
                         - self.unknown_s), 3)


def networked_time_rate(devices: Sequence[DeviceAvailability], as_of: datetime,
                        window: timedelta = AVAILABILITY_WINDOW,
                        thresholds: Thresholds | None = None) -> IndicatorResult:
    """Σ online seconds ÷ Σ observed seconds over `devices` (the key-position cameras).

    Numerator and denominator are seconds. `details` gives each device's seconds, and the
    gateway-offline and before-connection seconds apart; the breakdown lists devices never
    online in the window and devices observed not at all: their gateway was offline
    throughout (`gateway_offline`), or neither they nor their gateway had reached scg
    before the window ended (`not_yet_connected`).
    """
    span = Window.ending(as_of, window)
    ordered = sorted(devices, key=lambda d: d.device)
    never_online = [d.device for d in ordered if d.observed_s > 0 and d.networked_s == 0]
    unobserved = [d for d in ordered if d.observed_s <= 0]
    return IndicatorResult(
        id=INDICATOR_ID,
        numerator=round(sum(d.networked_s for d in ordered), 3),
        denominator=round(sum(max(0.0, d.observed_s) for d in ordered), 3),
        as_of=as_of, window=span, thresholds=thresholds or thresholds_for(LIVE_ID),
        numerator_devices=tuple(d.device for d in ordered if d.networked_s > 0),
        denominator_devices=tuple(d.device for d in ordered if d.observed_s > 0),
        breakdown={"never_online": tuple(never_online),
                   "gateway_offline": tuple(d.device for d in unobserved
                                            if d.gateway_offline_s > 0),
                   "not_yet_connected": tuple(d.device for d in unobserved
                                              if d.gateway_offline_s <= 0)},
        unit="%",
        details={
            "gateway_offline_s": round(sum(d.gateway_offline_s for d in ordered), 3),
            "before_connection_s": round(sum(d.before_connection_s for d in ordered), 3),
            "devices": {d.device: {"online_s": d.online_s, "degraded_s": d.degraded_s,
                                   "refused_s": d.refused_s,
                                   "offline_s": d.offline_s, "unknown_s": d.unknown_s,
                                   "unreported_s": d.unreported_s,
                                   "gateway_offline_s": d.gateway_offline_s,
                                   "before_connection_s": d.before_connection_s,
                                   "observed_s": d.observed_s}
                        for d in ordered},
        })
