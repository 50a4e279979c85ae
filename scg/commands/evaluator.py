"""`scg evaluator run`: keep every community's indicator snapshot up to date in a process
of its own (`acceptance.evaluator`), for a county whose API processes should only serve
(`scg api --evaluator off`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from scg.commands.common import (
    CommandError,
    connect,
    database_arg,
    database_url,
    guarded,
    require_migrated,
)


def evaluator_options(p: argparse.ArgumentParser) -> None:
    """The evaluator's timing options (shared with `scg api`)."""
    group = p.add_argument_group("indicator evaluator")
    group.add_argument("--evaluator-workers", type=int,
                       default=int(os.environ.get("SCG_EVALUATOR_WORKERS", "1")),
                       metavar="N", help="communities computed at once, each on its own "
                                         "database connection (env SCG_EVALUATOR_WORKERS; "
                                         "default 1)")
    group.add_argument("--evaluator-refresh", metavar="DURATION",
                       default=os.environ.get("SCG_EVALUATOR_REFRESH", "PT5M"),
                       help="recompute a community whose data did not change this often, "
                            "as windows move on (env SCG_EVALUATOR_REFRESH; default PT5M)")
    group.add_argument("--evaluator-routine", metavar="DURATION",
                       default=os.environ.get("SCG_EVALUATOR_ROUTINE", "PT30S"),
                       help="recompute a community that received only readings or probes "
                            "this often (state changes and events: within seconds; env "
                            "SCG_EVALUATOR_ROUTINE; default PT30S)")


def evaluator_settings(args: argparse.Namespace) -> Any:
    """EvaluatorSettings from the options; CommandError naming a bad one."""
    from datetime import timedelta

    from acceptance.evaluator import EvaluatorSettings
    from indicators.params import ParamError, parse_window

    try:
        refresh = parse_window(args.evaluator_refresh, timedelta(minutes=5))
        routine = parse_window(args.evaluator_routine, timedelta(seconds=30))
    except ParamError as exc:
        raise CommandError(f"--evaluator-refresh / --evaluator-routine: {exc}") from None
    try:
        return EvaluatorSettings(refresh=refresh, routine_interval=routine,
                                 workers=args.evaluator_workers)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ev = sub.add_parser("evaluator", help="indicator snapshots",
                        description="The evaluator that keeps every community's indicator "
                                    "snapshot up to date.")
    esub = ev.add_subparsers(dest="evaluator_command", metavar="COMMAND", required=True)
    run = esub.add_parser(
        "run", help="recompute communities' indicators as their data changes (a daemon)",
        description="Recompute each community's indicators when its data changed (state "
                    "changes and events within seconds, readings within --evaluator-routine, "
                    "anything every --evaluator-refresh) and store them as its snapshot, "
                    "which the API, reports, the county overview and the history read. Run "
                    "it beside `scg api --evaluator off`; several may run (each community "
                    "is computed by one at a time). Stops on Ctrl-C / SIGTERM.")
    database_arg(run)
    evaluator_options(run)
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    async def body() -> int:
        import asyncio
        import signal

        import asyncpg

        from acceptance.county import CountySettingsError, county_settings_from_env
        from acceptance.evaluator import Evaluator

        settings = evaluator_settings(args)
        try:
            county = county_settings_from_env()
        except CountySettingsError as exc:
            raise CommandError(str(exc)) from None
        url = database_url(args)
        conn = await connect(url)
        try:
            await require_migrated(conn)
        finally:
            await conn.close()
        pool = await asyncpg.create_pool(url, min_size=0, max_size=settings.workers + 1)
        evaluator = Evaluator(pool, settings, county=county)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, evaluator.stop)
        print(f"indicator evaluator {evaluator.name} running; Ctrl-C stops it",
              file=sys.stderr, flush=True)
        try:
            await evaluator.run()
        finally:
            await pool.close()
        print(f"indicator evaluator stopped after {evaluator.evaluated} snapshot(s)",
              file=sys.stderr)
        return 0

    return guarded(args, body)
