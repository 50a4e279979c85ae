"""Benchmark: the county at scale — N communities of D devices with H days of history,
built through the product's own import and writer (`bench.county_build`), then the API
as a county data centre runs it: `scg api --evaluator off` beside `scg evaluator run`.

    python -m bench county [--communities 100] [--devices 5000] [--days 7]
                           [--data-dir DIR] [--requests 200] [--quick]

Measured: p50/p95 of GET /api/communities/{id}/indicators, /acceptance?tier=growth,
/api/overview and /devices against /healthz in the same run (the limit: the server's
floor), the database size per device-month, the evaluator's time per community, and the
snapshot lag after a burst of state changes (from their commit to the first served
snapshot that reflects them). The built database is kept under --data-dir and reused by
a later run with the same sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.county_build import CommunityPlan, history_span, import_community, write_history
from ingest.messages import Received
from ingest.schema.migrate import migrate
from ingest.writer import write_batch
from scg.localsvc import PostgresCluster
from scg.localsvc.process import free_port
from telemetry import DeviceState, Envelope, StateChange, uplink_topic
from telemetry.codec import Decoded

#: The issue's targets, in milliseconds at the 95th percentile, and the lag bound.
TARGETS = {"indicators": 50.0, "acceptance": 80.0, "overview": 150.0}
LAG_TARGET_S = 15.0


def _log(text: str) -> None:
    print(text, flush=True)


def _dsn(pg: PostgresCluster) -> str:
    return pg.dsn("scg_county")


def built_before(marker: Path, plans: list[CommunityPlan], days: float
                 ) -> dict[str, Any] | None:
    """What `marker` says was built, if it is this size."""
    wanted = {"communities": len(plans), "devices": plans[0].devices, "days": days}
    if marker.exists():
        done: dict[str, Any] = json.loads(marker.read_text())
        if {k: done.get(k) for k in wanted} == wanted:
            _log(f"  reusing the database built {done['built_at']} ({done['build_s']:.0f} s "
                 f"to build)")
            return done
    return None


async def build(pg: PostgresCluster, plans: list[CommunityPlan], days: float
                ) -> dict[str, Any]:
    """Migrate, import every community and write its history."""
    wanted = {"communities": len(plans), "devices": plans[0].devices, "days": days}
    conn = await asyncpg.connect(pg.dsn())
    try:
        await conn.execute("DROP DATABASE IF EXISTS scg_county")
        await conn.execute("CREATE DATABASE scg_county")
    finally:
        await conn.close()
    started = time.perf_counter()
    await migrate(_dsn(pg))
    conn = await asyncpg.connect(_dsn(pg))
    start, end = history_span(days)
    items = 0
    try:
        for n, plan in enumerate(plans, 1):
            await import_community(conn, plan)
            items += await write_history(conn, plan, start, end)
            if n == 1 or n % 10 == 0 or n == len(plans):
                _log(f"  built {n}/{len(plans)} communities: {items:,} items in "
                     f"{time.perf_counter() - started:.0f} s")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return {**wanted, "items": items, "build_s": time.perf_counter() - started,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "history_end": end.isoformat()}


def _scg(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    scg = Path(sys.executable).with_name("scg")
    with log.open("ab") as out:
        return subprocess.Popen([str(scg), *args], env=env, stdout=out, stderr=out)


async def _token(dsn: str) -> str:
    from web.auth.users import add_user, make_api_token

    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        if await conn.fetchval("SELECT id FROM users WHERE name = 'bench'") is None:
            await add_user(conn, "bench", "admin", None, None, actor="bench", at=now)
        issued = await make_api_token(conn, "bench", timedelta(hours=6), label="bench",
                                      actor="bench", at=now)
        return str(issued.token)
    finally:
        await conn.close()


async def _wait_snapshots(dsn: str, count: int, within: float) -> float:
    """Seconds until every community has a snapshot."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        while time.perf_counter() - started < within:
            have = await conn.fetchval("SELECT count(*) FROM indicator_snapshots")
            if have >= count:
                return time.perf_counter() - started
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    raise RuntimeError(f"the evaluator made {have} of {count} snapshots in {within:.0f} s")


def _percentiles(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[94]


def _time_requests(client: httpx.Client, paths: list[str], requests: int) -> list[float]:
    """Milliseconds per request, cycling through `paths`; every answer must be 200."""
    out = []
    for i in range(requests):
        path = paths[i % len(paths)]
        t = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path} answered {r.status_code}: {r.text[:300]}")
    return out


async def _burst(dsn: str, chosen: list[CommunityPlan]) -> tuple[float, dict[str, int]]:
    """Some devices of each of `chosen` go offline in one batch; its commit time and each
    community's data version after it."""
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        msgs = []
        for p in chosen:
            ids = p.ids("manhole_cover")[: max(1, p.devices // 50)]
            gw = p.gateway_of(0)
            env = Envelope(p.ident, gw, 10**12 + int(now.timestamp()), now,
                           tuple(StateChange(d, DeviceState.OFFLINE, now, "burst")
                                 for d in ids[::len(p.gateways)]))
            msgs.append(Received(uplink_topic(p.ident, gw, "state"), b"", now,
                                 decoded=Decoded(env)))
        await write_batch(conn, msgs)
        committed = time.perf_counter()
        target = {r["community"]: r["version"] for r in await conn.fetch(
            "SELECT community, version FROM community_data_versions WHERE community = ANY($1)",
            [p.ident for p in chosen])}
    finally:
        await conn.close()
    return committed, target


def burst_lags(dsn: str, plans: list[CommunityPlan], client: httpx.Client,
               within: float = 60) -> list[float]:
    """Ten communities' burst of state changes: seconds from its commit until each one's
    served snapshot reflects it."""
    chosen = plans[:10]
    committed, target = asyncio.run(_burst(dsn, chosen))
    lags: dict[str, float] = {}
    while len(lags) < len(chosen) and time.perf_counter() - committed < within:
        for p in chosen:
            if p.ident in lags:
                continue
            r = client.get(f"/api/communities/{p.ident}/indicators")
            if r.headers.get("scg-source") == "snapshot" and \
                    int(r.headers["scg-data-version"]) >= target[p.ident]:
                lags[p.ident] = time.perf_counter() - committed
        time.sleep(0.05)
    return sorted(lags.values())


def run(args: argparse.Namespace) -> int:
    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o755)
    plans = [CommunityPlan(f"c{n:03d}", args.devices) for n in range(1, args.communities + 1)]
    pg = PostgresCluster(data / "pg", durable=False, settings={
        "shared_buffers": "2GB", "max_wal_size": "8GB", "checkpoint_timeout": "15min"})
    pg.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        _log(f"county: {args.communities} communities x {args.devices:,} devices, "
             f"{args.days:g} days of history, in {data}")
        marker = data / "built.json"
        built = built_before(marker, plans, args.days)
        if built is None:
            built = asyncio.run(build(pg, plans, args.days))
            marker.write_text(json.dumps(built))
        dsn = _dsn(pg)
        size = asyncio.run(_size_and_reset(dsn))
        env = {**os.environ, "SCG_DATABASE_URL": dsn}
        port = free_port()
        procs.append(_scg("evaluator", "run", "--evaluator-workers", "2", env=env,
                          log=data / "evaluator.log"))
        started = time.perf_counter()
        waited = asyncio.run(_wait_snapshots(dsn, len(plans), within=60 + 5 * len(plans)))
        procs.append(_scg("api", "--port", str(port), "--evaluator", "off",
                          "--history-interval", "off", env=env, log=data / "api.log"))
        token = asyncio.run(_token(dsn))
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers,
                          timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the API did not start; see {data / 'api.log'}")
                time.sleep(0.2)
            ids = [p.ident for p in plans]
            paths = {
                "healthz": ["/healthz"],
                "indicators": [f"/api/communities/{c}/indicators" for c in ids],
                "acceptance": [f"/api/communities/{c}/acceptance?tier=growth" for c in ids],
                "overview": ["/api/overview"],
                "devices": [f"/api/communities/{c}/devices" for c in ids],
            }
            for ps in paths.values():   # warm up: connections, caches
                _time_requests(client, ps, min(len(ps), 20))
            timings = {name: _time_requests(client, ps, args.requests)
                       for name, ps in paths.items()}
            body = client.get(f"/api/communities/{ids[0]}/indicators").content
            lags = burst_lags(dsn, plans, client)
        compute = asyncio.run(_compute_ms(dsn))
        report(args, built, size, timings, len(body), waited, compute, lags,
               time.perf_counter() - started)
        failed = [n for n, limit in TARGETS.items()
                  if _percentiles(timings[n])[1] > limit]
        return 1 if failed or not lags or max(lags) > LAG_TARGET_S else 0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        pg.stop()
        if args.quick and not args.keep:
            shutil.rmtree(data, ignore_errors=True)


async def _size_and_reset(dsn: str) -> int:
    """The database's size; then no snapshots, so the evaluator makes them all anew."""
    conn = await asyncpg.connect(dsn)
    try:
        size: int = await conn.fetchval("SELECT pg_database_size(current_database())")
        await conn.execute("TRUNCATE indicator_snapshots, snapshot_evaluators")
        return size
    finally:
        await conn.close()


async def _compute_ms(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return sorted(r["compute_ms"] for r in await conn.fetch(
            "SELECT compute_ms FROM indicator_snapshots"))
    finally:
        await conn.close()


def report(args: argparse.Namespace, built: dict[str, Any], size: int,
           timings: dict[str, list[float]], body: int, waited: float, compute: list[int],
           lags: list[float], elapsed: float) -> None:
    devices = args.communities * args.devices
    months = args.days / 30
    _log(f"  build: {built['items']:,} items through write_batch in {built['build_s']:.0f} s "
         f"({built['items'] / max(built['build_s'], 1e-9):,.0f} items/s); database "
         f"{size / 2**30:.2f} GiB = {size / devices / months / 2**20:.2f} MiB per "
         f"device-month ({size / devices / args.days / 1024:.1f} KiB per device-day)")
    _log(f"  evaluator: first snapshots of {args.communities} communities in {waited:.1f} s; "
         f"compute per community p50 {statistics.median(compute):.0f} ms, max "
         f"{max(compute)} ms")
    floor = _percentiles(timings["healthz"])
    _log(f"  limit, GET /healthz same run: p50 {floor[0]:.2f} ms, p95 {floor[1]:.2f} ms")
    for name in ("indicators", "acceptance", "overview", "devices"):
        p50, p95 = _percentiles(timings[name])
        target = TARGETS.get(name)
        verdict = "" if target is None else \
            f"; target p95 <= {target:.0f} ms: {'met' if p95 <= target else 'NOT met'}"
        _log(f"  GET {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms -> ratio p95 / healthz p95 = "
             f"{p95 / floor[1]:.0f}{verdict}")
    _log(f"  /indicators body: {body / 1024:.0f} KiB")
    if lags:
        _log(f"  snapshot lag after a burst of state changes in {len(lags)} communities: "
             f"max {max(lags):.2f} s, median {statistics.median(lags):.2f} s; target "
             f"<= {LAG_TARGET_S:.0f} s: {'met' if max(lags) <= LAG_TARGET_S else 'NOT met'}")
    else:
        _log("  snapshot lag: no served snapshot reflected the burst within 60 s: NOT met")
    _log(f"  measured in {elapsed:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench county", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communities", type=int, default=100)
    parser.add_argument("--devices", type=int, default=5000, help="per community")
    parser.add_argument("--days", type=float, default=7, help="of history per community")
    parser.add_argument("--requests", type=int, default=200, help="timed per endpoint")
    parser.add_argument("--data-dir", default=".scg-state/bench-county",
                        help="where the built database is kept and reused")
    parser.add_argument("--quick", action="store_true",
                        help="3 communities of 500 devices, 1 day, 60 requests each")
    parser.add_argument("--keep", action="store_true", help="with --quick: keep the data")
    args = parser.parse_args(argv)
    if args.quick:
        args.communities, args.devices, args.days, args.requests = 3, 500, 1, 60
        args.data_dir = str(Path(args.data_dir).with_name("bench-county-quick"))
    if args.communities < 1 or args.devices < 100 or args.days < 1:
        parser.error("give at least 1 community of 100 devices with 1 day of history")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
