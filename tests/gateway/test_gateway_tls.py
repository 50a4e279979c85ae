"""The uplink over TLS to a TLS-only mosquitto whose CA the test makes: with mutual TLS a
gateway reaches it and its readings reach ingest (over TLS too); without a client
certificate, with a client certificate of another CA, or trusting another CA, it is
refused and says which setting to change."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import aiomqtt
import asyncpg
import pytest
from gateway_support import FakeDriver, config_dict, running, wait_until, write_config
from tls_support import Issued, TestCA

from gateway.app import Gateway
from gateway.config import UplinkConfig, UplinkTls, load_config
from gateway.spool import Spool
from gateway.uplink import Uplink
from ingest.consumer import Consumer, ConsumerSettings
from inventory import import_inventory, parse_inventory
from scg.broker.accounts import gateway_account, ingest_account
from scg.localsvc import ListenerTls, Mosquitto
from telemetry.tls import client_context

pytestmark = pytest.mark.integration

INVENTORY = """\
community: {id: demo, name: 演示社区, district: "370102"}
devices:
  - {id: dev-1, kind: light, gateway: gw1, protocol: mqtt, address: addr-1}
"""


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "pki")


@pytest.fixture
def tls_broker(tmp_path: Path, ca: TestCA) -> Iterator[Mosquitto]:
    """A broker whose only listener is TLS and asks every client for a certificate."""
    server = ca.server()
    with Mosquitto(tmp_path / "tls-broker", tls=ListenerTls(
            ca.ca_file, server.cert_file, server.key_file, require_certificate=True)) as mq:
        yield mq


def uplink_to(broker: Mosquitto, tmp_path: Path, tls: UplinkTls | None) -> Uplink:
    login = broker.login("demo/gw1")
    config = UplinkConfig(host="127.0.0.1", port=broker.port, client_id="scg-gw-demo-gw1",
                          username=login.username, password=login.password, tls=tls,
                          reconnect_min=0.05, reconnect_max=0.2, publish_timeout=5)
    return Uplink(config, "demo", "gw1", Spool(tmp_path / "spool.sqlite", 1 << 20))


def _reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the uplink said when it went down, and each time its reason changed since."""
    said = []
    for record in caplog.records:
        message = record.getMessage()
        if record.name == "gateway.uplink" and " is down: " in message:
            said.append(message.split(" is down: ", 1)[1].split("; retrying with backoff")[0])
        elif record.name == "gateway.uplink" and " is still down, now: " in message:
            said.append(message.split(" is still down, now: ", 1)[1])
    return said


async def refusal(uplink: Uplink, caplog: pytest.LogCaptureFixture,
                  until: Callable[[str], bool] = lambda _: True) -> str:
    """The first reason the uplink logs that `until` accepts, once it has failed a few
    times.

    Under TLS 1.3 the broker judges a client certificate after the handshake; whether its
    alert or only its close reaches the client first is a race, so a test that wants the
    alert's reason waits for an attempt that saw it (the others log the EOF explanation).
    """
    caplog.set_level(logging.INFO, logger="gateway.uplink")
    async with running(uplink):
        # Refused at the handshake, or just after it: never waits out a timeout.
        try:
            await wait_until(lambda: uplink._attempts >= 3
                             and any(map(until, _reasons(caplog))),
                             within=10, what="three refusals, one of them as expected")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the uplink said {_reasons(caplog)}") from None
        assert not uplink.connected
    return next(filter(until, _reasons(caplog)))


async def test_a_gateway_with_mutual_tls_reaches_ingest_through_a_tls_only_broker(
        tls_broker: Mosquitto, ca: TestCA, tmp_path: Path, migrated: str,
        fake_driver: type[FakeDriver]) -> None:
    gateway_cert, ingest_cert = ca.client("demo/gw1"), ca.client("scg-ingest")
    password_file = tmp_path / "uplink.password"
    password_file.write_text(tls_broker.login("demo/gw1").password + "\n")
    doc = config_dict(tls_broker.port, devices=1, drivers={"fake": {"interval": 0.05}})
    doc["uplink"].update(username="demo/gw1", password_file=str(password_file), tls={
        "ca_file": str(ca.ca_file), "cert_file": str(gateway_cert.cert_file),
        "key_file": str(gateway_cert.key_file)})
    gateway = Gateway(load_config(write_config(tmp_path, doc)))
    assert gateway.config.uplink.tls == UplinkTls(ca.ca_file, gateway_cert.cert_file,
                                                  gateway_cert.key_file)
    db = await asyncpg.connect(migrated)
    try:
        await import_inventory(db, parse_inventory(INVENTORY))
        login = tls_broker.login("scg-ingest")
        ingest = Consumer(ConsumerSettings(
            database_url=migrated, broker_port=tls_broker.port, username=login.username,
            password=login.password, batch_wait=0.02, tls_ca_file=str(ca.ca_file),
            tls_cert_file=str(ingest_cert.cert_file), tls_key_file=str(ingest_cert.key_file)))
        consuming = asyncio.create_task(ingest.run())
        try:
            async with asyncio.timeout(10):
                await ingest.wait_subscribed()
            async with running(gateway):
                stored = 0
                for _ in range(500):  # poll up to 10 s
                    stored = await db.fetchval(
                        "SELECT count(*) FROM readings WHERE device = 'dev-1'")
                    if stored >= 3:
                        break
                    await asyncio.sleep(0.02)
                assert stored >= 3, "dev-1's readings did not reach the database"
        finally:
            ingest.stop()
            await asyncio.wait_for(consuming, 10)
        gateways = await db.fetch("SELECT community, gateway FROM received_envelopes "
                                  "GROUP BY 1, 2")
        assert [tuple(r) for r in gateways] == [("demo", "gw1")]
    finally:
        await db.close()


async def test_the_tls_listener_refuses_plain_mqtt(
        tls_broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    reason = await refusal(uplink_to(tls_broker, tmp_path, None), caplog)
    assert reason == "failed to receive on socket: [Errno 104] Connection reset by peer"


async def test_a_gateway_without_a_client_certificate_is_told_to_set_one(
        tls_broker: Mosquitto, ca: TestCA, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    reason = await refusal(uplink_to(tls_broker, tmp_path, UplinkTls(ca.ca_file)), caplog,
                           until=lambda said: "EOF" not in said)
    assert reason.startswith("the broker requires a client certificate (")
    assert reason.endswith("): set uplink.tls.cert_file and uplink.tls.key_file to a "
                           "certificate signed by the CA the broker trusts")


async def test_a_broker_certificate_of_another_ca_is_refused_naming_ca_file(
        tls_broker: Mosquitto, ca: TestCA, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    other = TestCA(tmp_path / "other-pki", "other CA")
    mine = ca.client("demo/gw1")
    reason = await refusal(uplink_to(tls_broker, tmp_path, UplinkTls(
        other.ca_file, mine.cert_file, mine.key_file)), caplog)
    assert reason.startswith("the broker's certificate was not accepted ([SSL: "
                             "CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    assert reason.endswith("): it must be signed by the CA in uplink.tls.ca_file and issued "
                           "for the host name or address the client connects to")


async def test_a_client_certificate_of_another_ca_is_refused_naming_cert_file(
        tls_broker: Mosquitto, ca: TestCA, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    stranger: Issued = TestCA(tmp_path / "other-pki", "other CA").client("demo/gw1")
    reason = await refusal(uplink_to(tls_broker, tmp_path, UplinkTls(
        ca.ca_file, stranger.cert_file, stranger.key_file)), caplog,
        until=lambda said: "EOF" not in said)
    assert all("uplink.tls.cert_file" in said for said in _reasons(caplog)), \
        _reasons(caplog)
    assert reason.startswith("the broker refused the client certificate in "
                             "uplink.tls.cert_file (")
    assert "unknown ca" in reason.lower()


async def test_the_certificate_names_the_account_where_the_broker_uses_it(
        tmp_path: Path, ca: TestCA) -> None:
    """use_identity_as_username: no password; the certificate's CN is the account, and the
    ACL of demo/gw1 applies to it."""
    server = ca.server()
    cert, reader = ca.client("demo/gw1"), ca.client("scg-ingest")
    with Mosquitto(tmp_path / "id-broker", accounts=[ingest_account(),
                                                     gateway_account("demo", "gw1")],
                   tls=ListenerTls(ca.ca_file, server.cert_file, server.key_file,
                                   use_identity_as_username=True)) as broker:
        async with aiomqtt.Client(
                "127.0.0.1", broker.port, timeout=5, tls_context=client_context(
                    ca.ca_file, reader.cert_file, reader.key_file)) as ingest:
            await ingest.subscribe("scg/v1/#", qos=1)
            async with aiomqtt.Client("127.0.0.1", broker.port, timeout=5,
                                      tls_context=client_context(
                                          ca.ca_file, cert.cert_file, cert.key_file)) as gw:
                await gw.publish("scg/v1/demo/gw2/telemetry", b"{}", qos=1)  # not its own
                await gw.publish("scg/v1/demo/gw1/telemetry", b"{}", qos=1)
            topics: list[str] = []
            async with asyncio.timeout(5):
                async for message in ingest.messages:
                    topics.append(str(message.topic))
                    break
    # The broker keeps one client's messages in order: the first to arrive is the second
    # sent, so the first was dropped.
    assert topics == ["scg/v1/demo/gw1/telemetry"]
