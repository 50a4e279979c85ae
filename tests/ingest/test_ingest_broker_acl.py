"""Only a device's own gateway speaks for it: on a real mosquitto running the shipped
scg.conf with what `scg broker config` wrote from two communities' inventories, a
gateway's account cannot publish into another gateway's or another community's topics
(even one with the same gateway id), nor read their commands; ingest reads everything;
re-running keeps passwords and a rotation changes exactly one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from central_broker import (
    NOT_AUTHORIZED,
    CentralBroker,
    Client,
    broker_config,
    central_broker,
    inventory,
    wait_for,
)

pytestmark = pytest.mark.integration
STREAMS = ("telemetry", "events", "state", "meta", "status")


@dataclass
class County:
    broker: CentralBroker
    files: Path
    inventories: tuple[Path, ...]


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    """Community demo with gateways demo-gw1 and demo-gw2, community north with a gateway
    also called demo-gw1."""
    inventories = (inventory(tmp_path, "demo", ["demo-gw1", "demo-gw2"]),
                   inventory(tmp_path, "north", ["demo-gw1"]))
    files = tmp_path / "broker-files"
    broker_config(files, *inventories)
    with central_broker(tmp_path, files) as broker:
        yield County(broker, files, inventories)


@pytest.fixture
def ingest(county: County) -> Iterator[Client]:
    client = Client(county.broker, "scg-ingest")
    assert client.subscribe("scg/v1/#") == 1
    yield client
    client.close()


def test_a_gateway_publishes_every_stream_of_its_own_and_ingest_hears_each(
        county: County, ingest: Client) -> None:
    gw1 = Client(county.broker, "demo/demo-gw1")
    try:
        codes = [gw1.publish(f"scg/v1/demo/demo-gw1/{stream}") for stream in STREAMS]
        assert codes == [0] * len(STREAMS)
        assert wait_for(lambda: len(ingest.heard()) == len(STREAMS))
        assert ingest.heard() == [f"scg/v1/demo/demo-gw1/{s}" for s in STREAMS]
    finally:
        gw1.close()


def test_a_gateway_cannot_publish_for_another_gateway_or_community(
        county: County, ingest: Client) -> None:
    gw1 = Client(county.broker, "demo/demo-gw1")
    try:
        refused = ["scg/v1/demo/demo-gw2/telemetry",      # its neighbour
                   "scg/v1/demo/demo-gw2/status",         # the neighbour's birth / last will
                   "scg/v1/north/demo-gw1/telemetry",     # same gateway id, other community
                   "scg/v1/demo/demo-gw1/cmd/light-001",  # a command to itself
                   "scg/v1/demo/demo-gw1/telemetry/x",    # below its streams
                   "scg/v1/demo/demo-gw1"]
        assert {topic: gw1.publish(topic) for topic in refused} == \
            dict.fromkeys(refused, NOT_AUTHORIZED)
        # The broker delivers one client's messages in order: once this one arrives,
        # anything refused above would have arrived before it.
        assert gw1.publish("scg/v1/demo/demo-gw1/telemetry") == 0
        assert wait_for(lambda: bool(ingest.heard()))
        assert ingest.heard() == ["scg/v1/demo/demo-gw1/telemetry"]
    finally:
        gw1.close()


def test_a_gateway_reads_only_the_commands_addressed_to_it(
        county: County, ingest: Client) -> None:
    accounts = ("demo/demo-gw1", "demo/demo-gw2", "north/demo-gw1")
    gateways = {name: Client(county.broker, name) for name in accounts}
    try:
        for client in gateways.values():
            client.subscribe("scg/v1/#")  # asks for everything; the ACL filters delivery
        for name in accounts:
            assert ingest.publish(f"scg/v1/{name}/cmd/light-001") == 0
        for name, client in gateways.items():
            assert wait_for(lambda c=client: bool(c.heard())), name
        # Ingest's commands go out in order; each gateway saw its own, and a telemetry
        # message sent after them by demo-gw2 reaches none of the others either.
        assert gateways["demo/demo-gw2"].publish("scg/v1/demo/demo-gw2/telemetry") == 0
        assert wait_for(lambda: "scg/v1/demo/demo-gw2/telemetry" in ingest.heard())
        assert {name: c.heard() for name, c in gateways.items()} == {
            name: [f"scg/v1/{name}/cmd/light-001"] for name in accounts}
    finally:
        for client in gateways.values():
            client.close()


def test_ingest_reads_every_gateway_of_every_community(
        county: County, ingest: Client) -> None:
    senders = {name: Client(county.broker, name)
               for name in ("demo/demo-gw1", "demo/demo-gw2", "north/demo-gw1")}
    try:
        for name, client in senders.items():
            assert client.publish(f"scg/v1/{name}/state") == 0
        assert wait_for(lambda: len(ingest.heard()) == 3)
        assert sorted(ingest.heard()) == sorted(f"scg/v1/{n}/state" for n in senders)
    finally:
        for client in senders.values():
            client.close()


def test_rerunning_keeps_passwords_and_rotation_changes_only_one(county: County) -> None:
    names = ("scg-ingest", "demo/demo-gw1", "demo/demo-gw2", "north/demo-gw1")
    before = {name: county.broker.password(name) for name in names}
    out = broker_config(county.files, *county.inventories)
    assert "kept: 4 unchanged" in out
    assert {name: county.broker.password(name) for name in names} == before

    holder = Client(county.broker, "demo/demo-gw2")  # connected with the old password
    neighbour = Client(county.broker, "demo/demo-gw1")
    out = broker_config(county.files, *county.inventories, rotate=("demo-gw2",))
    assert "rotated: demo/demo-gw2" in out
    after = {name: county.broker.password(name) for name in names}
    assert after["demo/demo-gw2"] != before["demo/demo-gw2"]
    assert {n: p for n, p in after.items() if n != "demo/demo-gw2"} == \
        {n: p for n, p in before.items() if n != "demo/demo-gw2"}

    county.broker.reload()  # systemctl reload mosquitto
    assert wait_for(lambda: not holder.client.is_connected()), "the old session was kept"
    assert neighbour.client.is_connected()
    old = Client(county.broker, "demo/demo-gw2", password=before["demo/demo-gw2"])
    new = Client(county.broker, "demo/demo-gw2")
    others = [Client(county.broker, name) for name in names if name != "demo/demo-gw2"]
    try:
        assert old.connack is not None and old.connack.value == NOT_AUTHORIZED
        assert new.accepted
        assert all(c.accepted for c in others)
    finally:
        for client in (old, new, *others, holder, neighbour):
            client.close()


def test_a_gateway_removed_from_the_inventories_loses_its_account(county: County) -> None:
    out = broker_config(county.files, county.inventories[0])  # north is no longer listed
    assert "removed (in no inventory): north/demo-gw1" in out
    assert not (county.files / "credentials" / "north").exists()
    password = (county.files / "passwd").read_text()
    county.broker.reload()
    gone = Client(county.broker, "north/demo-gw1", password="anything")
    try:
        assert "north/demo-gw1:" not in password
        assert gone.connack is not None and gone.connack.is_failure
    finally:
        gone.close()
