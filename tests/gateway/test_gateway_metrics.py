"""The gateway's /metrics: off unless the config asks, served on the gateway's own loop,
accepted by `promtool check metrics`, and read from what the gateway already keeps — the
spool, the uplink, each device's health, the drivers' link budgets."""

from __future__ import annotations

import argparse
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from gateway_support import FakeDriver, config_dict, running, wait_until, write_config
from metrics_support import promtool_check, samples, value
from prometheus_client import generate_latest

from drivers.base import Observation, Outcome
from drivers.link_budget import budgets
from gateway.app import Gateway
from gateway.cli import register
from gateway.config import ConfigError, MetricsConfig, load_config
from scg.localsvc import Mosquitto
from scg.localsvc.process import free_port
from telemetry import Probe, Reading


def gateway_with_metrics(tmp_path: Path, port: int, broker: Mosquitto | int = 1883,
                         devices: int = 2) -> Gateway:
    doc = config_dict(broker, devices=devices, metrics={"port": port})
    return Gateway(load_config(write_config(tmp_path, doc)))


async def scrape(port: int) -> str:
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{port}/metrics")
    r.raise_for_status()
    return r.text


def test_metrics_are_off_unless_configured_and_their_section_is_checked(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    assert load_config(write_config(tmp_path, config_dict())).metrics is None
    config = load_config(write_config(tmp_path, config_dict(metrics={"port": 9102})))
    assert config.metrics == MetricsConfig(port=9102, host="127.0.0.1")
    assert config.metrics.url == "http://127.0.0.1:9102/metrics"
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, config_dict(metrics={"port": 70000, "hots": "x"})))
    text = str(caught.value)
    assert "metrics.port: `port` must be a whole number from 1 to 65535, got 70000" in text
    assert "metrics.hots: unknown key `hots`; did you mean `host`?" in text
    with pytest.raises(ConfigError, match=r"metrics.port: `port` is missing; add it to "
                                          r"`metrics`, e\.g\. `port: 9102`"):
        load_config(write_config(tmp_path, config_dict(metrics={"host": "0.0.0.0"})))


def test_gateway_check_says_where_metrics_are_served(
        tmp_path: Path, fake_driver: type[FakeDriver], capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="scg")
    register(parser.add_subparsers(dest="command", required=True))
    path = write_config(tmp_path, config_dict(metrics={"host": "0.0.0.0", "port": 9102}))
    args = parser.parse_args(["gateway", "check", "--config", str(path)])
    assert args.func(args) == 0
    assert capsys.readouterr().out.rstrip().endswith(
        ", metrics at http://0.0.0.0:9102/metrics")


async def test_metrics_pass_promtool_and_count_devices_spool_and_uplink(
        broker: Mosquitto, tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    port = free_port()
    gateway = gateway_with_metrics(tmp_path, port, broker, devices=3)
    async with running(gateway):
        await wait_until(lambda: gateway.uplink.acked > 0, what="an acknowledged envelope")
        await wait_until(lambda: all(h.state.value == "online"
                                     for h in gateway.health.states().values()),
                         what="every device online")
        text = await scrape(port)
    promtool_check(text, "the gateway's /metrics")
    found = samples(text)
    assert value(found, "scg_gateway_uplink_connected") == 1
    assert value(found, "scg_gateway_devices", driver="fake", profile="counter",
                 state="online") == 3
    assert value(found, "scg_gateway_devices", driver="fake", profile="counter",
                 state="offline") == 0
    assert value(found, "scg_gateway_spool_capacity_bytes") == 16 * 2**20
    assert value(found, "scg_gateway_spool_dropped_total", kind="reading") == 0
    assert value(found, "scg_gateway_poll_errors_total", driver="fake", reason="failed") == 0
    assert value(found, "scg_gateway_uplink_envelopes_acknowledged_total") >= 1
    assert value(found, "process_cpu_seconds_total") is not None
    device_labels = {dict(labels).get("device") for (_, labels) in found}
    assert device_labels == {None}  # no per-device label anywhere


def test_failed_observations_probe_times_and_link_cycles_are_counted(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    gateway = gateway_with_metrics(tmp_path, free_port())
    sink, metrics = gateway.sink, gateway.metrics
    sink.observe(Observation("dev-1", Outcome.FAILED, "no answer"))
    sink.observe(Observation("dev-1", Outcome.DEGRADED, "garbage"))
    sink.observe(Observation("dev-2", Outcome.DEGRADED, "garbage"))
    sink.observe(Observation("dev-2", Outcome.OK))
    # A camera's Probe item arrives when its probe ends, stamped with when it began.
    sink.emit(Probe("dev-1", datetime.now(UTC) - timedelta(seconds=0.3), True))
    sink.emit(Reading("dev-1", "count", datetime.now(UTC), 1.0))
    # A polled driver's link budgets are timed and read as they are.
    links = budgets("fake", {"bus1": "tcp 127.0.0.1:1502"},
                    [("dev-1", "bus1", 1.0), ("dev-2", "bus1", 1.0)],
                    logging.getLogger("test"))
    driver = FakeDriver({}, [])
    driver.budgets = links  # type: ignore[attr-defined]
    gateway.drivers["fake"] = driver
    metrics.watch("fake", driver)
    links["bus1"].record("dev-1", 0.7, 1.0)
    links["bus1"].record("dev-2", 0.6, 1.0)  # a round of 1.3 s in a period of 1 s
    found = samples(generate_latest(metrics.registry).decode())
    gateway.spool.close()
    assert value(found, "scg_gateway_poll_errors_total", driver="fake", reason="failed") == 1
    assert value(found, "scg_gateway_poll_errors_total", driver="fake", reason="degraded") == 2
    assert value(found, "scg_gateway_probe_seconds_count", driver="fake") == 3
    assert 1.5 < value(found, "scg_gateway_probe_seconds_sum", driver="fake") < 3.0
    assert value(found, "scg_gateway_link_cycle_seconds", driver="fake",
                 link="bus1") == pytest.approx(1.3)
    assert value(found, "scg_gateway_link_cycle_overruns_total", driver="fake",
                 link="bus1") == 1


async def test_a_taken_metrics_port_is_logged_and_the_gateway_goes_on(
        broker: Mosquitto, tmp_path: Path, fake_driver: type[FakeDriver],
        caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        gateway = gateway_with_metrics(tmp_path, port, broker)
        async with running(gateway):
            await wait_until(lambda: gateway.uplink.acked > 0,
                             what="an envelope sent although /metrics cannot be served")
            await wait_until(lambda: "cannot serve metrics at http://127.0.0.1:" in caplog.text,
                             what="the error naming the address")
    assert "change metrics.host / metrics.port in the config" in caplog.text
