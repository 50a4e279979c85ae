"""The metrics a county's Prometheus scrapes, from the real processes: the API's /metrics,
ingest's (`--metrics-port`) and the gateway's (`metrics:` in its config) all pass `promtool
check metrics`; a central broker outage shows at once as the gateway's uplink going down
and its spool filling, and a bad message on a registered gateway's own topic as exactly
one more dead letter of its reason at ingest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from e2e_support import FleetThread, wait_until
from ingest_support import Publisher
from metrics_support import Samples, promtool_check, samples, total, value

from scg.localsvc.process import free_port
from scg.scenario import CommunityScenario
from scg.stack import Stack
from simulators.lights import Fleet, make_lights
from telemetry import uplink_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COMMUNITY, GATEWAY = "e2e", "e2e-gw1"


@dataclass
class Metered:
    stack: Stack
    urls: dict[str, str]     # who -> /metrics URL
    fleet: FleetThread

    def scrape(self, who: str) -> str:
        r = httpx.get(self.urls[who], timeout=10)
        r.raise_for_status()
        return r.text

    def samples(self, who: str) -> Samples | None:
        """The samples of `who`'s /metrics, or None while it does not answer."""
        try:
            return samples(self.scrape(who))
        except httpx.HTTPError:
            return None

    def wait_for(self, who: str, cond: Callable[[Samples], bool], what: str,
                 timeout: float = 30) -> Samples:
        def check() -> Samples | None:
            found = self.samples(who)
            return found if found is not None and cond(found) else None
        return wait_until(check, f"{who}: {what}", timeout=timeout)


@pytest.fixture
def metered(e2e_root: Path) -> Iterator[Metered]:
    """Broker, PostgreSQL, ingest, the API and a gateway of 10 live street lights, each
    process serving its metrics on a port of its own."""
    stack = Stack(e2e_root, durable=False, separate_device_broker=True)
    ports = {"api": free_port(), "ingest": free_port(), "gateway": free_port()}
    scenario = CommunityScenario(community=COMMUNITY, gateway=GATEWAY, lights=10,
                                 controllers=10, period_s=0.2, metrics_port=ports["gateway"])
    fleet: FleetThread | None = None
    try:
        stack.start_infra()
        devices = stack.devices()
        inventory, gateway_config = scenario.write(
            e2e_root / "community", stack.uplink(COMMUNITY, GATEWAY), devices)
        stack.migrate()
        stack.run("inventory", "import", str(inventory), env=stack.owner_env())
        stack.start("ingest", "ingest", "run", "--batch-ms", "50", "--metrics-port",
                    str(ports["ingest"]), env=stack.login_env())
        stack.wait_for_log("ingest", "subscribed", timeout=30)
        stack.start("api", "api", "--host", "127.0.0.1", "--port", str(ports["api"]))
        stack.wait_for_port("api", ports["api"])
        stack.start("gateway", "gateway", "run", "--config", str(gateway_config))
        stack.wait_for_log("gateway", "serving metrics at", timeout=30)
        fleet = FleetThread(lambda: Fleet(
            make_lights(scenario.controllers), host=devices.host, port=devices.port,
            username=devices.username, password=devices.password, prefix=scenario.prefix,
            period=scenario.period_s, reconnect_min=0.1, reconnect_max=1.0))
        urls = {who: f"http://127.0.0.1:{port}/metrics" for who, port in ports.items()}
        yield Metered(stack, urls, fleet)
    finally:
        if fleet is not None:
            fleet.stop()
        stack.stop_all()


def dead_letters(found: Samples) -> float:
    return total(found, "scg_ingest_messages_total", outcome="dead_letter")


def test_metrics_pass_promtool_and_show_an_outage_and_a_dead_letter(metered: Metered) -> None:
    assert httpx.get(metered.urls["api"].replace("/metrics", "/healthz"), timeout=10) \
        .status_code == 200
    metered.wait_for("ingest", lambda s: total(s, "scg_ingest_items_total") > 0,
                     "items written")
    metered.wait_for("gateway", lambda s: value(s, "scg_gateway_devices", driver="mqtt",
                                                profile="street_light", state="online") == 10,
                     "the 10 lights online")
    for who in ("api", "ingest", "gateway"):
        promtool_check(metered.scrape(who), f"{who}'s /metrics")
    api = samples(metered.scrape("api"))
    assert value(api, "scg_api_request_seconds_count", route="/healthz", method="GET",
                 status="200") == 1

    # A bad message on the gateway's own topic, with its own credentials.
    before = samples(metered.scrape("ingest"))
    login = metered.stack.broker.login(f"{COMMUNITY}/{GATEWAY}")
    publisher = Publisher(metered.stack.broker.host, metered.stack.broker.port,
                          username=login.username, password=login.password)
    try:
        publisher.publish(uplink_topic(COMMUNITY, GATEWAY, "telemetry"), b"{not json")
    finally:
        publisher.close()
    after = metered.wait_for("ingest", lambda s: dead_letters(s) > dead_letters(before),
                             "a dead letter counted")
    assert dead_letters(after) == dead_letters(before) + 1
    assert value(after, "scg_ingest_messages_total", outcome="dead_letter",
                 reason="malformed_json") == value(before, "scg_ingest_messages_total",
                                                   outcome="dead_letter",
                                                   reason="malformed_json") + 1

    # The central broker goes away: the gateway keeps everything and says so.
    connected = metered.wait_for("gateway",
                                 lambda s: value(s, "scg_gateway_uplink_connected") == 1,
                                 "the uplink connected")
    spooled = value(connected, "scg_gateway_spool_items") or 0
    metered.stack.broker.stop()
    down = metered.wait_for("gateway",
                            lambda s: value(s, "scg_gateway_uplink_connected") == 0
                            and (value(s, "scg_gateway_spool_items") or 0) > spooled + 50,
                            "the uplink down and the spool filling")
    assert value(down, "scg_gateway_spool_bytes") > 0
    metered.wait_for("ingest", lambda s: value(s, "scg_ingest_broker_connected") == 0,
                     "ingest's broker link down")
    metered.stack.broker.start()
    metered.wait_for("gateway", lambda s: value(s, "scg_gateway_uplink_connected") == 1
                     and (value(s, "scg_gateway_spool_items") or 0) < 50,
                     "the uplink back and the spool drained", timeout=60)
    final = metered.wait_for("ingest", lambda s: value(s, "scg_ingest_broker_connected") == 1,
                             "ingest's broker link back", timeout=60)
    assert dead_letters(final) == dead_letters(before) + 1  # the outage set nothing aside
    for who in ("api", "ingest", "gateway"):
        promtool_check(metered.scrape(who), f"{who}'s /metrics after the outage")
