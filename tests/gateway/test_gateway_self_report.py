"""The gateway's readings about itself: what its spool dropped reaches the centre as data,
right after an outage, and a full spool does not drop those readings with the rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway_support import (
    Collector,
    FakeDriver,
    TcpProxy,
    config_dict,
    running,
    wait_until,
    write_config,
)

from gateway.app import Gateway
from gateway.config import load_config
from scg.localsvc import Mosquitto
from telemetry import Reading

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def own_readings(collector: Collector, metric: str) -> list[float]:
    return [i.value for i in collector.items()
            if isinstance(i, Reading) and i.device == "gw1" and i.metric == metric]


async def test_self_readings_come_at_start_and_after_every_reconnect(
        broker: Mosquitto, tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    async with TcpProxy(broker.host, broker.port) as proxy:
        doc = config_dict(proxy.port, devices=1, login=broker.login("demo/gw1"))
        # An hour between periodic reports: whatever arrives here was asked for.
        gateway = Gateway(load_config(write_config(tmp_path, doc)), self_report_every=3600)
        async with Collector(broker) as collector, running(gateway):
            await wait_until(lambda: own_readings(collector, "uplink_connected") == [0.0, 1.0],
                             what="a report at start and one when the uplink connected")
            proxy.cut()
            await wait_until(lambda: own_readings(collector, "uplink_connected")[2:] == [1.0],
                             what="a report after the reconnect")
            assert own_readings(collector, "spool_writable")[-1] == 1.0


def test_a_full_spool_keeps_the_gateways_own_readings_and_reports_its_final_count(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    doc = config_dict(devices=1, spool={"path": "spool.sqlite", "max_bytes": "1MiB"})
    gateway = Gateway(load_config(write_config(tmp_path, doc)))
    spool = gateway.spool

    def fill(start: int, count: int) -> None:
        for n in range(start, start + count):
            spool.put(Reading("dev-1", "count", T0 + timedelta(milliseconds=n), float(n)))
        spool.flush()

    fill(0, 12_000)  # about 1.2 MB of readings into a 1 MiB spool
    assert spool.stats().dropped["reading"] > 0
    gateway.report_self()
    spool.flush()
    final = spool.stats().dropped["reading"]
    fill(12_000, 3_000)  # more readings push out more readings, not the report
    items = []
    while (batch := spool.next_batch(10_000)) is not None:
        items += [json.loads(b) for b in batch.bodies]
        spool.ack(batch.seq)
    own = [i for i in items if i["device"] == "gw1"]
    reported = [i["value"] for i in own if i["metric"] == "spool_dropped_readings_total"]
    assert reported and reported[-1] == final
    assert [i["value"] for i in own if i["metric"] == "spool_dropped_total"][-1] == final
    assert len(own) == 9 * len(reported)  # every set whole
    spool.close()
