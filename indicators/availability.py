"""Windowed availability: the networked rate over a window as online time ÷ observed time
(docs/indicators.md, "The windowed form"), from state intervals.

Observed time is the window less the time the device's gateway was offline (its last will
stood): an edge box losing its uplink says nothing about the camera, so that time is
neither online nor offline and is shown apart. Within observed time, `online` and
`degraded` count as online (the device answered its gateway; see `states.ANSWERING`),
except degraded time in which a camera refused our credentials (`refused_s`), as the live
rate judges it; `offline`, `unknown` and time before the device's first report count as
not online.
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
    gateway was offline, which is `gateway_offline_s`."""

    device: str
    window_s: float
    online_s: float = 0.0
    degraded_s: float = 0.0
    offline_s: float = 0.0
    unknown_s: float = 0.0
    gateway_offline_s: float = 0.0
    #: Of `degraded_s`, the seconds it refused our credentials (cameras): not networked.
    refused_s: float = 0.0

    @property
    def observed_s(self) -> float:
        return self.window_s - self.gateway_offline_s

    @property
    def answering_s(self) -> float:
        return self.online_s + self.degraded_s

    @property
    def networked_s(self) -> float:
        """Answering and letting us in."""
        return round(max(0.0, self.answering_s - self.refused_s), 3)  # wire times: ms

    @property
    def unreported_s(self) -> float:
        """Observed time with no state at all (before the device's first report)."""
        return max(0.0, self.observed_s - self.answering_s - self.offline_s - self.unknown_s)


def networked_time_rate(devices: Sequence[DeviceAvailability], as_of: datetime,
                        window: timedelta = AVAILABILITY_WINDOW,
                        thresholds: Thresholds | None = None) -> IndicatorResult:
    """Σ online seconds ÷ Σ observed seconds over `devices` (the key-position cameras).

    Numerator and denominator are seconds. `details` gives each device's seconds and the
    gateway-offline seconds apart; the breakdown lists devices never online in the window
    and devices observed not at all (their gateway was offline throughout).
    """
    span = Window.ending(as_of, window)
    ordered = sorted(devices, key=lambda d: d.device)
    never_online = [d.device for d in ordered if d.observed_s > 0 and d.networked_s == 0]
    unobserved = [d.device for d in ordered if d.observed_s <= 0]
    return IndicatorResult(
        id=INDICATOR_ID,
        numerator=round(sum(d.networked_s for d in ordered), 3),
        denominator=round(sum(max(0.0, d.observed_s) for d in ordered), 3),
        as_of=as_of, window=span, thresholds=thresholds or thresholds_for(LIVE_ID),
        numerator_devices=tuple(d.device for d in ordered if d.networked_s > 0),
        denominator_devices=tuple(d.device for d in ordered if d.observed_s > 0),
        breakdown={"never_online": tuple(never_online), "gateway_offline": tuple(unobserved)},
        unit="%",
        details={
            "gateway_offline_s": sum(d.gateway_offline_s for d in ordered),
            "devices": {d.device: {"online_s": d.online_s, "degraded_s": d.degraded_s,
                                   "refused_s": d.refused_s,
                                   "offline_s": d.offline_s, "unknown_s": d.unknown_s,
                                   "unreported_s": d.unreported_s,
                                   "gateway_offline_s": d.gateway_offline_s,
                                   "observed_s": d.observed_s}
                        for d in ordered},
        })
