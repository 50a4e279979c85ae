"""Load the lights' facts for the energy saving (DB37/T 3890.3) and run it.

A light's metered energy is the increase of its `energy_kwh` counter from its first
reading in the window to its last one at or before as_of (a counter that goes down was
reset, and its new value is what it counted since). It is read from the daily energy
rollup (`energy_daily`: first and last reading per counter and local day; a table the
writer keeps on plain PostgreSQL, a continuous aggregate on TimescaleDB), not by scanning
a month of readings:

- the window's two ends are one index probe each per light (the first reading after the
  window starts, the last one at or before as_of), so the span is exact to the reading;
- between them, the days' first and last readings are chained: across midnight they are
  consecutive readings, so a reset there is seen exactly;
- within a day, a counter that ends below where it started was reset that day: that day
  alone is read from the readings. A reset after which the counter climbs back past its
  value at the start of the day cannot be told from the rollup; the day then counts only
  its net increase (a controller replaced and run past its predecessor's count in one
  day — README, "Energy saving", says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, Final

from indicators.energy_saving import (
    ENERGY_METRIC,
    ENERGY_SAVING_WINDOW,
    LightEnergyFact,
    lighting_energy_saving,
)
from indicators.lighting import has_smart_controller
from indicators.model import IndicatorResult

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
#: China Standard Time: energy_daily's days are Shandong's local days.
LOCAL_OFFSET: Final = timedelta(hours=8)
#: One counter reading: (time, value).
Point = tuple[datetime, float]

_ENDS: Final = """
SELECT l.id, f.time AS first_time, f.value AS first_value,
       z.time AS last_time, z.value AS last_value
FROM unnest($2::text[]) AS l(id)
JOIN LATERAL (
    SELECT time, value FROM readings
    WHERE community = $1 AND device = l.id AND metric = $3 AND time > $4 AND time <= $5
      AND value >= 0 AND value < 'Infinity'::float8
    ORDER BY time LIMIT 1) f ON true
JOIN LATERAL (
    SELECT time, value FROM readings
    WHERE community = $1 AND device = l.id AND metric = $3 AND time > $4 AND time <= $5
      AND value >= 0 AND value < 'Infinity'::float8
    ORDER BY time DESC LIMIT 1) z ON true
"""

_DAYS: Final = """
SELECT device, first_time, first_value, last_time, last_value FROM energy_daily
WHERE community = $1 AND device = ANY($2) AND metric = $3 AND day >= $4 AND day <= $5
ORDER BY device, day
"""

_RAW_SPAN: Final = """
SELECT coalesce(sum(CASE WHEN previous IS NULL THEN 0
                         WHEN value >= previous THEN value - previous
                         ELSE value END), 0) AS kwh
FROM (SELECT value, lag(value) OVER (ORDER BY time) AS previous FROM readings
      WHERE community = $1 AND device = $2 AND metric = $3 AND time >= $4 AND time <= $5
        AND value >= 0 AND value < 'Infinity'::float8) counter
"""


def _local_day(t: datetime) -> Any:
    return (t + LOCAL_OFFSET).date()


async def _metered_kwh(conn: Connection, community: str, device: str,
                       points: Sequence[Point]) -> float:
    """The counter's increase along `points` (time order), resets counted."""
    total = 0.0
    for (ta, va), (tb, vb) in pairwise(points):
        if vb >= va:
            total += vb - va
        elif _local_day(ta) == _local_day(tb):
            # Reset inside one day: readings between the two points are unknown here.
            total += float(await conn.fetchval(_RAW_SPAN, community, device, ENERGY_METRIC,
                                               ta, tb))
        else:
            total += vb  # consecutive readings across midnight: counted since the reset
    return total


async def load_light_energy_facts(conn: Connection, community: str, as_of: datetime,
                                  window: timedelta) -> list[LightEnergyFact]:
    """Every light of `community` with its registered baseline and its metered energy in
    `(as_of - window, as_of]`."""
    lights = await conn.fetch(
        """SELECT id, public, protocol, capabilities, rated_power_w, burn_hours_per_day
           FROM devices WHERE community = $1 AND kind = 'light' ORDER BY id""", community)
    counted = [r["id"] for r in lights
               if has_smart_controller(r["protocol"], r["capabilities"])
               and r["rated_power_w"] is not None and r["burn_hours_per_day"] is not None]
    start = as_of - window
    ends = {r["id"]: r for r in await conn.fetch(
        _ENDS, community, counted, ENERGY_METRIC, start, as_of)}
    days: dict[str, list[Point]] = {}
    if ends:
        for r in await conn.fetch(_DAYS, community, list(ends), ENERGY_METRIC,
                                  start - timedelta(days=1), as_of):
            days.setdefault(r["device"], []).extend(
                [(r["first_time"], r["first_value"]), (r["last_time"], r["last_value"])])
    out: list[LightEnergyFact] = []
    for r in lights:
        e = ends.get(r["id"])
        kwh: float | None = None
        if e is not None:
            first: Point = (e["first_time"], e["first_value"])
            last: Point = (e["last_time"], e["last_value"])
            inner = sorted({p for p in days.get(r["id"], ()) if first[0] < p[0] < last[0]})
            kwh = await _metered_kwh(conn, community, r["id"], [first, *inner, last])
        out.append(LightEnergyFact(
            id=r["id"], public=r["public"],
            has_controller=has_smart_controller(r["protocol"], r["capabilities"]),
            rated_power_w=r["rated_power_w"], burn_hours_per_day=r["burn_hours_per_day"],
            metered_kwh=kwh, metered_from=None if e is None else e["first_time"],
            metered_to=None if e is None else e["last_time"]))
    return out


async def energy_saving_indicators(conn: Connection, community: str, as_of: datetime,
                                   window: timedelta | None = None) -> list[IndicatorResult]:
    """The energy saving of `community` at `as_of` (default window 30 days), in the shape
    of `indicators.load.GROUPS`."""
    span = window or ENERGY_SAVING_WINDOW
    facts = await load_light_energy_facts(conn, community, as_of, span)
    return [lighting_energy_saving(facts, as_of, span)]
