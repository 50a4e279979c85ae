"""Benchmark: how many device polls per second the Modbus driver completes, and how much CPU
each costs, with 1,000 simulated devices served by other processes (10 Modbus TCP
endpoints x 100 unit ids by default, each a household meter: three read requests a poll).

    python -m bench.modbus_poll [--endpoints 10] [--units 100] [--seconds 10]

Limits measured in the same run: (1) bare pymodbus, the same reads from one plain client
per endpoint with no driver around them (how much of the time is the driver's own); (2) the
poll-period budget: 1,000 meters every --period seconds (default 60) need 1000/60 polls per
second, and one core gives each poll period/1000 of CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import resource
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection

from pymodbus.client import AsyncModbusTcpClient

from drivers.base import DeviceSpec, Observation, Outcome
from drivers.modbus import create, find_profile, plan_profile
from telemetry import Item

PROFILE = "eastron_sdm120"
_START_TIMEOUT_S = 60.0


# ---------------------------------------------------------------- the devices, in children


def _farm_main(endpoints: int, units: int, first: int, conn: Connection) -> None:
    asyncio.run(_serve(endpoints, units, first, conn))


async def _serve(endpoints: int, units: int, first: int, conn: Connection) -> None:
    from simulators.modbus import EastronSdm120, TcpEndpoint

    servers = [TcpEndpoint({u: EastronSdm120(seed=f"{first + e}:{u}")
                            for u in range(1, units + 1)}) for e in range(endpoints)]
    for server in servers:
        await server.start()
    conn.send([s.port for s in servers])
    loop = asyncio.get_running_loop()
    try:
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "cpu":
                conn.send(time.process_time())
            else:
                break
    finally:
        for server in servers:
            await server.stop()


class Farm:
    """`endpoints` TCP endpoints of `units` meters each, spread over `processes` children."""

    def __init__(self, endpoints: int, units: int, processes: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._children: list[tuple[Connection, multiprocessing.process.BaseProcess]] = []
        self.ports: list[int] = []
        shares = [endpoints // processes + (1 if i < endpoints % processes else 0)
                  for i in range(processes)]
        first = 0
        for share in (s for s in shares if s):
            mine, theirs = ctx.Pipe()
            process = ctx.Process(target=_farm_main, args=(share, units, first, theirs),
                                  daemon=True, name=f"modbus-farm-{first}")
            process.start()
            theirs.close()
            self._children.append((mine, process))
            first += share
        for conn, _ in self._children:
            if not conn.poll(_START_TIMEOUT_S):
                self.stop()
                raise RuntimeError(f"a simulator process did not start within "
                                   f"{_START_TIMEOUT_S:g} s")
            self.ports += conn.recv()

    def cpu_seconds(self) -> float:
        total = 0.0
        for conn, _ in self._children:
            conn.send("cpu")
            total += float(conn.recv())
        return total

    def stop(self) -> None:
        for conn, process in self._children:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send("stop")
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()


# ---------------------------------------------------------------- the driver's side


@dataclass
class CountingSink:
    ok: int = 0
    bad: int = 0
    readings: int = 0

    def emit(self, item: Item) -> None:
        self.readings += 1

    def observe(self, observation: Observation) -> None:
        if observation.outcome is Outcome.OK:
            self.ok += 1
        else:
            self.bad += 1


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Figures:
    devices: int
    endpoints: int
    requests_per_poll: int
    polls: int
    seconds: float
    driver_cpu_s: float
    farm_cpu_s: float
    bad: int
    bare_polls: int
    bare_seconds: float
    bare_cpu_s: float

    @property
    def rate(self) -> float:
        return self.polls / self.seconds

    @property
    def cpu_per_poll(self) -> float:
        return self.driver_cpu_s / self.polls

    @property
    def bare_rate(self) -> float:
        return self.bare_polls / self.bare_seconds


async def _wait_for(cond: object, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError(f"benchmark condition not met within {within:g} s")
        await asyncio.sleep(0.05)


async def measure(farm: Farm, units: int, seconds: float) -> Figures:
    links = {f"gw{i}": {"type": "tcp", "host": "127.0.0.1", "port": port, "timeout": 2.0}
             for i, port in enumerate(farm.ports)}
    # A 1 ms period is shorter than any cycle of 100 units on one link: every device is due
    # as soon as it was polled, the links never idle, and the rate is the driver's ceiling.
    devices = [DeviceSpec(f"m{i}-{u}", "modbus", PROFILE, f"gw{i}/{u}",
                          timedelta(milliseconds=1))
               for i in range(len(farm.ports)) for u in range(1, units + 1)]
    driver = create({"links": links}, devices)
    sink = CountingSink()
    task = asyncio.create_task(driver.run(sink))
    loop = asyncio.get_running_loop()
    try:
        await _wait_for(lambda: all(driver.polls.values()), 60)
        ok0, bad0, t0, cpu0, farm0 = sink.ok, sink.bad, loop.time(), _own_cpu(), \
            farm.cpu_seconds()
        await asyncio.sleep(seconds)
        ok1, bad1, t1, cpu1, farm1 = sink.ok, sink.bad, loop.time(), _own_cpu(), \
            farm.cpu_seconds()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    bare_polls, bare_seconds, bare_cpu = await _bare(farm.ports, units, seconds / 2)
    return Figures(devices=len(devices), endpoints=len(farm.ports),
                   requests_per_poll=len(plan_profile(find_profile(PROFILE))),
                   polls=ok1 - ok0, seconds=t1 - t0, driver_cpu_s=cpu1 - cpu0,
                   farm_cpu_s=farm1 - farm0, bad=bad1 - bad0, bare_polls=bare_polls,
                   bare_seconds=bare_seconds, bare_cpu_s=bare_cpu)


async def _bare(ports: list[int], units: int, seconds: float) -> tuple[int, float, float]:
    """The same reads, one plain pymodbus client per endpoint going round its units."""
    blocks = plan_profile(find_profile(PROFILE))
    polls = 0
    stop = False

    async def loop_over(port: int) -> None:
        nonlocal polls
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
        await client.connect()
        try:
            while not stop:
                for unit in range(1, units + 1):
                    for b in blocks:
                        await client.read_input_registers(b.address, count=b.count,
                                                          device_id=unit)
                    polls += 1
                    if stop:
                        return
        finally:
            client.close()

    tasks = [asyncio.create_task(loop_over(p)) for p in ports]
    await asyncio.sleep(0.5)  # connected and warm
    polls0, t0, cpu0 = polls, time.perf_counter(), _own_cpu()
    await asyncio.sleep(seconds)
    polls1, t1, cpu1 = polls, time.perf_counter(), _own_cpu()
    stop = True
    await asyncio.gather(*tasks, return_exceptions=True)
    return polls1 - polls0, t1 - t0, cpu1 - cpu0


def report(f: Figures, period: float) -> None:
    need = f.devices / period
    budget = period / f.devices
    bare_cpu = f.bare_cpu_s / f.bare_polls if f.bare_polls else float("nan")
    print(f"modbus_poll: {f.devices} simulated {PROFILE} meters in other processes "
          f"({f.endpoints} Modbus TCP endpoints x {f.devices // f.endpoints} unit ids), "
          f"{f.requests_per_poll} read requests per poll, one request at a time per link")
    print(f"  driver: {f.polls} good polls in {f.seconds:.2f} s = {f.rate:,.0f} device polls/s "
          f"({f.rate * f.requests_per_poll:,.0f} requests/s); {f.bad} bad")
    print(f"  driver CPU per poll: {f.cpu_per_poll * 1e3:.3f} ms (decode, events, "
          f"observation, pymodbus); simulators' CPU per poll "
          f"{f.farm_cpu_s / f.polls * 1e3:.3f} ms")
    print(f"  limit 1, bare pymodbus clients, same reads, no driver: {f.bare_rate:,.0f} "
          f"polls/s at {bare_cpu * 1e3:.3f} ms CPU per poll -> ratio = {f.rate:,.0f} / "
          f"{f.bare_rate:,.0f} = {f.rate / f.bare_rate:.2f} (1: the driver costs nothing)")
    print(f"  limit 2, the poll period: {f.devices} meters every {period:g} s need "
          f"{need:,.1f} polls/s -> ratio = {need:,.1f} / {f.rate:,.0f} = {need / f.rate:.4f} "
          "of the capacity (below 1: it fits)")
    print(f"  limit 3, CPU budget per poll on one core: {budget * 1e3:.1f} ms -> ratio = "
          f"{f.cpu_per_poll * 1e3:.3f} / {budget * 1e3:.1f} = {f.cpu_per_poll / budget:.4f} "
          f"(one core {f.cpu_per_poll / budget:.2%} busy polling {f.devices} meters every "
          f"{period:g} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.modbus_poll",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=10, help="TCP endpoints (10)")
    parser.add_argument("--units", type=int, default=100,
                        help="unit ids per endpoint, 1..247 (100)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="steady-state seconds to time (10)")
    parser.add_argument("--period", type=float, default=60.0,
                        help="poll period of the budget limit, seconds (60)")
    parser.add_argument("--processes", type=int, default=2,
                        help="simulator processes the endpoints are spread over (2)")
    args = parser.parse_args(argv)
    if args.endpoints < 1 or not 1 <= args.units <= 247 or args.seconds <= 0 \
            or args.processes < 1 or args.period <= 0:
        parser.error("--endpoints and --processes must be >= 1, --units 1..247, --seconds "
                     "and --period > 0")
    farm = Farm(args.endpoints, args.units, min(args.processes, args.endpoints))
    try:
        figures = asyncio.run(measure(farm, args.units, args.seconds))
    finally:
        farm.stop()
    report(figures, args.period)
    return 0 if figures.polls and not figures.bad else 1


if __name__ == "__main__":
    sys.exit(main())
