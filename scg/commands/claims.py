"""`scg claims check FILE`: read published acceptance tables and flag the claims that do
not add up; with a database, also the measured rows the devices contradict. Exit status 0
when nothing is flagged, 1 when something is, 2 when the file cannot be checked."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from scg.commands.common import CommandError, connect, database_arg, guarded, require_migrated


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    claims = sub.add_parser(
        "claims", help="check published acceptance tables",
        description="Check the claims of published acceptance tables (验收结果公示).")
    actions = claims.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="flag the claims of a published table that do not add up",
        description="Read the acceptance tables in FILE (text laid out as the county "
                    "publications: a table starts at its header row 一级指标 / 序号 / 二级指标 / "
                    "指标释义 / 标准要求 / 本社区完成情况) and flag rates that differ from their "
                    "own parts, 达标 over figures below the requirement, rates impossible for "
                    "their whole, unfilled template blanks, counts that disagree with the items "
                    "listed and 达标 the text itself qualifies away. With --database-url, the "
                    "measured rows are also compared with the devices of the community the "
                    "table names (or --community). Exit status: 0 no flags, 1 flags, 2 error.")
    check.add_argument("file", metavar="FILE", help="text file holding one or more tables "
                                                   "(UTF-8); - reads standard input")
    database_arg(check)
    check.add_argument("--community", metavar="ID",
                       help="compare with this inventory community (default: the one whose "
                            "name the table's heading gives); needs --database-url")
    check.add_argument("--as-of", metavar="TIME",
                       help="compare with the measurements as they were at this RFC 3339 "
                            "time, e.g. 2026-11-23T08:00:00Z (default now)")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text for people (default) or json")
    check.set_defaults(func=_check)


def _read(path: str) -> str:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 text (byte {exc.start}); save the "
                           "publication as UTF-8 and try again") from None


def _check(args: argparse.Namespace) -> int:
    from acceptance.claims import ClaimsError, check_claims, check_claims_measured, render_text
    from indicators.params import ParamError, parse_as_of

    async def body() -> int:
        if args.community and not args.database_url:
            raise CommandError("--community needs --database-url (or SCG_DATABASE_URL): the "
                               "community is looked up in the inventory")
        try:
            as_of = parse_as_of(args.as_of, "--as-of") if args.as_of else None
        except ParamError as exc:
            raise CommandError(str(exc)) from None
        text = await asyncio.to_thread(_read, args.file)
        source = "standard input" if args.file == "-" else args.file
        try:
            if args.database_url:
                conn = await connect(args.database_url)
                try:
                    await require_migrated(conn)
                    report = await check_claims_measured(conn, text, source,
                                                         community=args.community,
                                                         as_of=as_of)
                finally:
                    await conn.close()
            else:
                report = check_claims(text, source)
        except ClaimsError as exc:
            raise CommandError(str(exc)) from None
        if args.format == "json":
            print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        else:
            sys.stdout.write(render_text(report))
        return 1 if report.flags else 0

    return guarded(args, body)
