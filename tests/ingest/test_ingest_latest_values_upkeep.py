"""What keeps the latest values cheap to maintain: energy readings are folded into their
local (UTC+8) day however their times fall around midnight, and the tables updated at
every batch leave room on their pages, so that updating a row stays on its page."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.latest_values import LOCAL_OFFSET, LatestValues

#: 16:00 UTC is midnight in Shandong: times around it fall on two local days.
MIDNIGHT = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)

offsets = st.integers(min_value=-3 * 86_400_000, max_value=3 * 86_400_000).map(
    lambda ms: timedelta(milliseconds=ms)) | st.sampled_from(
    [timedelta(0), -timedelta(microseconds=1), timedelta(days=1), -timedelta(days=1)])
records = st.lists(st.tuples(st.sampled_from(["m1", "m2"]),
                             st.sampled_from(["energy_kwh", "power_w"]), offsets),
                   max_size=40)


def _by_local_day(rows: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[Any]]:
    """The energy rollup worked out reading by reading, as the definition says."""
    days: dict[tuple[Any, ...], list[Any]] = {}
    for t, c, _, d, m, _ in rows:
        if not m.endswith("_kwh"):
            continue
        local = (t + LOCAL_OFFSET).date()
        key = (c, d, m, datetime.combine(local, time(0), UTC) - LOCAL_OFFSET)
        same_day = [r for r in rows if (r[1], r[3], r[4]) == (c, d, m)
                    and (r[0] + LOCAL_OFFSET).date() == local]
        first = min(same_day, key=lambda r: r[0])
        last = max(same_day, key=lambda r: r[0])
        days[key] = [first[0], first[5], last[0], last[5], len(same_day)]
    return days


@settings(max_examples=300)
@given(records=records)
def test_energy_readings_are_folded_into_their_local_day_around_midnight(
        records: list[tuple[str, str, timedelta]]) -> None:
    # Distinct times per counter, so that "first" and "last" name one reading each.
    seen: set[tuple[str, str, timedelta]] = set()
    rows = []
    for n, (device, metric, offset) in enumerate(records):
        if (device, metric, offset) not in seen:
            seen.add((device, metric, offset))
            rows.append((MIDNIGHT + offset, "demo", "gw1", device, metric, float(n)))
    latest = LatestValues()
    latest.fold_readings(rows)
    assert latest.energy == _by_local_day(rows)


@pytest.mark.integration
async def test_the_tables_updated_at_every_batch_leave_room_on_their_pages(
        migrated: str) -> None:
    conn = await asyncpg.connect(migrated)
    try:
        rows = await conn.fetch(
            "SELECT relname, relkind::text, reloptions FROM pg_class "
            "WHERE relname = ANY($1::text[])",
            ["condition_latest", "device_status", "energy_daily", "gateways",
             "reading_latest"])
    finally:
        await conn.close()
    room = {r["relname"]: r["reloptions"] for r in rows if r["relkind"] == "r"}
    # On TimescaleDB energy_daily is a continuous aggregate, not a table.
    assert room.pop("energy_daily", ["fillfactor=80"]) == ["fillfactor=80"]
    assert room == {"condition_latest": ["fillfactor=50"], "device_status": ["fillfactor=50"],
                    "gateways": ["fillfactor=50"], "reading_latest": ["fillfactor=50"]}
