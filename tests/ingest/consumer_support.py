"""An in-process ingest consumer for tests: settings that react fast, a task the test stops
gracefully, and small awaitable predicates for `ingest_support.wait_until`."""

from __future__ import annotations

import asyncio

import asyncpg

from ingest.consumer import Consumer, ConsumerSettings
from scg.localsvc import Mosquitto


def settings(dsn: str, broker: Mosquitto, **kw: object) -> ConsumerSettings:
    """Ingest on `broker` under its own account, reacting fast."""
    login = broker.login("scg-ingest")
    options: dict[str, object] = {"batch_wait": 0.02, "retry_min": 0.05, "retry_max": 0.2,
                                  "username": login.username, "password": login.password}
    options.update(kw)
    return ConsumerSettings(database_url=dsn, broker_host=broker.host, broker_port=broker.port,
                            **options)  # type: ignore[arg-type]


class Running:
    """An in-process consumer task that the test can stop gracefully."""

    def __init__(self, s: ConsumerSettings) -> None:
        self.consumer = Consumer(s)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Consumer:
        self.task = asyncio.create_task(self.consumer.run())
        async with asyncio.timeout(10):
            waiter = asyncio.create_task(self.consumer.wait_subscribed())
            done, _ = await asyncio.wait({waiter, self.task}, return_when=asyncio.FIRST_COMPLETED)
            if self.task in done:
                waiter.cancel()
                self.task.result()  # raises what stopped it
        return self.consumer

    async def __aexit__(self, *exc: object) -> None:
        self.consumer.stop()
        assert self.task is not None
        async with asyncio.timeout(10):
            await self.task


async def count(db: asyncpg.Connection, table: str) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {table}"))


async def eq(value: object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]


async def at_least(value: object, minimum: int) -> bool:
    return await value >= minimum  # type: ignore[misc,operator]


async def true(value: bool) -> bool:
    return value
