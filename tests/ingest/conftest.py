"""Fixtures of the ingest tests: a publisher on the test's broker (logged in as gateway
demo/demo-gw1), a database connection, and — in place of the suite's `migrated` — a
migrated database whose register holds the sample inventory and a few more lights and
a panel these tests send for (community demo, gateways demo-gw1 and demo-gw2): ingest
writes only what the register lets a gateway report (`ingest.register`). `unregistered`
is a migrated database with an empty register."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from broker_support import login_args
from ingest_support import Publisher
from register_support import REGISTER

from ingest.schema.migrate import migrate
from inventory import import_inventory, parse_inventory
from scg.localsvc import Mosquitto


@pytest.fixture
async def unregistered(database: str) -> str:
    """DSN of a migrated database whose register is empty (no inventory imported)."""
    await migrate(database)
    return database


@pytest.fixture
async def migrated(unregistered: str) -> str:
    """DSN of a migrated database holding `REGISTER`: its devices are what the gateways
    of these tests may report."""
    c = await asyncpg.connect(unregistered)
    try:
        await import_inventory(c, parse_inventory(REGISTER, "register.yaml"))
    finally:
        await c.close()
    return unregistered


@pytest.fixture
def publisher(broker: Mosquitto) -> Iterator[Publisher]:
    p = Publisher(broker.host, broker.port, **login_args(broker, "demo/demo-gw1"))
    yield p
    p.close()


@pytest.fixture
async def db(migrated: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(migrated)
    yield c
    await c.close()
