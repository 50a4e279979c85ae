"""Fixtures for the central side's tests (a migrated database, a connection, the sample
inventory), loaded as a plugin by tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from ingest_support import INVENTORY

from ingest.schema.migrate import migrate
from inventory import import_inventory, parse_inventory


@pytest.fixture
async def migrated(database: str) -> str:
    """DSN of this test's database with every migration applied."""
    await migrate(database)
    return database


@pytest.fixture
async def conn(migrated: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(migrated)
    yield c
    await c.close()


@pytest.fixture
async def loaded(migrated: str) -> str:
    """DSN of a migrated database holding the sample inventory (community `demo`)."""
    c = await asyncpg.connect(migrated)
    try:
        await import_inventory(c, parse_inventory(INVENTORY, "sample.yaml"))
    finally:
        await c.close()
    return migrated
