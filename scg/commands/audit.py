"""`scg audit verify` and `scg audit head`: the records' hash chains (operation log, alarm
changes, declared values, user changes) checked row by row, and their heads.

Read-only: any role that may read the records may run them (an auditor's own role, the
runtime role). Exit status of verify: 0 every chain matches, 1 a row does not (named),
2 the database cannot be read.
"""

from __future__ import annotations

import argparse
import json

from scg.commands.common import connect, database_arg, database_url, guarded, require_migrated


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = sub.add_parser(
        "audit", help="verify the records' SM3 hash chains, or print their heads",
        description="The operation log, alarm changes, declared values and user changes are "
                    "SM3 hash chains: each row holds the previous row's hash and its own "
                    "(ingest/schema/chain.py says how to recompute one).")
    asub = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    verify = asub.add_parser(
        "verify", help="walk every chain; name the first row that does not match (exit 1)",
        description="Recompute every row's hash and check each row's link to the one "
                    "before it. Prints each chain's row count and head; on a mismatch, the "
                    "table, the row id and what differs (the row's content, or its link), "
                    "and exits 1. Rows taken off the end of a chain leave a chain that "
                    "verifies: compare the heads with ones written down before (scg audit "
                    "head, the acceptance report).")
    database_arg(verify)
    verify.set_defaults(func=_verify)
    head = asub.add_parser(
        "head", help="print each chain's row count and newest hash",
        description="Print each chain's row count, newest row id and hash: write them down "
                    "(or keep the acceptance report that shows them) to show later that no "
                    "row was removed from the end.")
    database_arg(head)
    head.add_argument("--json", action="store_true", help="one JSON document instead of text")
    head.set_defaults(func=_head)


def _verify(args: argparse.Namespace) -> int:
    from ingest.schema.chain_audit import verify

    async def body() -> int:
        conn = await connect(database_url(args))
        try:
            await require_migrated(conn)
            states = await verify(conn)
        finally:
            await conn.close()
        broken = 0
        for s in states:
            head = f"head {s.head} (row id {s.head_id})" if s.head else "empty"
            verdict = "BROKEN" if s.broken else "ok"
            print(f"{s.chain}: {s.rows} rows, {head}: {verdict}")
            if s.broken is not None:
                broken += 1
                print(f"  first mismatch: {s.broken.describe()}")
        if broken:
            print(f"scg audit verify: {broken} of {len(states)} chains do not match; the rows "
                  "named above were changed or re-linked after they were written")
            return 1
        print(f"scg audit verify: all {len(states)} chains match")
        return 0

    return guarded(args, body)


def _head(args: argparse.Namespace) -> int:
    from ingest.schema.chain_audit import heads

    async def body() -> int:
        conn = await connect(database_url(args))
        try:
            await require_migrated(conn)
            states = await heads(conn)
        finally:
            await conn.close()
        if args.json:
            print(json.dumps([{"chain": s.chain, "rows": s.rows, "head_id": s.head_id,
                               "head": s.head} for s in states], indent=2))
            return 0
        for s in states:
            print(f"{s.chain:14} {s.rows:>9} rows  "
                  + (f"head {s.head} (row id {s.head_id})" if s.head else "empty"))
        return 0

    return guarded(args, body)
