"""Benchmark: how fast the real ingest consumer drains a broker queue into PostgreSQL, at
100 readings a message and at 1 reading a message.

    python -m bench.ingest [--messages-100 3000] [--messages-1 60000] [--durable]

It starts its own mosquitto and PostgreSQL (scg.localsvc), migrates a database, lets the
consumer create its persistent session, stops it, publishes every message into that
session's queue, then starts the consumer again and times the drain from its start to
its last commit (so the publisher's speed is not measured). Limits measured in the
same run on the same server and table: (1) one binary COPY of the same readings into
`readings`, the fastest way PostgreSQL takes rows; (2) naive single-row INSERTs in
autocommit, what a loop of `INSERT … VALUES` per reading gets.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from ingest.consumer import Consumer, ConsumerSettings
from ingest.schema.migrate import migrate
from inventory import import_inventory, parse_inventory
from scg.localsvc import Mosquitto, PostgresCluster
from telemetry import Envelope, Reading, encode, uplink_topic

COMMUNITY = "bench"
GATEWAYS = 10
METERS = 5000
METRIC = "energy_import_kwh"
#: The sizing targets of the county-scale issue.
TARGET_COPY_RATIO = 0.5
TARGET_MESSAGES = 15_000


@dataclass
class Drain:
    per_message: int
    messages: int
    readings: int
    seconds: float
    cpu_s: float
    database_cpu_s: float  # PostgreSQL, every process of the server
    broker_cpu_s: float
    load: float  # the machine's 1-minute load average at the end (ours included)

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def readings_per_s(self) -> float:
        return self.readings / self.seconds


def _envelopes(count: int, per_message: int, start: datetime,
               first_seq: int) -> Iterator[tuple[str, bytes, list[Reading]]]:
    """`count` envelopes of `per_message` meter readings, round-robin over the gateways,
    each gateway reporting its own meters (`_register`)."""
    n = 0
    per_gateway = METERS // GATEWAYS
    sent = [0] * GATEWAYS
    for i in range(count):
        g = i % GATEWAYS
        gateway = f"gw{g:02d}"
        items = []
        for _ in range(per_message):
            t = start + timedelta(milliseconds=n)
            meter = g * per_gateway + sent[g] % per_gateway
            sent[g] += 1
            items.append(Reading(f"m{meter:05d}", METRIC, t, float(n)))
            n += 1
        env = Envelope(COMMUNITY, gateway, first_seq + i, items[-1].time, tuple(items))
        yield uplink_topic(COMMUNITY, gateway, "telemetry"), encode(env), items


async def _register(dsn: str) -> None:
    """Import the bench community's register: ingest takes readings only of the meters
    registered to the gateway that sends them."""
    per_gateway = METERS // GATEWAYS
    rows = "".join(
        f'  - {{id: "m{{n:05d}}", repeat: {per_gateway}, start: {g * per_gateway}, '
        f'kind: meter, household: "h{{n:05d}}", gateway: gw{g:02d}, protocol: modbus}}\n'
        for g in range(GATEWAYS))
    inventory = parse_inventory(f"community: {{id: {COMMUNITY}, name: bench, district: "
                                f'"370102"}}\ndevices:\n{rows}', "bench.yaml")
    conn = await asyncpg.connect(dsn)
    try:
        await import_inventory(conn, inventory)
    finally:
        await conn.close()


def _login(broker: Mosquitto, username: str) -> tuple[str | None, str | None]:
    """Credentials of `username` on a broker with accounts; none on an anonymous one."""
    login = getattr(broker, "login", None)
    if login is None:
        return None, None
    got = login(username)
    return got.username, got.password


def _publish(broker: Mosquitto, messages: list[tuple[str, bytes]]) -> float:
    """Publish at QoS 1, as each message's own gateway, and wait for every PUBACK;
    return the seconds it took."""
    by_gateway: dict[str, list[tuple[str, bytes]]] = {}
    for topic, payload in messages:
        by_gateway.setdefault(topic.split("/")[3], []).append((topic, payload))
    started = time.perf_counter()
    for gateway, mine in by_gateway.items():
        _publish_as(broker, f"{COMMUNITY}/{gateway}", mine)
    return time.perf_counter() - started


def _publish_as(broker: Mosquitto, username: str, messages: list[tuple[str, bytes]]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{username}",
                         protocol=mqtt.MQTTv5)
    user, password = _login(broker, username)
    if user:
        client.username_pw_set(user, password)
    client.max_inflight_messages_set(1000)
    # No more outstanding than in flight: paho scans its whole outgoing queue per PUBACK.
    room = threading.Semaphore(1000)
    client.on_publish = lambda *a: room.release()
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for topic, payload in messages:
            if not room.acquire(timeout=60):
                raise RuntimeError("the broker stopped acknowledging publishes")
            client.publish(topic, payload, qos=1)
        for _ in range(1000):
            if not room.acquire(timeout=60):
                raise RuntimeError("the broker stopped acknowledging publishes")
    finally:
        client.disconnect()
        client.loop_stop()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_cpu(pid: int) -> float:
    """CPU seconds of server process `pid` and of its children, running or ended
    (PostgreSQL serves each connection from a process of its own); 0 without Linux's
    /proc. Where the time of a drain goes on a machine whose cores are shared."""
    def times(stat: Path) -> tuple[int, list[int]]:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return int(fields[1]), [int(f) for f in fields[11:15]]  # ppid; utime … cstime

    try:
        ticks = sum(times(Path(f"/proc/{pid}/stat"))[1])
    except OSError:
        return 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent, used = times(entry / "stat")
            except (OSError, ValueError, IndexError):
                continue  # ended meanwhile: its time is in its parent's children's time
            if parent == pid:
                ticks += sum(used)
    return ticks / os.sysconf("SC_CLK_TCK")


async def _drain(dsn: str, pg: PostgresCluster, broker: Mosquitto, per_message: int,
                 count: int, first_seq: int) -> Drain:
    user, password = _login(broker, "scg-ingest")
    settings = ConsumerSettings(database_url=dsn, broker_host=broker.host,
                                broker_port=broker.port, client_id=f"bench-{per_message}",
                                username=user, password=password, stats_every=3600)
    # Create the persistent session, so the broker queues what is published while away.
    await _run_until(Consumer(settings), lambda c: True)
    start = datetime.now(UTC) - timedelta(hours=1)
    messages = [(t, p) for t, p, _ in _envelopes(count, per_message, start, first_seq)]
    loop = asyncio.get_running_loop()
    published = await loop.run_in_executor(None, _publish, broker, messages)
    print(f"  ({count:,} messages of {per_message} published into the queue in "
          f"{published:.1f} s; draining)", flush=True)
    consumer = Consumer(settings)
    # From the start of the consumer (the broker sends a session's queue right after the
    # connection, before the subscription is confirmed) to the commit of the last message.
    servers = [pg.proc.pid if pg.proc else 0, broker.proc.pid if broker.proc else 0]
    t0, cpu0 = time.perf_counter(), _cpu()
    db0, mq0 = (_server_cpu(pid) for pid in servers)
    await _run_until(consumer, lambda c: c.counters.written >= count, within=600)
    t1, cpu1 = time.perf_counter(), _cpu()
    db1, mq1 = (_server_cpu(pid) for pid in servers)
    if consumer.counters.dead_letters or consumer.counters.duplicates:
        raise RuntimeError(f"the drain wrote {consumer.counters.dead_letters} dead letters "
                           f"and {consumer.counters.duplicates} duplicates; expected none")
    return Drain(per_message, count, count * per_message, t1 - t0, cpu1 - cpu0, db1 - db0,
                 mq1 - mq0, os.getloadavg()[0])


async def _run_until(consumer: Consumer, cond: object, within: float = 60) -> None:
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(within):
            await consumer.wait_subscribed()
            while not cond(consumer):  # type: ignore[operator]
                if task.done():
                    task.result()
                await asyncio.sleep(0.005)
    finally:
        consumer.stop()
        await task


async def _copy_rate(dsn: str, rows: int, tries: int = 3) -> float:
    """Readings/s of one binary COPY of `rows` readings into `readings`: the best of
    `tries`, so that a moment of load on a shared machine flatters the ratio less."""
    best = 0.0
    conn = await asyncpg.connect(dsn)
    try:
        for attempt in range(tries):
            start = datetime.now(UTC) - timedelta(minutes=30 + attempt)
            records = [(start + timedelta(microseconds=n), COMMUNITY, "gw-copy",
                        f"m{n % METERS:05d}", METRIC, float(n)) for n in range(rows)]
            began = time.perf_counter()
            await conn.copy_records_to_table(
                "readings", records=records,
                columns=["time", "community", "gateway", "device", "metric", "value"])
            best = max(best, rows / (time.perf_counter() - began))
        return best
    finally:
        await conn.close()


async def _insert_rate(dsn: str, seconds: float) -> tuple[int, float]:
    """Readings/s of one `INSERT … VALUES` per reading, each its own transaction."""
    start = datetime.now(UTC) - timedelta(minutes=20)
    conn = await asyncpg.connect(dsn)
    try:
        stmt = await conn.prepare(
            "INSERT INTO readings (time, community, gateway, device, metric, value) "
            "VALUES ($1, $2, $3, $4, $5, $6)")
        n = 0
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            await stmt.fetch(start + timedelta(milliseconds=n), COMMUNITY, "gw-insert",
                             f"m{n % METERS:05d}", METRIC, float(n))
            n += 1
        return n, time.perf_counter() - began
    finally:
        await conn.close()


async def measure(dsn: str, pg: PostgresCluster, broker: Mosquitto, counts: dict[int, int],
                  insert_seconds: float) -> tuple[list[Drain], dict[int, float], float]:
    drains = []
    copies: dict[int, float] = {}
    seq = 1
    for per_message, count in counts.items():
        drains.append(await _drain(dsn, pg, broker, per_message, count, seq))
        seq += count
        copies[per_message] = await _copy_rate(dsn, count * per_message)
    rows, secs = await _insert_rate(dsn, insert_seconds)
    return drains, copies, rows / secs


def report(drains: list[Drain], copies: dict[int, float], inserts: float,
           durable: bool) -> None:
    print(f"ingest: the real consumer draining a mosquitto queue into PostgreSQL "
          f"({'durable' if durable else 'fsync off'}), {METERS} meters over {GATEWAYS} "
          "gateways, batches of up to 500 messages, up to 2000 in flight")
    for d in drains:
        copy = copies[d.per_message]
        print(f"  {d.per_message} reading(s)/message: {d.messages:,} messages in "
              f"{d.seconds:.2f} s = {d.messages_per_s:,.0f} messages/s, "
              f"{d.readings_per_s:,.0f} readings/s; ingest process CPU "
              f"{d.cpu_s / d.seconds:.0%} of one core, {d.cpu_s / d.messages * 1e6:,.0f} µs "
              "a message (the figure least moved by other load on the machine)")
        print(f"    CPU a message elsewhere: PostgreSQL {d.database_cpu_s / d.messages * 1e6:,.0f}"
              f" µs ({d.database_cpu_s / d.seconds:.0%} of one core), mosquitto "
              f"{d.broker_cpu_s / d.messages * 1e6:,.0f} µs; the machine has "
              f"{os.cpu_count()} cores, load average {d.load:.1f} at the end of the drain")
        print(f"    limit 1, binary COPY of as many readings, same run (best of 3): "
              f"{copy:,.0f} readings/s "
              f"-> ratio = {d.readings_per_s:,.0f} / {copy:,.0f} = "
              f"{d.readings_per_s / copy:.2f} (1: ingest costs nothing over COPY)")
        print(f"    limit 2, single-row INSERTs in autocommit, same run: {inserts:,.0f} "
              f"readings/s -> ratio = {d.readings_per_s:,.0f} / {inserts:,.0f} = "
              f"{d.readings_per_s / inserts:.1f}")
        if d.per_message == 1:
            print(f"    target, {TARGET_MESSAGES:,} messages/s at 1 reading a message: ratio = "
                  f"{d.messages_per_s:,.0f} / {TARGET_MESSAGES:,} = "
                  f"{d.messages_per_s / TARGET_MESSAGES:.2f} (1 or more: met)")
        else:
            print(f"    target, {TARGET_COPY_RATIO} of the COPY rate: "
                  f"{'met' if d.readings_per_s / copy >= TARGET_COPY_RATIO else 'not met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages-100", type=int, default=3000,
                        help="messages of 100 readings to drain (3000)")
    parser.add_argument("--messages-1", type=int, default=60000,
                        help="messages of 1 reading to drain (60000)")
    parser.add_argument("--insert-seconds", type=float, default=3.0,
                        help="how long to time the single-row INSERT limit (3)")
    parser.add_argument("--durable", action="store_true",
                        help="fsync on (default off, as in the tests: the disk is not measured)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (300 and 6000 messages, 1 s of INSERTs): a smoke "
                             "run, start-up dominates its ratios")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages_100, args.messages_1, args.insert_seconds = 300, 6000, 1.0
    if args.messages_100 < 1 or args.messages_1 < 1 or args.insert_seconds <= 0:
        parser.error("--messages-100 and --messages-1 must be >= 1, --insert-seconds > 0")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("ingest").setLevel(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="scg-bench-ingest-"))
    root.chmod(0o755)
    try:
        with PostgresCluster(root / "pg", durable=args.durable) as pg, \
                Mosquitto(root / "mosquitto") as broker:
            dsn = pg.create_database("bench_ingest")
            asyncio.run(migrate(dsn, timescaledb=False))
            asyncio.run(_register(dsn))
            drains, copies, inserts = asyncio.run(
                measure(dsn, pg, broker, {100: args.messages_100, 1: args.messages_1},
                        args.insert_seconds))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report(drains, copies, inserts, args.durable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
