"""Benchmark: the information-security row's chain verification on a long operation log.

    python -m bench audit [--rows 100000] [--new 100] [--quick]

Fills a throwaway database with ROWS chained operation-log rows, then measures, in the
same run: a full walk (`scg audit verify`'s `verify`), the first report's walk (no
checkpoint: the same work, at most `acceptance.audit_progress.WALK_LIMIT` rows a chain),
and a report's walk after NEW more rows, from the checkpoint the first left
(`verify_records`: the new rows and a slice of `RECHECK_LIMIT` verified rows walked
again), with the whole information-security facts read around it (`security_facts`).

The limit comes from the full walk: a report from a checkpoint may cost what walking its
new rows and its slice costs at the full walk's rate, plus a tenth of the full walk —
not the whole log, however long it is (as a sizing figure, well under 100 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from acceptance.audit_progress import RECHECK_LIMIT, verify_records
from acceptance.security_facts import security_facts
from ingest.schema.chain import append_rows
from ingest.schema.chain_audit import verify
from ingest.schema.migrate import migrate
from inventory import import_inventory, parse_inventory
from scg.localsvc import PostgresCluster

COMMUNITY = "bench"
AT = datetime(2026, 11, 24, tzinfo=UTC)
#: A report from a checkpoint costs at most this share of a full walk beyond its walks.
LIMIT_RATIO = 0.1


async def _fill(conn: asyncpg.Connection, rows: int, start: int = 0) -> None:
    batch = 2000
    for first in range(start, start + rows, batch):
        await append_rows(conn, "operation_log", [
            {"at": AT + timedelta(seconds=i), "actor": "李强", "action": "personal.read",
             "community": COMMUNITY, "target": f"residents:elder-{i % 500:03d}", "note": None,
             "details": {"residents": [f"elder-{i % 500:03d}"], "via": "/api/residents",
                         "role": "operator"}}
            for i in range(first, min(first + batch, start + rows))])


async def _timed(label: str, work: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await work
    ms = (time.perf_counter() - started) * 1000
    print(f"[audit] {label}: {ms:.0f} ms", flush=True)
    return ms


async def run(dsn: str, rows: int, new: int) -> int:
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await import_inventory(conn, parse_inventory(
            f"community: {{id: {COMMUNITY}, name: bench, district: '370102'}}\n", "b.yaml"))
        started = time.perf_counter()
        await _fill(conn, rows)
        print(f"[audit] {rows} chained operation-log rows written in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        full = await _timed(f"full walk of {rows} rows (scg audit verify)", verify(conn))
        await _timed("first report's walk (no checkpoint yet)", verify_records(conn, AT))
        await _fill(conn, new, start=rows)
        resumed = await _timed(f"a report's walk from its checkpoint ({new} new rows)",
                               verify_records(conn, AT))
        facts = await _timed("the whole information-security facts of a report",
                             security_facts(conn, COMMUNITY, AT))
    finally:
        await conn.close()
    walked = min(new + RECHECK_LIMIT, rows + new)
    allowed = LIMIT_RATIO * full + full / rows * walked
    ratio = max(resumed, facts) / allowed
    ok = ratio <= 1.0
    print(f"[audit] report from a checkpoint / (walking its {walked} rows at the full walk's "
          f"rate + {LIMIT_RATIO} x full walk) = {ratio:.3f} (limit 1.0): "
          f"{'ok' if ok else 'TOO SLOW'}", flush=True)
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench audit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="10,000 rows")
    args = parser.parse_args(argv)
    rows = 10_000 if args.quick else args.rows
    root = Path(tempfile.mkdtemp(prefix="scg-bench-audit-"))
    os.chmod(root, 0o755)   # the postgres OS user must reach its data directory
    try:
        with PostgresCluster(root / "pg", durable=False) as pg:
            return asyncio.run(run(pg.create_database("audit"), rows, args.new))
    finally:
        shutil.rmtree(root, ignore_errors=True)
