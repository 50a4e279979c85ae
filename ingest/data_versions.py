"""Per-community data versions, bumped by the writer in the transaction that stores the
data, so the indicator evaluator knows which communities changed (migration 0030).

One upsert per batch, whatever its size, with the communities sorted so that concurrent
writers lock the rows in one order. It runs late in the write transaction (just before
the alarms), so a row lock is held only for the last steps of a commit.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final

_BUMP: Final = """
INSERT INTO community_data_versions AS v (community, version, state_version, changed_at)
SELECT c, 1, s::int, now() FROM unnest($1::text[], $2::bool[]) AS u(c, s)
ON CONFLICT (community) DO UPDATE SET
    version = v.version + 1,
    state_version = v.state_version + EXCLUDED.state_version,
    changed_at = now()
"""


async def bump_data_versions(conn: Any, touched: Collection[str],
                             states: Collection[str]) -> None:
    """Count one more change for each community in `touched`; those also in `states`
    (state changes, events, gateway status) count one more state change too."""
    every = sorted(set(touched) | set(states))
    if every:
        await conn.execute(_BUMP, every, [c in states for c in every])
