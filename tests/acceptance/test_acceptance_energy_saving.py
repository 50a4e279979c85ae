"""DB37/T 3890.3 L1P8 judged from the devices: the lights' metered energy (their energy
counters, through the real writer) against rated power × burn hours, beside the smart
lighting rate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from acceptance_support import AS_OF, COMMUNITY, Figures, populate, write

from acceptance.report import build_report
from indicators.energy_saving_load import energy_saving_indicators
from telemetry import Reading

FIGURES = Figures(lights=10, smart_lights=7, households=5, meters_collected=5)


def rated(doc: dict[str, Any]) -> None:
    """60 W lamps burning 12 h a day at full output without smart control."""
    for d in doc["devices"]:
        if d.get("kind") == "light":
            d.update(rated_power_w=60, burn_hours_per_day=12)


async def meter(conn: asyncpg.Connection, used_per_day: dict[str, float],
                days: int = 2) -> None:
    """Each light's energy counter over `days` days, one reading every 6 hours."""
    items = []
    for light, per_day in used_per_day.items():
        for step in range(days * 4 + 1):
            t = AS_OF - timedelta(days=days) + step * timedelta(hours=6)
            items.append(Reading(light, "energy_kwh", t, 100.0 + per_day * step / 4))
    await write(conn, items, AS_OF)


@pytest.fixture
async def conn(migrated: str) -> asyncpg.Connection:
    c = await asyncpg.connect(migrated)
    yield c
    await c.close()


async def test_dimmed_lights_saving_a_quarter_pass_db37_lighting(
        conn: asyncpg.Connection) -> None:
    await populate(conn, FIGURES, edit=rated)
    # Baseline 0.06 kW × 12 h = 0.72 kWh a day per lamp; the dimmed ones use 0.54.
    await meter(conn, {f"light-{n:04d}": 0.54 for n in range(1, 8)})
    [saving] = await energy_saving_indicators(conn, COMMUNITY, AS_OF)
    assert (saving.numerator, saving.denominator, saving.value) == (2.52, 10.08, 25.0)
    assert saving.details["lights"] == {"public": 10, "smart": 7, "counted": 7}
    report = await build_report(conn, COMMUNITY, "db37", now=AS_OF, declarations={})
    row = {r.row.id: r for r in report.rows}["db37-08"]
    assert row.verdict == "pass"
    assert [(m.indicator, m.status, m.value) for m in row.measures] == [
        ("smart_lighting_rate", "pass", 70.0), ("lighting_energy_saving", "pass", 25.0)]
    assert "2.社区路灯、景观灯节能率达到25%（近30天，计入智能照明灯具7个：按额定功率和每日亮灯" \
           "时长计算的基准耗电量10.08千瓦时，智能控制器计量耗电量7.56千瓦时）" in row.text
    assert report.score == 5.0            # L1P8 weighs 5 %
    assert report.indicator_sources["lighting_energy_saving"] == "computed"


async def test_a_saving_below_20_percent_fails_and_a_counter_reset_is_counted(
        conn: asyncpg.Connection) -> None:
    await populate(conn, FIGURES, edit=rated)
    await meter(conn, {f"light-{n:04d}": 0.66 for n in range(1, 7)})
    # light-0007's controller was replaced: its counter restarts from 0 halfway.
    await write(conn, [Reading("light-0007", "energy_kwh", AS_OF - timedelta(days=2), 500.0),
                       Reading("light-0007", "energy_kwh", AS_OF - timedelta(days=1), 500.66),
                       Reading("light-0007", "energy_kwh", AS_OF - timedelta(hours=23), 0.1),
                       Reading("light-0007", "energy_kwh", AS_OF, 0.66)], AS_OF)
    [saving] = await energy_saving_indicators(conn, COMMUNITY, AS_OF)
    assert saving.details["per_light"]["light-0007"]["metered_kwh"] == 1.32
    assert saving.value == 8.3            # 0.66 of 0.72 kWh a day: 8.33 %, truncated
    row = {r.row.id: r for r in (await build_report(
        conn, COMMUNITY, "db37", now=AS_OF, declarations={})).rows}["db37-08"]
    assert row.verdict == "fail"
    assert "社区路灯、景观灯节能率为8.3%，低于20%的要求11.7个百分点" in row.text
    assert "未计入的智能照明灯具" not in row.text      # every smart lamp counted


async def test_the_daily_rollup_gives_the_counter_increase_of_every_reading(
        conn: asyncpg.Connection) -> None:
    """Three days of readings every 2 hours (16:07 Beijing on) with a reset inside a day
    (step 12, 16:07) and one across a Beijing midnight (step 28, 00:07): the energy read
    from energy_daily and the window's two ends equals the sum over consecutive readings,
    resets counted."""
    await populate(conn, FIGURES, edit=rated)
    readings: list[Reading] = []
    value, expected = 50.0, 0.0
    start = AS_OF - timedelta(days=3) + timedelta(minutes=7)
    previous: float | None = None
    for step in range(36):
        t = start + step * timedelta(hours=2)
        value = {12: 0.05, 28: 0.2}.get(step, value + 0.1)   # two controller resets
        if previous is not None:
            expected += value - previous if value >= previous else value
        previous = value
        readings.append(Reading("light-0001", "energy_kwh", t, round(value, 4)))
    await write(conn, readings, AS_OF)
    days = await conn.fetchval("SELECT count(*) FROM energy_daily WHERE device = 'light-0001'")
    assert days >= 3
    [saving] = await energy_saving_indicators(conn, COMMUNITY, AS_OF)
    light = saving.details["per_light"]["light-0001"]
    assert light["metered_kwh"] == round(expected, 3)
    assert light["metered_hours"] == 70.0
