"""The private broker of the demo and the tests logs everyone in: anonymous clients are
refused, an account asked for while it runs is usable when `login` returns, each account
gets only its role's topics, and passwords survive a restart."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from scg.broker.accounts import AccountError
from scg.localsvc import BrokerLogin, Mosquitto

pytestmark = pytest.mark.integration


def connack(broker: Mosquitto, login: BrokerLogin | None) -> mqtt.ReasonCode:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if login is not None:
        client.username_pw_set(login.username, login.password)
    answered = threading.Event()
    reasons: list[mqtt.ReasonCode] = []

    def on_connect(c: mqtt.Client, u: object, f: object, reason: mqtt.ReasonCode,
                   p: object) -> None:
        reasons.append(reason)
        answered.set()

    client.on_connect = on_connect
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert answered.wait(5), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return reasons[0]


def test_anonymous_clients_are_refused_and_accounts_log_in(broker: Mosquitto) -> None:
    assert connack(broker, None).value == 135
    assert connack(broker, BrokerLogin("scg-ingest", "guess")).value == 135
    assert not connack(broker, broker.login("scg-ingest")).is_failure
    assert not connack(broker, broker.login("devices")).is_failure


def test_a_gateway_account_asked_for_while_running_is_usable_at_once(
        broker: Mosquitto) -> None:
    login = broker.login("north/gw-7")
    assert not connack(broker, login).is_failure
    assert "user north/gw-7\ntopic write scg/v1/north/gw-7/telemetry\n" in \
        broker.acl_file.read_text()


def test_passwords_survive_a_restart_and_a_new_broker_on_the_same_folder(
        tmp_path: Path) -> None:
    with Mosquitto(tmp_path / "mq") as first:
        login = first.login("demo/demo-gw1")
        path = first.password_file("demo/demo-gw1")
        first.restart()
        assert not connack(first, login).is_failure
    assert path == tmp_path / "mq" / "credentials" / "demo" / "demo-gw1.password"
    assert path.read_text() == login.password + "\n"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.parent.stat().st_mode & 0o777) == "0o700"
    with Mosquitto(tmp_path / "mq") as again:
        assert again.login("demo/demo-gw1") == login
        assert not connack(again, login).is_failure


def test_a_name_that_says_no_role_is_refused(broker: Mosquitto) -> None:
    with pytest.raises(AccountError, match="use 'scg-ingest', 'devices' or "
                                           "COMMUNITY/GATEWAY"):
        broker.login("admin")
