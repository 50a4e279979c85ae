"""`scg db maintain` ages the indicator history: every recording for
`--keep-hourly-history`, then the first recording of each Beijing day, and none past
`--keep-history`; the settings are stored like the others."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from ingest.maintenance import maintain
from ingest.schema.storage import load_settings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)          # 12:00 in Beijing


async def record(conn: asyncpg.Connection, at: datetime) -> None:
    await conn.executemany(
        """INSERT INTO indicator_history (community, indicator, recorded_at, value, numerator,
                                          denominator, status, result)
           VALUES ('demo', $1, $2, 50, 1, 2, '{}', $3::jsonb)""",
        [(ident, at, json.dumps({"id": ident})) for ident in ("a", "b")])


async def test_old_recordings_are_thinned_to_the_first_of_each_beijing_day(
        loaded: str) -> None:
    conn = await asyncpg.connect(loaded)
    try:
        # Hourly for the 4 days before NOW (Beijing days start at 16:00 UTC).
        hours = [NOW - timedelta(hours=h) for h in range(1, 4 * 24 + 1)]
        for at in hours:
            await record(conn, at)
        report = await maintain(loaded, {"storage.retention.hourly_history": "2d"}, now=NOW)
        kept = [r["recorded_at"] for r in await conn.fetch(
            "SELECT recorded_at FROM indicator_history WHERE indicator = 'a' "
            "ORDER BY recorded_at")]
        horizon = NOW - timedelta(days=2)
        recent = sorted(t for t in hours if t >= horizon)
        # Before the horizon, the first hour of each Beijing day (16:00 UTC the day before):
        # of 27 Nov the oldest recording (04:00 UTC), of 28 and 29 Nov their first hours.
        assert kept == [datetime(2026, 11, 27, 4, tzinfo=UTC),
                        datetime(2026, 11, 27, 16, tzinfo=UTC),
                        datetime(2026, 11, 28, 16, tzinfo=UTC), *recent]
        assert report.deleted["indicator_history (thinned to daily)"] == \
            2 * (len(hours) - len(kept))
        # Past --keep-history nothing is kept; the settings were stored.
        await maintain(loaded, {"storage.retention.history": "3d"}, now=NOW)
        oldest = await conn.fetchval("SELECT min(recorded_at) FROM indicator_history")
        assert oldest >= NOW - timedelta(days=3)
        settings = await load_settings(conn)
        assert (settings.hourly_history_retention, settings.history_retention) == (
            timedelta(days=2), timedelta(days=3))
    finally:
        await conn.close()
