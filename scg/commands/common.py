"""What the central commands share: the database option, a connection with a clear
message when it fails, the migrations check, and CommandError (a message, exit status 2).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any


class CommandError(Exception):
    """A problem the user can fix; printed without a traceback, exit status 2."""


def database_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", default=os.environ.get("SCG_DATABASE_URL"),
                   metavar="URL", help="PostgreSQL URL, e.g. postgresql://scg@127.0.0.1/scg "
                                       "(env SCG_DATABASE_URL)")


def guarded(args: argparse.Namespace, body: Callable[[], Coroutine[Any, Any, Any]]) -> int:
    """Run `body`; a CommandError becomes a one-line message and exit status 2."""
    try:
        result: Any = asyncio.run(body())
    except CommandError as exc:
        print(f"scg {args.command}: {exc}", file=sys.stderr)
        return 2
    return int(result) if isinstance(result, int) else 0


def database_url(args: argparse.Namespace) -> str:
    if not args.database_url:
        raise CommandError("no database given: pass --database-url or set SCG_DATABASE_URL")
    return str(args.database_url)


async def connect(url: str) -> Any:
    import asyncpg

    from ingest.schema.dsn import redact

    try:
        return await asyncpg.connect(url, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise CommandError(f"cannot reach the database at {redact(url)}: "
                           f"{exc or type(exc).__name__}; check the URL and that PostgreSQL "
                           "is running") from None


async def require_migrated(conn: Any) -> None:
    """CommandError unless every migration has been applied to this database."""
    from ingest.schema.migrate import pending

    missing = await pending(conn)
    if missing:
        raise CommandError(f"the database lacks migrations {', '.join(missing)}; run "
                           "`scg db migrate` first")
