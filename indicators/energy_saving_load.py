"""Load the lights' facts for the energy saving (DB37/T 3890.3) and run it.

A stand-in loader kept apart so it can be swapped: it sums each light's `energy_kwh`
counter increases in the window straight from `readings` (a counter that goes down was
reset, and its new value is what it counted since). Daily energy rollups will replace the
scan of history with a read of one row per light and day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from indicators.energy_saving import (
    ENERGY_METRIC,
    ENERGY_SAVING_WINDOW,
    LightEnergyFact,
    lighting_energy_saving,
)
from indicators.lighting import has_smart_controller
from indicators.model import IndicatorResult

Connection = Any  # asyncpg.Connection; asyncpg ships no type information


async def load_light_energy_facts(conn: Connection, community: str, as_of: datetime,
                                  window: timedelta) -> list[LightEnergyFact]:
    """Every light of `community` with its registered baseline and its metered energy in
    `(as_of - window, as_of]`."""
    lights = await conn.fetch(
        """SELECT id, public, protocol, capabilities, rated_power_w, burn_hours_per_day
           FROM devices WHERE community = $1 AND kind = 'light' ORDER BY id""", community)
    used = {r["device"]: r for r in await conn.fetch(
        """SELECT device, min(time) AS first, max(time) AS last,
                  sum(CASE WHEN previous IS NULL THEN 0
                           WHEN value >= previous THEN value - previous
                           ELSE value END) AS kwh
           FROM (SELECT device, time, value,
                        lag(value) OVER (PARTITION BY device ORDER BY time) AS previous
                 FROM readings
                 WHERE community = $1 AND device = ANY($2) AND metric = $3
                   AND time > $4 AND time <= $5
                   AND value >= 0 AND value < 'Infinity'::float8) counter
           GROUP BY device""",
        community, [r["id"] for r in lights], ENERGY_METRIC, as_of - window, as_of)}
    out: list[LightEnergyFact] = []
    for r in lights:
        u = used.get(r["id"])
        out.append(LightEnergyFact(
            id=r["id"], public=r["public"],
            has_controller=has_smart_controller(r["protocol"], r["capabilities"]),
            rated_power_w=r["rated_power_w"], burn_hours_per_day=r["burn_hours_per_day"],
            metered_kwh=None if u is None else float(u["kwh"]),
            metered_from=None if u is None else u["first"],
            metered_to=None if u is None else u["last"]))
    return out


async def energy_saving_indicators(conn: Connection, community: str, as_of: datetime,
                                   window: timedelta | None = None) -> list[IndicatorResult]:
    """The energy saving of `community` at `as_of` (default window 30 days), in the shape
    of `indicators.load.GROUPS` so it can join them."""
    span = window or ENERGY_SAVING_WINDOW
    facts = await load_light_energy_facts(conn, community, as_of, span)
    return [lighting_energy_saving(facts, as_of, span)]
