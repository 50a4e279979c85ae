"""A database as an older scg left it: the plain migrations applied up to a given one, for
tests of what an upgrade does to existing rows."""

from __future__ import annotations

import asyncpg

from ingest.schema.migrate import PLAIN_DIR, discover


async def migrate_until(dsn: str, last: str) -> None:
    """Apply the plain migrations up to `last`, as an older scg would have."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE schema_migrations (name text PRIMARY KEY, "
                           "checksum text NOT NULL, applied_at timestamptz NOT NULL "
                           "DEFAULT now())")
        for m in discover(PLAIN_DIR):
            if m.name > last:
                break
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute("INSERT INTO schema_migrations VALUES ($1, $2)", m.name,
                                   m.checksum)
    finally:
        await conn.close()
