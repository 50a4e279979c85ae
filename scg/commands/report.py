"""`scg report`: write a community's acceptance report against a tier to a file (HTML
that prints to A4, a PDF printed by chromium, CSV, XLSX or JSON). Heavy modules are
imported inside the handler."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from scg.commands.common import (
    CommandError,
    connect,
    database_arg,
    database_url,
    guarded,
    require_migrated,
)

TIERS = ("basic", "growth", "benchmark", "db37")
FORMATS = ("html", "pdf", "csv", "xlsx", "json")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rep = sub.add_parser(
        "report", help="write a community's acceptance report (HTML, PDF, CSV, XLSX, JSON)",
        description="Produce the acceptance table of a community against a tier: every row "
                    "with its requirement, the community's result (measured rows from the "
                    "devices, declared rows from the latest entries with evidence) and a "
                    "verdict, the overall verdict, and the rows that could change if devices "
                    "in state unknown reported. HTML prints to A4; PDF is printed by "
                    "headless chromium.")
    database_arg(rep)
    rep.add_argument("--community", required=True, metavar="ID", help="community id")
    rep.add_argument("--tier", required=True, choices=TIERS,
                     help="basic (基础型), growth (成长型), benchmark (标杆型, provisional) or "
                          "db37 (DB37/T 3890.3-2020 weighted score)")
    rep.add_argument("--format", choices=FORMATS, default=None,
                     help="output format (default: from the --out suffix, else html)")
    rep.add_argument("--out", required=True, metavar="FILE",
                     help="file to write; - writes to standard output")
    rep.add_argument("--as-of", metavar="TIME",
                     help="the report as it was at this RFC 3339 time with zone, e.g. "
                          "2026-11-23T08:00:00Z (default now)")
    rep.add_argument("--county-settings", metavar="FILE",
                     default=os.environ.get("SCG_COUNTY_SETTINGS") or None,
                     help="the county's settings YAML: thresholds it publishes for values "
                          "the standard leaves open, its wording for rows with nothing "
                          "eligible (env SCG_COUNTY_SETTINGS)")
    rep.set_defaults(func=_report)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    suffix = Path(args.out).suffix.lstrip(".").lower()
    return suffix if suffix in FORMATS else "html"


def _report(args: argparse.Namespace) -> int:
    from acceptance.county import CountySettings, CountySettingsError, load_county_settings
    from acceptance.export import export
    from acceptance.pdf import PdfError
    from acceptance.report import ReportError, build_report
    from indicators.params import ParamError, parse_as_of

    async def body() -> int:
        try:
            as_of = parse_as_of(args.as_of) if args.as_of else None
        except ParamError as exc:
            raise CommandError(str(exc)) from None
        county = CountySettings()
        if args.county_settings:
            try:
                county = load_county_settings(Path(args.county_settings))
            except CountySettingsError as exc:
                raise CommandError(str(exc)) from None
        fmt = _format(args)
        conn = await connect(database_url(args))
        try:
            await require_migrated(conn)
            report = await build_report(conn, args.community, args.tier, as_of=as_of,
                                        county=county)
        except ReportError as exc:
            raise CommandError(str(exc)) from None
        finally:
            await conn.close()
        try:
            data = await asyncio.to_thread(export, report, fmt)
        except PdfError as exc:
            raise CommandError(str(exc)) from None
        if args.out == "-":
            sys.stdout.buffer.write(data)
        else:
            try:
                await asyncio.to_thread(Path(args.out).write_bytes, data)
            except OSError as exc:
                raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from None
            counts = report.counts
            print(f"{args.out}: {report.catalogue.title}, community {report.community}: "
                  f"{report.to_dict()['verdict_word']} ({counts['pass']} pass, "
                  f"{counts['fail']} fail, {counts['no_data']} no data, "
                  f"{counts['not_judged']} not judged)", file=sys.stderr)
        return 0

    return guarded(args, body)
