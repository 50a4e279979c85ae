"""The gateway's Prometheus metrics, served at `metrics: {host, port}` of its config.

Most figures are read when Prometheus scrapes, from what the gateway already keeps: the
spool's counts, the uplink's state, each device's health, the drivers' link budgets. Two
are fed as things happen, through hooks on paths that already see them: the sink counts
failed and degraded observations, and times each camera probe (its Probe item arrives
when the probe ends) and each Modbus / DL/T 645 poll (its link budget is told the link
time). Labels are bounded: a driver, a profile, a state, an item kind, a link named in the
config; never a device.

    scg_gateway_spool_items, _bytes, _capacity_bytes, _writable
    scg_gateway_spool_dropped_total{kind}
    scg_gateway_uplink_connected, scg_gateway_uplink_envelopes_acknowledged_total
    scg_gateway_devices{driver,profile,state}
    scg_gateway_probe_seconds{driver} (histogram), scg_gateway_poll_errors_total{driver,reason}
    scg_gateway_link_cycle_seconds{driver,link}, scg_gateway_link_cycle_overruns_total{...}
    scg_gateway_driver_restarts_total{driver}

The HTTP server runs on the gateway's own event loop (aiohttp), so a scrape reads the
gateway's state between two steps of its work, never halfway through one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from drivers.base import Driver, Outcome
from drivers.link_budget import LinkBudget
from gateway.config import MetricsConfig
from telemetry import DeviceState, Probe
from telemetry.backoff import Backoff

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger(__name__)

ITEM_KINDS: Final = ("reading", "event", "state", "probe")
#: Seconds: a Modbus request on a fast link to a camera snapshot near its timeout.
PROBE_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_ERROR_REASONS: Final = {Outcome.FAILED: "failed", Outcome.DEGRADED: "degraded"}


class GatewayMetrics:
    """The registry of one gateway, and the hooks its sink and drivers call."""

    def __init__(self, gateway: Gateway) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.probe_seconds = Histogram(
            "scg_gateway_probe_seconds",
            "Time one poll of a device took: a camera's picture probe, or a meter's "
            "requests on its link.", ["driver"], buckets=PROBE_BUCKETS, registry=self.registry)
        self.poll_errors = Counter(
            "scg_gateway_poll_errors",
            "Attempts to hear a device that got no answer (failed) or a wrong one (degraded: "
            "garbage, a refused login, a bad picture, an open tamper alarm).",
            ["driver", "reason"], registry=self.registry)
        self._driver_of = {d.id: d.driver for d in gateway.config.devices}
        for name in gateway.drivers:
            for reason in _ERROR_REASONS.values():
                self.poll_errors.labels(name, reason)
        self.registry.register(_GatewayCollector(gateway))

    # ------------------------------------------------------------ hooks

    def observed(self, device: str, outcome: Outcome) -> None:
        reason = _ERROR_REASONS.get(outcome)
        if reason is not None:
            self.poll_errors.labels(self._driver_of.get(device, "unknown"), reason).inc()

    def emitted(self, item: object) -> None:
        """A camera's Probe item is emitted as its probe ends, stamped with its start."""
        if isinstance(item, Probe):
            seconds = (datetime.now(UTC) - item.time).total_seconds()
            if seconds >= 0:
                self.probe_seconds.labels(self._driver_of.get(item.device, "unknown")) \
                    .observe(seconds)

    def watch(self, name: str, driver: Driver) -> None:
        """Time the polls of `driver`'s links (call again for a driver recreated after a
        crash)."""
        for budget in _budgets(driver):
            budget.on_poll = self.probe_seconds.labels(name).observe


def _budgets(driver: object) -> list[LinkBudget]:
    budgets: Any = getattr(driver, "budgets", None)
    if not isinstance(budgets, dict):
        return []
    return [b for b in budgets.values() if isinstance(b, LinkBudget)]


class _GatewayCollector(Collector):
    """Figures read from the gateway at each scrape."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._kinds = {d.id: (d.driver, d.profile) for d in gateway.config.devices}

    def collect(self) -> Iterator[Metric]:
        gw = self.gateway
        stats = gw.spool.stats()
        yield GaugeMetricFamily("scg_gateway_spool_items", "Items in the spool: waiting to "
                                "be sent, or sent and not yet acknowledged.", value=stats.items)
        yield GaugeMetricFamily("scg_gateway_spool_bytes", "Bytes of items in the spool.",
                                value=stats.bytes)
        yield GaugeMetricFamily("scg_gateway_spool_capacity_bytes", "The spool's byte cap "
                                "(spool.max_bytes); past it the oldest readings are dropped.",
                                value=gw.spool.max_bytes)
        yield GaugeMetricFamily("scg_gateway_spool_writable", "1 while the spool file can "
                                "be written, 0 while its disk is full.",
                                value=int(stats.writable))
        dropped = CounterMetricFamily("scg_gateway_spool_dropped", "Items the spool dropped "
                                      "(byte cap, or memory bound while its disk was full), "
                                      "by kind, since the spool file was made.",
                                      labels=["kind"])
        for kind in ITEM_KINDS:
            dropped.add_metric([kind], stats.dropped.get(kind, 0))
        yield dropped
        yield GaugeMetricFamily("scg_gateway_uplink_connected", "1 while connected to the "
                                "central broker.", value=int(gw.uplink.connected))
        yield CounterMetricFamily("scg_gateway_uplink_envelopes_acknowledged", "Envelopes "
                                  "the central broker acknowledged since start.",
                                  value=gw.uplink.acked)
        yield self._devices()
        yield from self._links()
        restarts = CounterMetricFamily("scg_gateway_driver_restarts", "Times a driver was "
                                       "restarted after it crashed.", labels=["driver"])
        for name, count in gw.restarts.items():
            restarts.add_metric([name], count)
        yield restarts

    def _devices(self) -> Metric:
        counts = {(driver, profile, state.value): 0
                  for driver, profile in set(self._kinds.values()) for state in DeviceState}
        for device, health in self.gateway.health.states().items():
            driver, profile = self._kinds[device]
            counts[(driver, profile, health.state.value)] += 1
        family = GaugeMetricFamily("scg_gateway_devices", "Devices by the health the "
                                   "gateway decided, per driver and profile.",
                                   labels=["driver", "profile", "state"])
        for labels, count in sorted(counts.items()):
            family.add_metric(list(labels), count)
        return family

    def _links(self) -> Iterator[Metric]:
        cycle = GaugeMetricFamily("scg_gateway_link_cycle_seconds", "Link time one round of "
                                  "polls needs per shortest period, as last measured (more "
                                  "than the period: an overrun).", labels=["driver", "link"])
        overruns = CounterMetricFamily("scg_gateway_link_cycle_overruns", "Rounds of polls "
                                       "whose cycle was longer than the period.",
                                       labels=["driver", "link"])
        for name, driver in self.gateway.drivers.items():
            for budget in _budgets(driver):
                if budget.last_cycle_s is not None:
                    cycle.add_metric([name, budget.link], budget.last_cycle_s)
                overruns.add_metric([name, budget.link], budget.overruns)
        yield cycle
        yield overruns


async def serve_metrics(registry: CollectorRegistry, where: MetricsConfig,
                        retry: tuple[float, float] = (1.0, 60.0)) -> None:
    """Answer GET /metrics at `where` until cancelled. An address that cannot be had (the
    port is taken) is logged and tried again with backoff: the gateway's work goes on."""
    app = web.Application()
    app.router.add_get("/metrics", make_aiohttp_handler(registry))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    backoff = Backoff(*retry)
    failing = False
    try:
        while True:
            try:
                await web.TCPSite(runner, where.host, where.port).start()
                break
            except OSError as exc:
                delay = backoff.next()
                if not failing:
                    log.error("cannot serve metrics at %s: %s; change metrics.host / "
                              "metrics.port in the config; trying again every %g s at most",
                              where.url, exc.strerror or exc, backoff.ceiling)
                failing = True
                await asyncio.sleep(delay)
        log.info("serving metrics at %s", where.url)
        await asyncio.Event().wait()  # until cancelled
    finally:
        await runner.cleanup()
