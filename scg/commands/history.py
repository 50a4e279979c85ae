"""`scg history record`: store every community's indicators now (for cron).
"""

from __future__ import annotations

import argparse
import sys

from scg.commands.common import (
    CommandError,
    connect,
    database_arg,
    database_url,
    guarded,
    require_migrated,
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hist = sub.add_parser("history", help="recorded indicator values",
                          description="The indicator history behind reports as of a past time.")
    hsub = hist.add_subparsers(dest="history_command", metavar="COMMAND", required=True)
    rec = hsub.add_parser(
        "record", help="compute and record every community's indicators now (for cron)",
        description="Compute the measured indicators of every imported community (or those "
                    "given) as of now and store them in the indicator history. `scg api` "
                    "already does this every hour; use this from cron when the API runs "
                    "with --history-interval off, or to record on demand. Exit status 1 "
                    "when a community could not be recorded.")
    database_arg(rec)
    rec.add_argument("--community", action="append", metavar="ID",
                     help="only this community (repeat for several)")
    rec.set_defaults(func=_history_record)


def _history_record(args: argparse.Namespace) -> int:
    async def body() -> int:
        from datetime import UTC, datetime

        from acceptance.history import record_indicators

        url = database_url(args)
        conn = await connect(url)
        try:
            await require_migrated(conn)
            if args.community:
                known = {r["id"] for r in await conn.fetch("SELECT id FROM communities")}
                unknown = [c for c in args.community if c not in known]
                if unknown:
                    raise CommandError(f"community {', '.join(unknown)} is not in the "
                                       f"inventory (known: {', '.join(sorted(known)) or 'none'})")
            done = await record_indicators(conn, datetime.now(UTC), args.community)
        finally:
            await conn.close()
        at = done.at.isoformat(timespec="seconds").replace("+00:00", "Z")
        for community, n in done.stored.items():
            print(f"recorded {n} indicators of community {community} as of {at}")
        if not done.stored and not done.failed:
            print("no community to record; import one with `scg inventory import FILE`")
        for community, reason in (done.failed or {}).items():
            print(f"community {community} could not be recorded: {reason}", file=sys.stderr)
        return 1 if done.failed else 0

    return guarded(args, body)


