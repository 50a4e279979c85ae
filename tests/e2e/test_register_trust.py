"""Only a device's own gateway speaks for it: another gateway's account, publishing `online`
for lights registered elsewhere on its own topic, gets dead letters, and the smart-lighting
rate does not move. Ingest and the API run as the runtime role, as in a deployment."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from broker_support import login_args
from e2e_support import Community, wait_until
from ingest_support import Publisher

from telemetry import (
    DeviceState,
    Envelope,
    GatewayStatus,
    Reading,
    StateChange,
    encode,
    encode_status,
    status_topic,
    uplink_topic,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Registered controllers on e2e-gw1 whose controllers are dead (the fleet runs 78 of 80).
DEAD = ["light-079", "light-080"]


def _rate(c: Community) -> tuple[int, int]:
    r = c.indicator("smart_lighting_rate")
    return r["numerator"], r["denominator"]


def _forged(community: str, gateway: str, seq: int, devices: list[str]) -> bytes:
    now = datetime.now(UTC)
    items = [item for d in devices for item in (
        StateChange(d, DeviceState.ONLINE, now, "forged"), Reading(d, "power_w", now, 30.0))]
    return encode(Envelope(community, gateway, seq, now, tuple(items)))


def test_another_gateway_cannot_make_dead_lights_count(hundred_lights: Community) -> None:
    c = hundred_lights
    stack = c.stack
    # Gateway e2e-gw2 is in the inventory (listed before its devices are registered).
    c.inventory.write_text(c.inventory.read_text() + "gateways: [e2e-gw2]\n")
    stack.run("inventory", "import", str(c.inventory), env=stack.owner_env())
    fleet = c.fleet(78)
    try:
        wait_until(lambda: _rate(c) == (78, 100), "78 live controllers counted", timeout=60)

        forger = Publisher(stack.broker.host, stack.broker.port, "forger",
                           **login_args(stack.broker, "e2e/e2e-gw2"))
        stranger = Publisher(stack.broker.host, stack.broker.port, "stranger",
                             **login_args(stack.broker, "e2e/e2e-gw9"))
        try:
            # On its own topics (its account allows no other): the dead lights, a plain
            # light registered to no gateway, and a light nobody registered.
            forger.publish(uplink_topic("e2e", "e2e-gw2", "state"),
                           _forged("e2e", "e2e-gw2", 1, [*DEAD, "light-090", "light-999"]))
            # A gateway the inventory does not list at all.
            stranger.publish(status_topic("e2e", "e2e-gw9"), encode_status(
                GatewayStatus("e2e", "e2e-gw9", True, datetime.now(UTC))))
            stranger.publish(uplink_topic("e2e", "e2e-gw9", "state"),
                             _forged("e2e", "e2e-gw9", 1, DEAD))
        finally:
            forger.close()
            stranger.close()

        dead = wait_until(lambda: (rows := c.rows(
            "SELECT gateway, code, coalesce(details::text, '') FROM dead_letters "
            "WHERE gateway IN ('e2e-gw2', 'e2e-gw9') ORDER BY id")) and len(rows) == 3
            and rows, "three dead letters, one per forged message")
        forged, status, stray = dead
        assert (forged[0], forged[1]) == ("e2e-gw2", "items_rejected")
        assert json.loads(forged[2])["by_reason"] == [
            {"reason": "device_not_on_gateway", "count": 6},
            {"reason": "unknown_device", "count": 2}]
        assert [(status[0], status[1]), (stray[0], stray[1])] == [
            ("e2e-gw9", "unknown_gateway"), ("e2e-gw9", "unknown_gateway")]
        assert c.scalar("SELECT count(*) FROM device_state_changes "
                        "WHERE gateway <> 'e2e-gw1'") == 0
        assert c.scalar("SELECT count(*) FROM readings WHERE gateway <> 'e2e-gw1'") == 0
        assert c.scalar("SELECT count(*) FROM gateways WHERE gateway = 'e2e-gw9'") == 0
        assert _rate(c) == (78, 100)

        # The indicator is recomputed after the forgeries: one real light falls silent and
        # only it drops out — the forged `online` of light-079/080 never counted.
        fleet.call(fleet.fleet.silence, ["light-001"])
        wait_until(lambda: _rate(c) == (77, 100), "light-001 to drop out", timeout=60)
        numerator = c.indicator("smart_lighting_rate")["devices"]["numerator"]
        assert not set(DEAD) & set(numerator) and "light-001" not in numerator
    finally:
        fleet.stop()
