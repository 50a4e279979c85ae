"""Fixtures of the consumer tests: a publisher on the test's broker (logged in as gateway
demo/demo-gw1), a database connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from broker_support import login_args
from ingest_support import Publisher

from scg.localsvc import Mosquitto


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
