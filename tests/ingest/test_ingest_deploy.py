"""The shipped broker configuration on a real mosquitto, with the password file and ACL
`scg broker config` wrote: anonymous and wrong logins are refused, ingest subscribes
(plain and shared) and consumes what a gateway publishes under its own topics."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from central_broker import (
    CentralBroker,
    Client,
    broker_config,
    central_broker,
    inventory,
    wait_for,
)
from ingest_support import envelope, reading, wait_until

from ingest.consumer import Consumer, ConsumerSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[CentralBroker]:
    files = tmp_path / "broker-files"
    broker_config(files, inventory(tmp_path, "demo", ["demo-gw1", "demo-gw2"]))
    with central_broker(tmp_path, files) as broker:
        yield broker


@pytest.mark.parametrize("topic_filter", ["scg/v1/+/+/+", "$share/scg-ingest/scg/v1/+/+/+"])
def test_ingest_subscribes_plain_and_shared_and_hears_a_gateway(
        secured_broker: CentralBroker, topic_filter: str) -> None:
    ingest = Client(secured_broker, "scg-ingest")
    gw1 = Client(secured_broker, "demo/demo-gw1")
    try:
        assert ingest.subscribe(topic_filter) == 1
        assert gw1.publish("scg/v1/demo/demo-gw1/telemetry") == 0
        assert wait_for(lambda: ingest.heard() == ["scg/v1/demo/demo-gw1/telemetry"])
    finally:
        gw1.close()
        ingest.close()


def test_anonymous_and_wrong_password_clients_are_refused(
        secured_broker: CentralBroker) -> None:
    wrong = Client(secured_broker, "demo/demo-gw1", password="wrong")
    anonymous = Client(secured_broker, "", password="")
    right = Client(secured_broker, "demo/demo-gw1")
    try:
        assert wrong.connack is not None and wrong.connack.value == 135  # not authorised
        assert anonymous.connack is not None and anonymous.connack.is_failure
        assert right.accepted
    finally:
        for c in (wrong, anonymous, right):
            c.close()


async def test_ingest_consumes_through_the_generated_acl(secured_broker: CentralBroker,
                                                         migrated: str) -> None:
    consumer = Consumer(ConsumerSettings(
        database_url=migrated, broker_port=secured_broker.port, username="scg-ingest",
        password=secured_broker.password("scg-ingest"), batch_wait=0.02))
    task = asyncio.create_task(consumer.run())
    gw1 = Client(secured_broker, "demo/demo-gw1")
    conn = await asyncpg.connect(migrated)
    try:
        async with asyncio.timeout(10):
            await consumer.wait_subscribed()
        gw1.client.publish("scg/v1/demo/demo-gw1/telemetry",
                           envelope(1, [reading("light-001")]), qos=1)

        async def stored() -> bool:
            return bool(await conn.fetchval("SELECT count(*) FROM readings"))
        await wait_until(stored, what="the reading published by demo/demo-gw1")
    finally:
        gw1.close()
        await conn.close()
        consumer.stop()
        await asyncio.wait_for(task, 10)

