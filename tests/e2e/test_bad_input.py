"""Bad input gets a clear error and loses nothing valid around it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from e2e_support import Community, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def publish(c: Community, topic: str, payload: bytes) -> None:
    """Publish as gateway e2e/rogue (its account may publish only under its own topics)."""
    login = c.stack.broker.login("e2e/rogue")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.username_pw_set(login.username, login.password)
    client.connect(c.stack.broker.host, c.stack.broker.port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def envelope(community: str, gateway: str, seq: int, items: list[dict[str, object]]) -> bytes:
    return json.dumps({"v": 1, "community": community, "gateway": gateway, "seq": seq,
                       "sent_at": "2026-11-23T08:00:00Z", "items": items}).encode()


def reading(device: str, value: object) -> dict[str, object]:
    return {"kind": "reading", "device": device, "metric": "power_w",
            "time": "2026-11-23T08:00:00Z", "value": value}


def register_rogue_meters(c: Community) -> None:
    """Register meter-1 … meter-3 to gateway `rogue`, so that only the faults of the
    messages below make dead letters (ingest takes nothing from unregistered devices)."""
    doc = yaml.safe_load(c.inventory.read_text())
    doc["devices"] += [{"id": f"meter-{n}", "kind": "meter", "household": f"h-{n}",
                        "gateway": "rogue", "protocol": "modbus"} for n in (1, 2, 3)]
    c.inventory.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    c.stack.run("inventory", "import", str(c.inventory), env=c.stack.owner_env())


def test_malformed_and_misaddressed_messages_are_dead_lettered_mid_stream(
        busy_lights: Community) -> None:
    c = busy_lights
    register_rogue_meters(c)
    fleet = c.fleet()
    wait_until(lambda: c.light_readings() > 400, "readings flowing into the database")
    publish(c, "scg/v1/e2e/rogue/telemetry", b'{"v": 1, "items": [')
    publish(c, "scg/v1/e2e/rogue/telemetry", envelope("other", "rogue", 1, [reading("x", 1)]))
    publish(c, "scg/v1/e2e/rogue/telemetry", envelope("e2e", "rogue", 2, [
        reading("meter-1", 10.5), reading("meter-2", "hot"), reading("meter-3", 30.0)]))
    letters = wait_until(lambda: (rows := c.rows(
        "SELECT code, item_index, reason FROM dead_letters ORDER BY id")) and len(rows) == 3
        and rows, "three dead letters")
    codes = sorted((code, index) for code, index, _ in letters)
    assert codes == [("items_rejected", "1"), ("malformed_json", ""), ("topic_mismatch", "")]
    reasons = " | ".join(r for *_, r in letters)
    assert "'other'" in reasons and "finite number" in reasons
    good = c.rows("SELECT device, value FROM readings WHERE gateway = 'rogue' ORDER BY device")
    assert good == [["meter-1", "10.5"], ["meter-3", "30"]]

    sent = fleet.stop()
    expected = 4 * sum(sent.values())
    wait_until(lambda: c.light_readings() == expected, f"all {expected} light readings")


def test_broken_gateway_config_is_refused_naming_file_key_and_fix(tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("community: demo\ngateway: gw1\nuplink: {host: 127.0.0.1, port: 1883}\n"
                      "spool: {path: spool.sqlite}\n"
                      "devices:\n  - {id: l1, driver: mqtt, profile: street_light, "
                      "address: l1, period: soon}\n")
    proc = subprocess.run([sys.executable, "-m", "scg.cli", "gateway", "run", "--config",
                           str(config)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert str(config) in proc.stderr
    assert "devices[0].period" in proc.stderr
    assert "like 10s, 5m, 1h" in proc.stderr and "'soon'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "spool.sqlite").exists()
