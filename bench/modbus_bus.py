"""Benchmark: how long a dead unit on an RS-485 bus holds up its live neighbours, and how soon
it is read again once it answers.

    python -m bench.modbus_bus [--units 10] [--period 0.3] [--timeout 0.15] [--seconds 4]

One bus (socat pseudo-terminals, 115200 baud) carries --units simulated household meters;
the driver polls each every --period seconds and waits --timeout for an answer. Two runs:
every unit alive, then one unit dead. Limits measured in the same run: (1) the worst
interval between two good polls of a live unit with every unit alive, plus one timeout (a
dead unit may cost its neighbours one timeout, never two, and the polls that queued behind
it meanwhile); (2) the period (a dead unit must
not slow the live ones on average); (3) the dead unit's retry ceiling plus one period and
one timeout, for the revived unit's first good answer.

The test (tests/drivers/test_modbus_bus.py) judges the same behaviour by the order of events,
which no machine's pace can upset; the figures against the clock live here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise

from drivers.base import DeviceSpec, Observation, Outcome
from drivers.modbus import create
from telemetry import Item

PROFILE = "eastron_sdm120"
RETRY_MAX = 0.6


@dataclass
class _Sink:
    watched: str = ""
    ok: dict[str, list[float]] = field(default_factory=dict)
    failed: int = 0
    watched_ok: asyncio.Event = field(default_factory=asyncio.Event)

    def emit(self, item: Item) -> None:
        pass

    def observe(self, observation: Observation) -> None:
        if observation.outcome is Outcome.OK:
            self.ok.setdefault(observation.device, []).append(
                asyncio.get_running_loop().time())
            if observation.device == self.watched:
                self.watched_ok.set()
        else:
            self.failed += 1


@dataclass(frozen=True)
class Run:
    intervals: list[float]  # between good polls of the live units
    revived_after: float | None  # the dead unit's first good answer after it came back
    poll_cost: float  # mean link time of one good poll


async def _run(units: int, period: float, answer_s: float, seconds: float,
               dead: int | None) -> Run:
    from simulators.modbus import EastronSdm120, SerialBus

    meters = {u: EastronSdm120(seed=u) for u in range(1, units + 1)}
    if dead is not None:
        meters[dead].kill()
    async with SerialBus(meters) as bus:
        assert isinstance(bus, SerialBus)
        link = {"type": "rtu", "port": bus.client_port, "baudrate": 115200, "timeout": answer_s}
        devices = [DeviceSpec(f"m{u}", "modbus", PROFILE, f"bus/{u}", timedelta(seconds=period))
                   for u in meters]
        driver = create({"links": {"bus": link}, "reconnect_min": 0.05, "reconnect_max": 0.2,
                         "retry_max": RETRY_MAX}, devices)
        sink = _Sink(f"m{dead}")
        costs: list[float] = []
        driver.budgets["bus"].on_poll = costs.append
        task = asyncio.create_task(driver.run(sink))
        loop = asyncio.get_running_loop()
        revived_after = None
        try:
            await asyncio.sleep(seconds)
            if dead is not None:
                meters[dead].revive()
                back = loop.time()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(sink.watched_ok.wait(),
                                           RETRY_MAX + period + answer_s + 5.0)
                    revived_after = sink.ok[f"m{dead}"][0] - back
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    live = [f"m{u}" for u in meters if u != dead]
    return Run([b - a for d in live for a, b in pairwise(sink.ok.get(d, []))], revived_after,
               statistics.median(costs) if costs else 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.modbus_bus",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10, help="meters on the bus (10)")
    parser.add_argument("--period", type=float, default=0.3, help="poll period, s (0.3)")
    parser.add_argument("--timeout", type=float, default=0.15, help="answer timeout, s (0.15)")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per run (4)")
    args = parser.parse_args(argv)
    if args.units < 2 or args.period <= 0 or args.timeout <= 0 or args.seconds <= 0:
        parser.error("--units must be >= 2; --period, --timeout and --seconds > 0")
    dead = (args.units + 1) // 2
    alive = asyncio.run(_run(args.units, args.period, args.timeout, args.seconds, None))
    hurt = asyncio.run(_run(args.units, args.period, args.timeout, args.seconds, dead))
    if not alive.intervals or not hurt.intervals or hurt.revived_after is None:
        print("modbus_bus: no figures: the live units were not polled twice, or the revived "
              "unit never answered", file=sys.stderr)
        return 1
    # While the dead unit holds the bus for one timeout, the live polls that fall due queue
    # behind it; draining them costs their own link time on top.
    queued = (args.units - 1) * args.timeout / args.period
    drain = queued * alive.poll_cost
    worst, limit1 = max(hurt.intervals), max(alive.intervals) + args.timeout + drain
    mean = statistics.mean(hurt.intervals)
    limit3 = RETRY_MAX + args.period + args.timeout
    print(f"modbus_bus: {args.units} {PROFILE} meters on one socat RS-485 bus at 115200 baud, "
          f"period {args.period:g} s, timeout {args.timeout:g} s, {args.seconds:g} s per run; "
          f"unit {dead} dead in the second run")
    print(f"  limit 1, worst live interval: {worst:.3f} s with unit {dead} dead; all alive "
          f"{max(alive.intervals):.3f} s + one timeout + {queued:.1f} queued polls x "
          f"{alive.poll_cost * 1e3:.1f} ms = {limit1:.3f} s -> ratio = "
          f"{worst / limit1:.3f} (at most 1: the dead unit costs one timeout, never two)")
    print(f"  limit 2, mean live interval: {mean:.3f} s against the period {args.period:g} s "
          f"-> ratio = {mean / args.period:.3f} (1: the live units keep their period)")
    print(f"  limit 3, revived unit read again after {hurt.revived_after:.3f} s; retry ceiling "
          f"+ period + timeout = {limit3:.3f} s -> ratio = {hurt.revived_after / limit3:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
