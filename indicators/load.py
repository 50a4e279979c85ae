"""The thin SQL layer: load device facts for the pure evaluators and run them (the video
facts live in `video_load`, the meter, charging and fire facts in `field_load`).

Effective states come from the `device_effective_state` view (a device behind an offline
gateway is `unknown`). For an `as_of` in the past, a light seen after `as_of` gets its
last report up to `as_of` from the stored readings and events instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Final

from indicators import availability, charging, energy, energy_saving, lighting
from indicators.availability_load import video_networked_time_rate
from indicators.energy_saving_load import energy_saving_indicators
from indicators.field_load import (
    charging_indicators,
    energy_indicators,
    fire_indicators,
)
from indicators.fire import FIRE_INDICATORS
from indicators.lighting import LightFact, has_smart_controller, smart_lighting_rate
from indicators.model import DEFAULT_WINDOW, IndicatorResult
from indicators.safety_load import SAFETY_INDICATORS, safety_indicators
from indicators.video import VIDEO_INDICATORS
from indicators.video_load import video_indicators

Connection = Any  # asyncpg.Connection; asyncpg ships no type information


async def load_light_facts(conn: Connection, community: str, as_of: datetime,
                           window: timedelta) -> list[LightFact]:
    """The lights of `community` with what the smart-lighting rate needs to know."""
    rows = await conn.fetch(
        """SELECT device, public, protocol, capabilities, state, last_seen
           FROM device_effective_state WHERE community = $1 AND kind = 'light'
           ORDER BY device""", community)
    last_seen: dict[str, datetime | None] = {r["device"]: r["last_seen"] for r in rows}
    later = [d for d, t in last_seen.items() if t is not None and t > as_of]
    if later:
        history = await conn.fetch(
            """SELECT device, max(time) AS seen FROM (
                   SELECT device, time FROM readings
                   WHERE community = $1 AND device = ANY($2) AND time >= $3 AND time <= $4
                   UNION ALL
                   SELECT device, time FROM events
                   WHERE community = $1 AND device = ANY($2) AND time >= $3 AND time <= $4
               ) seen GROUP BY device""", community, later, as_of - window, as_of)
        found = {r["device"]: r["seen"] for r in history}
        for device in later:
            last_seen[device] = found.get(device)
    return [LightFact(id=r["device"], public=r["public"],
                      has_controller=has_smart_controller(r["protocol"], r["capabilities"]),
                      state=r["state"], last_seen=last_seen[r["device"]])
            for r in rows]


async def _lighting(conn: Connection, community: str, as_of: datetime,
                    window: timedelta) -> IndicatorResult:
    facts = await load_light_facts(conn, community, as_of, window)
    return smart_lighting_rate(facts, as_of, window)


async def _lighting_group(conn: Connection, community: str, as_of: datetime,
                          window: timedelta | None) -> list[IndicatorResult]:
    return [await _lighting(conn, community, as_of, window or DEFAULT_WINDOW)]


async def _networked_time_group(conn: Connection, community: str, as_of: datetime,
                                window: timedelta | None) -> list[IndicatorResult]:
    return [await video_networked_time_rate(conn, community, as_of, window)]


async def _video_group(conn: Connection, community: str, as_of: datetime,
                       window: timedelta | None) -> list[IndicatorResult]:
    return await video_indicators(conn, community, as_of, window or DEFAULT_WINDOW)


#: Evaluates a group of indicators that share their facts (loaded once per group). A
#: window of None means each indicator's own default (24 h; energy 48 h; charging, e-bike
#: alarms and SOS responses 7 days).
Group = Callable[[Connection, str, datetime, timedelta | None],
                 Awaitable[list[IndicatorResult]]]

#: The measured indicators computed so far, in the order the API returns them: lighting,
#: video, then the rest in docs/indicators.md order. New groups go at the end: the
#: windowed networked rate (online time ÷ observed time over 7 days, beside the live
#: `video_networked_rate`) and DB37/T 3890.3's lighting energy saving (kWh).
GROUPS: Final[tuple[tuple[tuple[str, ...], Group], ...]] = (
    ((lighting.INDICATOR_ID,), _lighting_group),
    (VIDEO_INDICATORS, _video_group),
    ((energy.INDICATOR_ID,), energy_indicators),
    ((charging.INDICATOR_ID,), charging_indicators),
    (FIRE_INDICATORS, fire_indicators),
    (SAFETY_INDICATORS, safety_indicators),
    ((availability.INDICATOR_ID,), _networked_time_group),
    ((energy_saving.INDICATOR_ID,), energy_saving_indicators),
)
INDICATOR_IDS: Final = tuple(ident for ids, _ in GROUPS for ident in ids)


async def compute_indicators(conn: Connection, community: str, as_of: datetime,
                             window: timedelta | None = None) -> list[IndicatorResult]:
    """Every measured indicator of `community` at `as_of`, in INDICATOR_IDS order.

    `window` applies to every windowed indicator; None gives each its own default.
    """
    out: list[IndicatorResult] = []
    for _, group in GROUPS:
        out.extend(await group(conn, community, as_of, window))
    return out

