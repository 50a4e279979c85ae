"""Smart-lighting installation rate (智能照明设施安装率), as a pure function of light facts.

Numerator: public lights with a controller offering at least one smart function (auto
dimming, remote control, fault reporting) whose effective state is online or degraded
and that reported within the window. Denominator: public lights in the inventory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from indicators.model import DEFAULT_WINDOW, IndicatorResult, Thresholds, Window
from indicators.thresholds import thresholds_for

INDICATOR_ID: Final = "smart_lighting_rate"
#: Inventory capabilities that make a controller "smart" in the seed's definition:
#: 自动亮度调节、远程照明控制、故障主动报警.
SMART_FUNCTIONS: Final = frozenset({"dimming", "remote_control", "fault_report"})
_REPORTING: Final = frozenset({"online", "degraded"})  # degraded still answers


@dataclass(frozen=True, slots=True)
class LightFact:
    """What the indicator needs to know about one light.

    `state` is the effective state (online, degraded, offline, unknown, unmonitored);
    `last_seen` the latest time the light itself reported, or None.
    """

    id: str
    public: bool
    has_controller: bool
    state: str
    last_seen: datetime | None


def has_smart_controller(protocol: str | None, capabilities: Iterable[str]) -> bool:
    """A controller is present (some protocol reaches the light) with a smart function."""
    return protocol is not None and not SMART_FUNCTIONS.isdisjoint(capabilities)


def smart_lighting_rate(lights: Sequence[LightFact], as_of: datetime,
                        window: timedelta = DEFAULT_WINDOW,
                        thresholds: Thresholds | None = None) -> IndicatorResult:
    """Evaluate the indicator at `as_of` over the `window` before it.

    Breakdown of the public lights not counted: `plain` (no smart controller), `unknown`
    (state unknown: the gateway is offline or never said), `silent` (a controller that is
    offline or did not report within the window). Lights not public are listed under
    `not_public` and are in neither count.
    """
    span = Window.ending(as_of, window)
    counted: list[str] = []
    public: list[str] = []
    breakdown: dict[str, list[str]] = {"plain": [], "silent": [], "unknown": [],
                                       "not_public": []}
    for light in sorted(lights, key=lambda x: x.id):
        if not light.public:
            breakdown["not_public"].append(light.id)
            continue
        public.append(light.id)
        if not light.has_controller:
            breakdown["plain"].append(light.id)
        elif light.state == "unknown":
            breakdown["unknown"].append(light.id)
        elif light.state in _REPORTING and span.contains(light.last_seen):
            counted.append(light.id)
        else:
            breakdown["silent"].append(light.id)
    return IndicatorResult(
        id=INDICATOR_ID, numerator=len(counted), denominator=len(public), as_of=as_of,
        window=span, thresholds=thresholds or thresholds_for(INDICATOR_ID),
        numerator_devices=tuple(counted), denominator_devices=tuple(public),
        breakdown={reason: tuple(ids) for reason, ids in breakdown.items()})
