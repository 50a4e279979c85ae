"""The edge daemon wired together: drivers feed the local rules, the spool and the health
state machine, the uplink drains the spool north, and the gateway reports on itself (as
readings, and as Prometheus metrics when the config asks for them: `gateway.metrics`).

A driver that crashes is logged with its traceback and recreated after a backoff; it
never takes down the gateway or the other drivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from drivers.base import Driver, Observation, ReportsOnItself
from gateway.build import build_drivers, create_driver
from gateway.config import ConfigError, GatewayConfig
from gateway.health import Health
from gateway.metrics import GatewayMetrics, serve_metrics
from gateway.rules import Commander, RuleEngine, command_problems
from gateway.rules.actions import commander_for
from gateway.spool import PRIORITY_EVENT, Spool
from gateway.uplink import Uplink
from telemetry import Item, Reading
from telemetry.backoff import Backoff

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_CLOCK_JUMP = timedelta(seconds=2)

#: Item kinds, each with a drop counter among the self-readings.
ITEM_KINDS = ("reading", "event", "state", "probe")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class GatewaySink:
    """What drivers report into: items go to the local rules watching their device (if
    any), then to the spool; observations go to health, and the state changes health
    decides go to the spool too. Never raises into a driver.

    It also keeps health honest about time: edge boxes without a real-time clock jump
    forward when NTP first syncs, and that jump must not look like every device falling
    silent. Each health call first compares the wall clock with the monotonic clock and
    moves health's timers by any jump.
    """

    def __init__(self, spool: Spool, health: Health, clock: Clock = _utc_now,
                 rules: RuleEngine | None = None, metrics: GatewayMetrics | None = None) -> None:
        self.spool = spool
        self.clock = clock
        self.health = health
        self.rules = rules
        self.metrics = metrics
        self._failing = False
        self._last = (clock(), time.monotonic())

    def use_health(self, health: Health) -> None:
        self.health = health
        self._last = (self.clock(), time.monotonic())

    def now(self) -> datetime:
        """The wall-clock time, after moving health's timers by any jump of the clock."""
        wall, mono = self.clock(), time.monotonic()
        jump = (wall - self._last[0]) - timedelta(seconds=mono - self._last[1])
        if abs(jump) > _CLOCK_JUMP:
            log.warning("the system clock jumped by %+.1f s; device silence timers follow it",
                        jump.total_seconds())
            self.health.shift_clock(jump)
        self._last = (wall, mono)
        return wall

    def emit(self, item: Item) -> None:
        if self.rules is not None:
            # Before the spool: a rule's reaction must not wait for a disk write.
            self.rules.see(item)
        if self.metrics is not None:
            self.metrics.emitted(item)
        self._put(item)

    def record(self, item: Item) -> None:
        """An item the gateway itself made (a rule's linkage event): to the spool only."""
        self._put(item)

    def own(self, reading: Reading) -> None:
        """A reading about the gateway itself: to the spool only, ahead of device readings,
        so that a full spool does not drop the counts of what it dropped."""
        self._put(reading, PRIORITY_EVENT)

    def observe(self, observation: Observation) -> None:
        if self.metrics is not None:
            self.metrics.observed(observation.device, observation.outcome)
        change = self.health.observe(observation, self.now())
        if change is not None:
            self._put(change)

    def tick(self) -> None:
        """Count silent report periods as failures."""
        for change in self.health.tick(self.now()):
            self._put(change)

    def _put(self, item: Item, priority: int | None = None) -> None:
        try:
            self.spool.put(item, priority=priority)
        except Exception:
            # Not a full disk (the spool keeps items in memory through that): a spool file
            # that is no longer a database, or an item that cannot be encoded. The drivers
            # must go on; say so once per stretch of failures.
            if not self._failing:
                log.exception("cannot put items into the spool %s; they are lost until it "
                              "works again", self.spool.path)
            self._failing = True
        else:
            if self._failing:
                log.info("the spool %s is writable again", self.spool.path)
            self._failing = False


class Gateway:
    """One edge gateway. Build it from a validated config, then `await run()` once.

    Raises ConfigError at construction when a driver refuses its settings or profiles.
    """

    def __init__(self, config: GatewayConfig, *, self_report_every: float = 30.0,
                 driver_restart: tuple[float, float] = (1.0, 60.0),
                 clock: Clock = _utc_now) -> None:
        self.config = config
        self.clock = clock
        self.self_report_every = self_report_every
        self.driver_restart = driver_restart
        self.drivers: dict[str, Driver] = build_drivers(config)
        problems = command_problems(config.rules, config.devices, self.drivers)
        if problems:
            raise ConfigError(config.source, problems)
        try:
            self.spool = Spool(config.spool.path, config.spool.max_bytes)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(config.source, [
                f"spool.path: cannot open the spool {config.spool.path}: {exc}; check that "
                "its folder can be created and written by the user the gateway runs as"]) \
                from None
        self.health = Health(config.devices, config.health.failures_to_offline, clock())
        self._driver_of = {d.id: d.driver for d in config.devices}
        self.rules = RuleEngine(config.rules, record=self._record, owner=self._commander,
                                clock=clock)
        self.uplink = Uplink(config.uplink, config.community, config.gateway, self.spool,
                             batch_items=config.spool.batch_items,
                             max_inflight=config.spool.max_inflight)
        #: How many times each driver has been restarted after a crash.
        self.restarts: dict[str, int] = dict.fromkeys(self.drivers, 0)
        #: Prometheus metrics (served only when the config has `metrics`).
        self.metrics = GatewayMetrics(self)
        for name, driver in self.drivers.items():
            self.metrics.watch(name, driver)
        self.sink = GatewaySink(self.spool, self.health, clock,
                                self.rules if self.rules.rules else None, self.metrics)
        # Self-readings at start, on every (re)connect, and when the spool stops and starts
        # being writable: the centre learns what an outage or a full disk cost, and when.
        self._report_due = asyncio.Event()
        self.uplink.on_connected = self._report_due.set
        self.spool.on_writable_change = self._report_due.set
        self._signalled: int | None = None

    async def run(self, *, handle_signals: bool = False) -> None:
        """Run until cancelled (or, with `handle_signals`, until SIGINT / SIGTERM, after
        which it returns normally). On the way out: publish `offline`, disconnect, commit
        the spool and close it."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, self._on_signal, sig, task)
        # Missed report periods count from now, not from when the config was loaded.
        self.health = Health(self.config.devices, self.config.health.failures_to_offline,
                             self.clock())
        self.sink.use_health(self.health)
        stats = self.spool.stats()
        per_driver = ", ".join(f"{name}: {len(devs)}"
                               for name, devs in self.config.devices_by_driver().items())
        log.info("gateway %s of community %s starting: %d devices (%s); uplink %s; spool %s "
                 "holds %d items", self.config.gateway, self.config.community,
                 len(self.config.devices), per_driver or "none", self.uplink.endpoint,
                 self.spool.path, stats.items)
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self.uplink.run(), name="uplink")
                for name in self.drivers:
                    tasks.create_task(self._supervise(name), name=f"driver {name}")
                tasks.create_task(self._tick_health(), name="health")
                if self.rules.rules:
                    tasks.create_task(self.rules.run(), name="rules")
                tasks.create_task(self._report_self(), name="self-readings")
                if self.config.metrics is not None:
                    tasks.create_task(serve_metrics(self.metrics.registry,
                                                    self.config.metrics), name="metrics")
        except asyncio.CancelledError:
            if self._signalled is None:
                raise
            task.uncancel()  # we asked for this stop ourselves: a normal return
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            self.spool.close()
            log.info("gateway %s stopped; %d items wait in the spool for the next start",
                     self.config.gateway, self.spool.stats().items)

    def _on_signal(self, sig: int, task: asyncio.Task[None]) -> None:
        if self._signalled is None:
            log.info("received %s; stopping", signal.Signals(sig).name)
            self._signalled = sig
            task.cancel()

    async def _supervise(self, name: str) -> None:
        """Run driver `name`; when it crashes (or returns), recreate it after a backoff."""
        backoff = Backoff(*self.driver_restart)
        loop = asyncio.get_running_loop()
        devices = self.config.devices_by_driver()[name]
        while True:
            started = loop.time()
            crash: Exception | None = None
            try:
                await self.drivers[name].run(self.sink)
                problem = "stopped on its own (a driver should run until cancelled)"
            except Exception as exc:
                problem, crash = f"crashed: {type(exc).__name__}: {exc}", exc
            if loop.time() - started > 10 * backoff.ceiling:
                backoff.reset()  # it ran well for a long while: this is a new failure
            delay = backoff.next()
            log.error("driver %s %s; restarting it in %.1f s", name, problem, delay,
                      exc_info=crash)
            await asyncio.sleep(delay)
            while True:
                try:
                    self.drivers[name] = create_driver(self.config, name, devices)
                    self.metrics.watch(name, self.drivers[name])
                    break
                except Exception:
                    delay = backoff.next()
                    log.exception("driver %s cannot be recreated; trying again in %.1f s",
                                  name, delay)
                    await asyncio.sleep(delay)
            self.restarts[name] += 1

    def _record(self, item: Item) -> None:
        self.sink.record(item)

    def _commander(self, device: str) -> Commander | None:
        """The driver serving `device` now (drivers are recreated after a crash)."""
        return commander_for(self.drivers.get(self._driver_of.get(device, "")))

    async def _tick_health(self) -> None:
        """Count silent report periods as failures, a few times per shortest period."""
        shortest = min((d.period.total_seconds() for d in self.config.devices), default=1.0)
        interval = min(max(shortest / 5, 0.05), 1.0)
        while True:
            await asyncio.sleep(interval)
            self.sink.tick()

    async def _report_self(self) -> None:
        """Readings about the gateway itself, with the gateway's id as device id: at start,
        every `self_report_every` seconds, and when asked (`_report_due`)."""
        self._report_due.set()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._report_due.wait(), self.self_report_every)
            self._report_due.clear()
            self.report_self()

    def report_self(self) -> None:
        """Put one set of self-readings into the spool now.

        They count what the spool dropped; writing them into a full spool may itself push
        out a few more readings, and then a second set carries the final counts.
        """
        self.spool.flush()
        dropped = self.spool.stats().dropped_total
        self._put_self_readings()
        self.spool.flush()
        if self.spool.stats().dropped_total != dropped:
            self._put_self_readings()

    def _put_self_readings(self) -> None:
        """Readings of a device named like the gateway: items and bytes in the spool; items
        it dropped (byte cap reached, or memory bound reached while its disk was full) in
        all and per kind, ever since the spool file was made; whether the spool can be
        written (0 while the disk is full); whether the uplink is connected; and what the
        drivers say about themselves (`ReportsOnItself`)."""
        stats = self.spool.stats()
        now = self.clock()
        values: dict[str, float] = {
            "spool_items": stats.items, "spool_bytes": stats.bytes,
            "spool_dropped_total": stats.dropped_total,
            **{f"spool_dropped_{kind}s_total": stats.dropped.get(kind, 0)
               for kind in ITEM_KINDS},
            "spool_writable": int(stats.writable),
            "uplink_connected": int(self.uplink.connected)}
        for driver in self.drivers.values():
            if isinstance(driver, ReportsOnItself):  # e.g. a link's poll cycle and overruns
                values.update(driver.self_readings())
        for metric, value in values.items():
            self.sink.own(Reading(self.config.gateway, metric, now, float(value)))


async def run_gateway(config: GatewayConfig) -> None:
    """Run a gateway from `config` until SIGINT / SIGTERM."""
    await Gateway(config).run(handle_signals=True)
