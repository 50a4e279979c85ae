"""The central broker as deployed: mosquitto running the shipped deploy/mosquitto/scg.conf
(only its paths moved into the test's folder) with the password file and ACL that `scg
broker config` wrote from inventories, and MQTT v5 clients that report what the broker
answered (PUBACK and SUBACK reason codes)."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from scg.localsvc.mosquitto import find_mosquitto
from scg.localsvc.process import free_port, log_size, spawn, stop, wait_for_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
NOT_AUTHORIZED = 0x87  # PUBACK / SUBACK reason code 135


def inventory(folder: Path, community: str, gateways: list[str]) -> Path:
    """A small inventory whose lights are read by `gateways` (one light each)."""
    rows = "\n".join(f"  - {{id: light-{n:03d}, kind: light, gateway: {gw}, protocol: mqtt, "
                     f"address: light-{n:03d}}}" for n, gw in enumerate(gateways, 1))
    path = folder / f"{community}.yaml"
    path.write_text(f"community: {{id: {community}, name: {community}, district: "
                    f"\"370102\"}}\ndevices:\n{rows}\n")
    return path


def broker_config(out: Path, *inventories: Path, rotate: tuple[str, ...] = ()) -> str:
    """Run `scg broker config` as an installer would; its output."""
    argv = [sys.executable, "-m", "scg.cli", "broker", "config", "--out", str(out)]
    for path in inventories:
        argv += ["--inventory", str(path)]
    for name in rotate:
        argv += ["--rotate", name]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False,
                          env={k: v for k, v in os.environ.items() if k != "SCG_DATABASE_URL"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def local_config(workdir: Path, files: Path, port: int) -> str:
    """scg.conf with its listener, paths and log moved (nothing else changed)."""
    text = (DEPLOY / "mosquitto" / "scg.conf").read_text()
    text = re.sub(r"(?m)^listener 1883$", f"listener {port} 127.0.0.1", text)
    text = text.replace("/var/lib/mosquitto/", f"{workdir}/")
    text = text.replace("/etc/mosquitto/scg/", f"{files}/")
    text = text.replace("log_dest syslog", f"log_dest file {workdir}/mosquitto.log\n"
                                           "log_type information")
    if os.geteuid() == 0:
        text += "user root\n"
    return text


class CentralBroker:
    """mosquitto with scg.conf and the files under `files`; `reload()` is what `systemctl
    reload mosquitto` does."""

    def __init__(self, workdir: Path, files: Path) -> None:
        self.workdir, self.files = workdir, files
        self.port = free_port()
        self.log = workdir / "mosquitto.log"
        conf = workdir / "scg.conf"
        conf.write_text(local_config(workdir, files, self.port))
        self.proc = spawn([find_mosquitto(), "-c", str(conf)], log=workdir / "stdout.log")
        wait_for_port(self.port, self.proc, what="mosquitto with deploy/mosquitto/scg.conf",
                      log=workdir / "stdout.log")

    def password(self, user: str) -> str:
        return (self.files / "credentials" / f"{user}.password").read_text().strip()

    def reload(self) -> None:
        since = log_size(self.log)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while b"Reloading config." not in self.log.read_bytes()[since:]:
            assert time.monotonic() < deadline, "mosquitto did not reload within 10 s"
            time.sleep(0.01)

    def stop(self) -> None:
        stop(self.proc)


@contextmanager
def central_broker(workdir: Path, files: Path) -> Iterator[CentralBroker]:
    broker = CentralBroker(workdir, files)
    try:
        yield broker
    finally:
        broker.stop()


_client_numbers = itertools.count(1)  # one client id each: a shared id would disconnect


class Client:
    """An MQTT v5 client logged in as `user`, recording what it receives."""

    def __init__(self, broker: CentralBroker, user: str, password: str | None = None) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"t-{user}-{next(_client_numbers)}",
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, broker.password(user) if password is None
                                    else password)
        self.received: list[str] = []
        self._lock = threading.Lock()
        self._acks: dict[int, int] = {}
        self._answered = threading.Condition(self._lock)
        self.connack: mqtt.ReasonCode | None = None
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_ack
        self.client.on_subscribe = self._on_suback
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        with self._answered:
            assert self._answered.wait_for(lambda: self.connack is not None, 5), "no CONNACK"

    @property
    def accepted(self) -> bool:
        return self.connack is not None and not self.connack.is_failure

    def _on_connect(self, c: mqtt.Client, u: object, f: object, reason: mqtt.ReasonCode,
                    p: object) -> None:
        with self._answered:
            self.connack = reason
            self._answered.notify_all()

    def _on_message(self, c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.received.append(m.topic)

    def _on_ack(self, c: mqtt.Client, u: object, mid: int, reason: mqtt.ReasonCode,
                p: object) -> None:
        with self._answered:
            self._acks[mid] = reason.value
            self._answered.notify_all()

    def _on_suback(self, c: mqtt.Client, u: object, mid: int,
                   reasons: list[mqtt.ReasonCode], p: object) -> None:
        with self._answered:
            self._acks[mid] = reasons[0].value
            self._answered.notify_all()

    def _wait(self, mid: int, what: str) -> int:
        with self._answered:
            assert self._answered.wait_for(lambda: mid in self._acks, 5), f"no answer to {what}"
            return self._acks.pop(mid)

    def publish(self, topic: str) -> int:
        """The PUBACK reason code: 0 accepted, NOT_AUTHORIZED refused by the ACL."""
        return self._wait(self.client.publish(topic, b"{}", qos=1).mid, f"PUBLISH {topic}")

    def subscribe(self, topic_filter: str) -> int:
        """The SUBACK reason code (1: granted QoS 1)."""
        result, mid = self.client.subscribe(topic_filter, qos=1)
        assert result == mqtt.MQTT_ERR_SUCCESS and mid is not None
        return self._wait(mid, f"SUBSCRIBE {topic_filter}")

    def heard(self) -> list[str]:
        with self._lock:
            return list(self.received)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_for(condition: Callable[[], bool], within: float = 5.0) -> bool:
    """Poll `condition` every 10 ms until it holds or `within` seconds have passed."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
