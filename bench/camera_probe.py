"""Benchmark: how many cameras per second the ONVIF driver probes in full (clock, device
information, snapshot with HTTP Digest, picture checks), against simulated cameras running
in another process, and whether a full cycle of 500 fits in the default probe period.

    python -m bench.camera_probe [--cameras 500] [--concurrency 16] [--rounds 2]

Two limits are printed with the figures, both from this run: the default probe period
(60 s: one full cycle must fit in it), and the bare snapshot rate of the same farm (plain
Digest GETs at the same concurrency, no ONVIF, no checks), which says how much of the
time is the driver's own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection

import aiohttp

from drivers.base import DeviceSpec, Observation
from drivers.onvif import OnvifDriver, create
from telemetry import Item, Probe

DEFAULT_PERIOD_S = 60.0   # the gateway config's usual camera probe period
_FARM_START_TIMEOUT_S = 120.0


# ---------------------------------------------------------------- the farm, in a child


def _farm_main(count: int, conn: Connection) -> None:
    asyncio.run(_serve_farm(count, conn))


async def _serve_farm(count: int, conn: Connection) -> None:
    from simulators.onvif import CameraFarm, make_cameras

    async with CameraFarm(make_cameras(count)) as farm:
        conn.send(farm.urls())
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "cpu":
                conn.send(time.process_time())
            else:
                break


class FarmProcess:
    """`count` simulated cameras served by a child process (spawned: no inherited loop)."""

    def __init__(self, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_farm_main, args=(count, child), daemon=True,
                                    name="camera-farm")
        self._process.start()
        child.close()
        if not self._conn.poll(_FARM_START_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"the camera farm did not start within "
                               f"{_FARM_START_TIMEOUT_S:g} s")
        self.urls: dict[str, str] = self._conn.recv()

    def cpu_seconds(self) -> float:
        self._conn.send("cpu")
        return float(self._conn.recv())

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):  # the child is gone already
            self._conn.send("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


# ---------------------------------------------------------------- the driver's side


@dataclass
class CountingSink:
    """Counts what the driver reports instead of keeping it (500 cameras, many rounds)."""

    probes: Counter[str] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    total: int = 0

    def emit(self, item: Item) -> None:
        if isinstance(item, Probe):
            self.probes[item.device] += 1
            self.checks[str(item.data.get("check"))] += 1
            self.total += 1

    def observe(self, observation: Observation) -> None:
        self.outcomes[str(observation.outcome)] += 1


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _wait_for(cond: object, deadline_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while not cond():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError(f"benchmark condition not met within {deadline_s:g} s")
        await asyncio.sleep(0.05)


@dataclass
class Figures:
    cameras: int
    concurrency: int
    cold_s: float
    warm_probes: int
    warm_s: float
    driver_cpu_s: float
    farm_cpu_s: float
    bare_rate: float
    checks: Counter[str]
    rss_mib: float

    @property
    def rate(self) -> float:
        return self.warm_probes / self.warm_s

    @property
    def cycle_s(self) -> float:
        return self.cameras / self.rate


async def _bare_snapshot_rate(uris: list[str], concurrency: int, limit_s: float) -> float:
    """Snapshots per second with plain Digest GETs at the same concurrency (second pass,
    so every camera's Digest challenge is already known, as it is for the driver)."""
    slots = asyncio.Semaphore(concurrency)
    digests = [(aiohttp.DigestAuthMiddleware("admin", "admin123"),) for _ in uris]
    limit = aiohttp.ClientTimeout(total=limit_s)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as client:

        async def fetch(i: int) -> None:
            async with slots, client.get(uris[i], middlewares=digests[i],
                                         timeout=limit) as response:
                response.raise_for_status()
                await response.read()

        await asyncio.gather(*(fetch(i) for i in range(len(uris))))
        started = time.perf_counter()
        await asyncio.gather(*(fetch(i) for i in range(len(uris))))
        return len(uris) / (time.perf_counter() - started)


async def measure(farm: FarmProcess, concurrency: int, rounds: int,
                  timeout_s: float = 10.0) -> Figures:
    count = len(farm.urls)
    # A 1 s period is shorter than any cycle of hundreds of cameras: every camera is due
    # again as soon as it was probed, so the probe slots never idle and the rate measured
    # is the driver's ceiling, not the period.
    devices = [DeviceSpec(cam_id, "onvif", "onvif_profile_s", url, timedelta(seconds=1),
                          {"username": "admin", "password": "admin123"})
               for cam_id, url in farm.urls.items()]
    driver: OnvifDriver = create({"concurrency": concurrency, "timeout": timeout_s,
                                  "events": False}, devices)
    sink = CountingSink()
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(driver.run(sink))
    try:
        await _wait_for(lambda: len(sink.probes) == count, 60 + count * timeout_s / concurrency)
        cold_s = loop.time() - started
        probes0, t0, cpu0, farm0 = sink.total, loop.time(), _own_cpu(), farm.cpu_seconds()
        await _wait_for(lambda: sink.total >= probes0 + rounds * count,
                        60 + rounds * count * timeout_s / concurrency)
        probes1, t1, cpu1, farm1 = sink.total, loop.time(), _own_cpu(), farm.cpu_seconds()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    uris = []
    for cam_id in farm.urls:
        prober = driver.prober(cam_id)
        uri = getattr(getattr(prober, "link", None), "snapshot_uri", None)
        if uri:
            uris.append(uri)
    bare = await _bare_snapshot_rate(uris, concurrency, timeout_s)
    cycles = (probes1 - probes0) / count
    return Figures(
        cameras=count, concurrency=concurrency, cold_s=cold_s,
        warm_probes=probes1 - probes0, warm_s=t1 - t0,
        driver_cpu_s=(cpu1 - cpu0) / cycles, farm_cpu_s=(farm1 - farm0) / cycles,
        bare_rate=bare, checks=sink.checks,
        rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def report(f: Figures) -> None:
    per_period = f.driver_cpu_s * (500 / f.cameras) / DEFAULT_PERIOD_S
    print(f"camera_probe: {f.cameras} simulated ONVIF cameras in a child process, "
          f"concurrency {f.concurrency}, full probe (clock, device information, snapshot "
          "with Digest, picture checks)")
    print(f"  first cycle (connect + probe): {f.cold_s:7.2f} s "
          f"({f.cameras / f.cold_s:.0f} cameras/s)")
    print(f"  steady state: {f.warm_probes} probes in {f.warm_s:.2f} s = "
          f"{f.rate:.0f} cameras/s")
    print(f"  one full cycle of {f.cameras} cameras: {f.cycle_s:.2f} s")
    if f.cameras != 500:
        print(f"  one full cycle of 500 cameras at that rate: {500 / f.rate:.2f} s")
    cycle500 = 500 / f.rate
    print(f"  limit 1, the default probe period: {DEFAULT_PERIOD_S:g} s -> ratio = "
          f"{cycle500:.2f} / {DEFAULT_PERIOD_S:g} = {cycle500 / DEFAULT_PERIOD_S:.3f} for 500 "
          "cameras (below 1: the cycle fits)")
    print(f"  limit 2, bare Digest snapshot GETs from the same farm: {f.bare_rate:.0f} "
          f"cameras/s -> ratio = {f.rate:.0f} / {f.bare_rate:.0f} = "
          f"{f.rate / f.bare_rate:.2f} (1 would mean ONVIF and checks cost nothing)")
    print(f"  CPU per {f.cameras}-camera cycle: driver {f.driver_cpu_s:.2f} s, farm "
          f"{f.farm_cpu_s:.2f} s; 500 cameras every {DEFAULT_PERIOD_S:g} s keep "
          f"{per_period:.1%} of one core busy in the driver; driver peak memory "
          f"{f.rss_mib:.0f} MiB")
    print(f"  checks: {dict(sorted(f.checks.items()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.camera_probe",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=500, help="simulated cameras (500)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="probes in flight, as the driver setting (16)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="steady-state cycles to time after the first (2)")
    args = parser.parse_args(argv)
    if args.cameras < 1 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--cameras, --concurrency and --rounds must be at least 1")
    farm = FarmProcess(args.cameras)
    try:
        figures = asyncio.run(measure(farm, args.concurrency, args.rounds))
    finally:
        farm.stop()
    report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
