"""Ingest over TLS, where it goes wrong: an unusable certificate file stops it at start
with the option to fix; a broker it cannot trust, or one that wants a client certificate
ingest does not present, is reported once with the option to set. (The way it goes right
— a gateway's readings stored through a TLS-only broker — is tests/gateway/
test_gateway_tls.py.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from tls_support import TestCA

from ingest.consumer import Consumer, ConsumerError, ConsumerSettings
from scg.cli import main
from scg.localsvc import ListenerTls, Mosquitto


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "pki")


@pytest.fixture
def tls_broker(tmp_path: Path, ca: TestCA) -> Iterator[Mosquitto]:
    server = ca.server()
    with Mosquitto(tmp_path / "tls-broker", tls=ListenerTls(
            ca.ca_file, server.cert_file, server.key_file)) as mq:
        yield mq


async def test_an_unreadable_ca_file_stops_ingest_at_start_naming_the_option(
        tmp_path: Path) -> None:
    consumer = Consumer(ConsumerSettings(database_url="postgresql://scg@127.0.0.1:9/scg",
                                         tls_ca_file=str(tmp_path / "missing-ca.crt")))
    with pytest.raises(ConsumerError) as caught:
        await consumer.run()
    assert str(caught.value) == (f"--tls-ca-file '{tmp_path / 'missing-ca.crt'}' cannot be "
                                 "read: No such file or directory; check the path")


def test_a_client_certificate_without_a_ca_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ingest", "run", "--database-url", "postgresql://scg@127.0.0.1:9/scg",
                 "--tls-cert-file", str(tmp_path / "ingest.crt")])
    assert code == 2
    assert capsys.readouterr().err == (
        "scg ingest: --tls-cert-file / --tls-key-file need --tls-ca-file (the broker's CA) "
        "to connect over TLS\n")


async def reported(settings: ConsumerSettings, caplog: pytest.LogCaptureFixture) -> str:
    """The one warning a consumer that cannot connect logs (it keeps retrying)."""
    caplog.set_level(logging.INFO, logger="ingest.consumer")
    consumer = Consumer(settings)
    task = asyncio.create_task(consumer.run())
    try:
        for _ in range(500):  # up to 10 s
            warnings = [r.getMessage() for r in caplog.records
                        if r.name == "ingest.consumer" and r.levelno == logging.WARNING]
            if warnings:
                break
            await asyncio.sleep(0.02)
        assert not consumer._subscribed.is_set()
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)
    assert len(warnings) == 1, warnings
    return warnings[0]


@pytest.mark.integration
async def test_a_broker_of_another_ca_is_reported_naming_the_ca_option(
        tls_broker: Mosquitto, migrated: str, tmp_path: Path, ca: TestCA,
        caplog: pytest.LogCaptureFixture) -> None:
    other = TestCA(tmp_path / "other", "other CA")
    mine = ca.client("scg-ingest")
    login = tls_broker.login("scg-ingest")
    warning = await reported(ConsumerSettings(
        database_url=migrated, broker_port=tls_broker.port, username=login.username,
        password=login.password, tls_ca_file=str(other.ca_file),
        tls_cert_file=str(mine.cert_file), tls_key_file=str(mine.key_file)), caplog)
    assert warning.startswith(f"cannot connect to the broker 127.0.0.1:{tls_broker.port}: "
                              "the broker's certificate was not accepted ([SSL: "
                              "CERTIFICATE_VERIFY_FAILED]")
    assert "it must be signed by the CA in --tls-ca-file" in warning


@pytest.mark.integration
async def test_a_missing_client_certificate_is_reported_naming_the_cert_options(
        tls_broker: Mosquitto, migrated: str, ca: TestCA,
        caplog: pytest.LogCaptureFixture) -> None:
    login = tls_broker.login("scg-ingest")
    warning = await reported(ConsumerSettings(
        database_url=migrated, broker_port=tls_broker.port, username=login.username,
        password=login.password, tls_ca_file=str(ca.ca_file)), caplog)
    assert warning.startswith(f"the broker 127.0.0.1:{tls_broker.port} closed the connection "
                              "before accepting it (")
    assert warning.endswith("if it requires a client certificate, set --tls-cert-file and "
                            "--tls-key-file")
