"""The shipped broker configuration and ACL, run on a real mosquitto: a gateway can publish
only under its own community / gateway, and ingest can subscribe (plain and shared)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import paho.mqtt.client as mqtt
import pytest
from ingest_support import envelope, reading, wait_until
from paho.mqtt.enums import CallbackAPIVersion

from ingest.consumer import Consumer, ConsumerSettings
from scg.localsvc.mosquitto import find_mosquitto
from scg.localsvc.process import free_port, spawn, stop, wait_for_port

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
USERS = {"scg-ingest": "ingest-pw", "demo-gw1": "gw1-pw", "demo-gw2": "gw2-pw"}


def local_config(workdir: Path, port: int) -> str:
    """scg.conf with its listener, paths and log moved into `workdir` (nothing else changed)."""
    text = (DEPLOY / "mosquitto" / "scg.conf").read_text()
    text = re.sub(r"(?m)^listener 1883$", f"listener {port} 127.0.0.1", text)
    text = text.replace("/var/lib/mosquitto/", f"{workdir}/")
    text = text.replace("/etc/mosquitto/scg/", f"{workdir}/")
    text = text.replace("log_dest syslog", f"log_dest file {workdir}/mosquitto.log")
    if os.geteuid() == 0:
        text += "user root\n"
    return text


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    (tmp_path / "acl").write_text((DEPLOY / "mosquitto" / "acl.example").read_text())
    passwd = tmp_path / "passwd"
    passwd.touch()
    for user, password in USERS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True,
                       capture_output=True)
    conf = tmp_path / "scg.conf"
    conf.write_text(local_config(tmp_path, port))
    proc = spawn([find_mosquitto(), "-c", str(conf)], log=tmp_path / "stdout.log")
    try:
        wait_for_port(port, proc, what="mosquitto with deploy/mosquitto/scg.conf",
                      log=tmp_path / "stdout.log")
        yield port
    finally:
        stop(proc)


def connect(port: int, user: str, password: str | None = None) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{user}",
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password if password is not None else USERS[user])
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def publish_result(client: mqtt.Client, topic: str) -> int:
    """The PUBACK reason code (0 accepted, 135 not authorised)."""
    done = threading.Event()
    codes: list[int] = []

    def on_publish(c: mqtt.Client, u: object, mid: int, reason: mqtt.ReasonCode,
                   props: object) -> None:
        codes.append(reason.value)
        done.set()

    client.on_publish = on_publish
    client.publish(topic, b"{}", qos=1)
    assert done.wait(5), f"no PUBACK for {topic}"
    return codes[0]


@pytest.mark.parametrize("topic_filter", ["scg/v1/+/+/+", "$share/scg-ingest/scg/v1/+/+/+"])
def test_gateway_publishes_only_under_its_own_ids_and_ingest_receives_it(
        secured_broker: int, topic_filter: str) -> None:
    got: list[str] = []
    subscribed = threading.Event()
    ingest = connect(secured_broker, "scg-ingest")
    ingest.on_message = lambda c, u, m: got.append(m.topic)
    ingest.on_subscribe = lambda c, u, mid, reasons, p: (
        subscribed.set() if not reasons[0].is_failure else None)
    ingest.subscribe(topic_filter, qos=1)
    assert subscribed.wait(5), "ingest may not subscribe under the shipped ACL"
    gw1 = connect(secured_broker, "demo-gw1")
    try:
        assert publish_result(gw1, "scg/v1/demo/demo-gw2/telemetry") == 135
        assert publish_result(gw1, "scg/v1/other/demo-gw1/telemetry") == 135
        assert publish_result(gw1, "scg/v1/demo/demo-gw1/telemetry") == 0
        pause = threading.Event()
        for _ in range(100):  # delivery to ingest follows the PUBACK: poll up to 5 s
            if got:
                break
            pause.wait(0.05)
        assert got == ["scg/v1/demo/demo-gw1/telemetry"]
    finally:
        for c in (gw1, ingest):
            c.disconnect()
            c.loop_stop()


def test_anonymous_and_wrong_password_clients_are_refused(secured_broker: int) -> None:
    for user, password in (("demo-gw1", "wrong"), ("", "")):
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        if user:
            client.username_pw_set(user, password)
        refused = threading.Event()

        def on_connect(c: mqtt.Client, u: object, f: object, reason: mqtt.ReasonCode,
                       p: object, refused: threading.Event = refused) -> None:
            if reason.is_failure:
                refused.set()

        client.on_connect = on_connect
        client.connect("127.0.0.1", secured_broker)
        client.loop_start()
        try:
            assert refused.wait(5)
        finally:
            client.loop_stop()


async def test_ingest_consumes_through_the_shipped_acl(secured_broker: int,
                                                       migrated: str) -> None:
    consumer = Consumer(ConsumerSettings(
        database_url=migrated, broker_port=secured_broker, username="scg-ingest",
        password=USERS["scg-ingest"], batch_wait=0.02))
    task = asyncio.create_task(consumer.run())
    gw1 = connect(secured_broker, "demo-gw1")
    conn = await asyncpg.connect(migrated)
    try:
        async with asyncio.timeout(10):
            await consumer.wait_subscribed()
        gw1.publish("scg/v1/demo/demo-gw1/telemetry", envelope(1, [reading("light-001")]),
                    qos=1)

        async def stored() -> bool:
            return bool(await conn.fetchval("SELECT count(*) FROM readings"))
        await wait_until(stored, what="the reading published by demo-gw1")
    finally:
        gw1.disconnect()
        gw1.loop_stop()
        await conn.close()
        consumer.stop()
        await asyncio.wait_for(task, 10)
