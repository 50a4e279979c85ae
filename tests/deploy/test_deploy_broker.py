"""The broker service of deploy/compose.yaml, run for real without a Docker engine: its
start command, with only the container's paths moved into the test's folder, refuses to
start (naming the fix) while `scg broker config` has not written the accounts, and
otherwise installs them where scg.conf reads them, starts Debian's mosquitto on scg.conf
with its log on the container's output, lets ingest's account in and keeps anonymous
clients out."""

from __future__ import annotations

import os
import pwd
import re
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from scg.broker.files import write_broker_config
from scg.localsvc.mosquitto import find_mosquitto
from scg.localsvc.process import free_port, spawn, stop, wait_for_port

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())[
    "services"]["mosquitto"]
#: The container's paths the command and scg.conf use (the bind mounts and the volume).
CONTAINER_PATHS = ("/etc/mosquitto", "/var/lib/mosquitto", "/broker")


def start_command() -> str:
    """The shell text the service runs, as Compose hands it over (`$$` is a `$`)."""
    assert SERVICE["entrypoint"] == ["sh", "-c"]
    [command] = SERVICE["command"]
    return str(command).replace("$$", "$")


def relocate(text: str, root: Path) -> str:
    """`text` with the container's paths under `root`."""
    pattern = "|".join(map(re.escape, CONTAINER_PATHS))
    return re.sub(rf"(?<![\w./-])({pattern})(?![\w.-])", lambda m: f"{root}{m.group(1)}",
                  text)


def container(root: Path, port: int) -> str:
    """Lay out the container's mounts under `root` (scg.conf with its listener on `port`)
    and return the service's command relocated there, running Debian's mosquitto."""
    (root / "etc" / "mosquitto").mkdir(parents=True)
    (root / "broker").mkdir()
    conf = (DEPLOY / "mosquitto" / "scg.conf").read_text()
    conf, listeners = re.subn(r"(?m)^listener 1883$", f"listener {port} 127.0.0.1", conf)
    assert listeners == 1
    if os.geteuid() == 0:
        conf += "user root\n"  # it would drop to `mosquitto`, who cannot enter tmp_path
    (root / "etc" / "mosquitto" / "scg.conf").write_text(relocate(conf, root))
    command = relocate(start_command(), root)
    if os.geteuid() != 0 or not _user_exists("mosquitto"):
        command = command.replace("-o mosquitto -g mosquitto ", "")
    command, execs = re.subn(r"\bexec mosquitto\b", f"exec {find_mosquitto()}", command)
    assert execs == 1
    return command


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def connack(port: int, user: str | None, password: str | None = None) -> ReasonCode:
    """What the broker answers a CONNECT as `user` (None: anonymous)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"deploy-test-{user}",
                         protocol=mqtt.MQTTv5)
    if user is not None:
        client.username_pw_set(user, password)
    answered = threading.Event()
    codes: list[ReasonCode] = []

    def on_connect(c: mqtt.Client, u: object, f: object, reason: ReasonCode,
                   p: object) -> None:
        codes.append(reason)
        answered.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK within 10 s"
    finally:
        client.disconnect()
        client.loop_stop()
    return codes[0]


def test_the_broker_will_not_start_without_its_accounts_and_says_how_to_fix_it(
        tmp_path: Path) -> None:
    command = container(tmp_path, free_port())
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30,
                          check=False)
    assert proc.returncode == 78
    assert "deploy/broker/passwd or deploy/broker/acl is missing" in proc.stderr
    assert "scg broker config (deploy/README.md, step 3)" in proc.stderr
    assert not (tmp_path / "etc" / "mosquitto" / "scg").exists()  # nothing half-installed


def test_the_broker_starts_on_scg_conf_with_the_accounts_and_logs_to_its_output(
        tmp_path: Path) -> None:
    port = free_port()
    command = container(tmp_path, port)
    write_broker_config(tmp_path / "broker", [("demo", "demo-gw1")])
    ingest_password = (tmp_path / "broker" / "credentials" / "scg-ingest.password") \
        .read_text().strip()
    log = tmp_path / "output.log"
    proc = spawn(["sh", "-c", command], log=log)
    try:
        wait_for_port(port, proc, what="the compose mosquitto command", log=log)
        assert connack(port, "scg-ingest", ingest_password).value == 0
        assert connack(port, None).is_failure  # no anonymous clients
        assert connack(port, "scg-ingest", "a-wrong-password").is_failure
    finally:
        stop(proc)
    installed = tmp_path / "etc" / "mosquitto" / "scg"
    for name in ("passwd", "acl"):
        assert (installed / name).read_bytes() == (tmp_path / "broker" / name).read_bytes()
        assert stat.S_IMODE((installed / name).stat().st_mode) == 0o600, name
    conf = (installed / "mosquitto.conf").read_text()
    assert "log_dest stdout" in conf.splitlines() and "syslog" not in conf
    assert conf.replace("log_dest stdout", "log_dest syslog") == \
        (tmp_path / "etc" / "mosquitto" / "scg.conf").read_text()  # nothing else changed
    output = log.read_text()
    # Connections and refusals reach `docker compose logs mosquitto`.
    assert "u'scg-ingest')" in output, output
    assert output.count("disconnected, not authorised") == 2, output


def test_the_accounts_and_queue_live_where_scg_conf_reads_them() -> None:
    conf = (DEPLOY / "mosquitto" / "scg.conf").read_text()
    setting = dict(re.findall(r"(?m)^(password_file|acl_file|persistence_location) (\S+)$",
                              conf))
    command = start_command()
    assert f"/broker/passwd {setting['password_file']}" in command
    assert f"/broker/acl {setting['acl_file']}" in command
    mounted = {entry.split(":")[1]: entry.split(":")[0] for entry in SERVICE["volumes"]}
    assert mounted[setting["persistence_location"].rstrip("/")] == "mosquitto-data"
    assert mounted["/broker"] == "./broker" and SERVICE["volumes"][1].endswith(":ro")
    assert re.search(r"(?m)^listener 1883$", conf) and SERVICE["ports"] == ["1883:1883"]
