"""Commands of the central service: `scg ingest run`, `scg api`, `scg db migrate`,
`scg inventory import|import-cameras|check`, `scg history record`. Heavy modules are
imported inside the handlers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_BROKER = "127.0.0.1:1883"


class CommandError(Exception):
    """A problem the user can fix; printed without a traceback, exit status 2."""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ingest = sub.add_parser(
        "ingest", help="the central consumer of gateway telemetry",
        description="Consume the telemetry gateways publish to the central broker and write "
                    "it to PostgreSQL.")
    isub = ingest.add_subparsers(dest="ingest_command", metavar="COMMAND", required=True)
    run = isub.add_parser(
        "run", help="consume uplink messages into the database until stopped",
        description="Subscribe (QoS 1, persistent session) to every gateway's uplink topics, "
                    "write messages in batches and acknowledge each one only after its rows "
                    "are committed. Messages published while ingest is down wait in the "
                    "broker. SIGTERM / Ctrl-C finish the batch in hand and stop.")
    _database_arg(run)
    run.add_argument("--broker", default=os.environ.get("SCG_BROKER", DEFAULT_BROKER),
                     metavar="HOST:PORT",
                     help=f"central MQTT broker (env SCG_BROKER; default {DEFAULT_BROKER})")
    run.add_argument("--client-id", default=os.environ.get("SCG_INGEST_CLIENT_ID", "scg-ingest"),
                     help="MQTT client id; keep it fixed so the broker keeps this worker's "
                          "queue across restarts (env SCG_INGEST_CLIENT_ID; default scg-ingest)")
    run.add_argument("--shared", action="store_true",
                     default=os.environ.get("SCG_INGEST_SHARED", "") in ("1", "true", "yes"),
                     help="subscribe as $share/scg-ingest/... so several workers (each with "
                          "its own --client-id) split the stream (env SCG_INGEST_SHARED=1)")
    run.add_argument("--batch-size", type=int, default=500,
                     help="messages per database transaction at most (default 500)")
    run.add_argument("--batch-ms", type=int, default=200,
                     help="how long to wait for a batch to fill, in ms (default 200)")
    run.add_argument("--username", default=os.environ.get("SCG_BROKER_USERNAME"),
                     help="broker user name (env SCG_BROKER_USERNAME); the password is read "
                          "from env SCG_BROKER_PASSWORD only")
    run.set_defaults(func=_ingest_run)

    api = sub.add_parser(
        "api", help="serve the indicators and device API over HTTP",
        description="Serve the HTTP API (indicators, devices, health, alarms, declared values "
                    "with their evidence; OpenAPI at /docs) and record every community's "
                    "indicators into their history every --history-interval.")
    _database_arg(api)
    api.add_argument("--host", default="127.0.0.1", help="address to listen on "
                                                         "(default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    api.add_argument("--evidence-dir", default=os.environ.get("SCG_EVIDENCE_DIR"),
                     metavar="DIR",
                     help="where evidence files of declared values are stored, by SHA-256 "
                          "(env SCG_EVIDENCE_DIR; default .scg-state/evidence)")
    api.add_argument("--history-interval",
                     default=os.environ.get("SCG_HISTORY_INTERVAL", "PT1H"), metavar="DURATION",
                     help="record every community's indicators this often while serving "
                          "(ISO 8601 duration or seconds; env SCG_HISTORY_INTERVAL; default "
                          "PT1H; 0 or off: do not record, e.g. when cron runs `scg history "
                          "record`)")
    api.set_defaults(func=_api)

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
    _database_arg(rec)
    rec.add_argument("--community", action="append", metavar="ID",
                     help="only this community (repeat for several)")
    rec.set_defaults(func=_history_record)

    db = sub.add_parser("db", help="database schema",
                        description="Manage the central database schema.")
    dsub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    mig = dsub.add_parser(
        "migrate", help="create or update the schema (safe to run again)",
        description="Apply the migrations not yet applied, each in its own transaction, under "
                    "a lock so that concurrent runs wait for each other. Uses TimescaleDB "
                    "hypertables where the extension is available.")
    _database_arg(mig)
    mig.add_argument("--timescaledb", choices=("auto", "require", "off"), default="auto",
                     help="auto: use it when available (default); require: fail without it; "
                          "off: plain PostgreSQL tables")
    mig.set_defaults(func=_db_migrate)

    inv = sub.add_parser("inventory", help="the community register (devices, compounds, …)",
                         description="Validate and import a community's inventory YAML.")
    vsub = inv.add_subparsers(dest="inventory_command", metavar="COMMAND", required=True)
    imp = vsub.add_parser(
        "import", help="validate FILE and replace that community's register with it",
        description="Validate FILE, then replace the community's compounds, buildings and "
                    "devices in one transaction. Telemetry history is kept.")
    _database_arg(imp)
    imp.add_argument("file", metavar="FILE", help="inventory YAML")
    imp.set_defaults(func=_inventory_import)
    cams = vsub.add_parser(
        "import-cameras", help="add or update cameras from a camera sheet (一机一档, CSV/XLSX)",
        description="Read the one-camera-one-record sheet a video platform exports (CSV or "
                    "XLSX; columns code, name, civil code, longitude, latitude, position type, "
                    "key-position id, public flag, compound, or their Chinese headers "
                    "设备编码/国标编码, 设备名称/点位名称, 行政区划, 经度, 纬度, 点位类型, "
                    "重点点位, 是否公共, 小区) "
                    "and upsert its cameras into community ID, which must already be imported. "
                    "Rows that cannot be used are reported by line number and skipped; the "
                    "others are imported even when their record is not compliant (compliance "
                    "is measured, see /api/communities/ID/cameras/records). Exit status 1 "
                    "when some rows were refused.")
    _database_arg(cams)
    cams.add_argument("file", metavar="FILE", help="camera sheet, .csv or .xlsx")
    cams.add_argument("--community", required=True, metavar="ID",
                      help="the community the cameras belong to")
    cams.add_argument("--gateway", metavar="GW",
                      help="the gateway that probes these cameras (sets protocol onvif); "
                           "without it, new cameras are registered but not monitored")
    cams.add_argument("--replace", action="store_true",
                      help="also remove cameras imported from earlier sheets that this sheet "
                           "no longer lists")
    cams.set_defaults(func=_inventory_import_cameras)
    chk = vsub.add_parser("check", help="validate FILE without touching a database",
                          description="Validate FILE and print what it registers.")
    chk.add_argument("file", metavar="FILE", help="inventory YAML")
    chk.set_defaults(func=_inventory_check)

    from ingest.acceptance import report_cli  # `scg report` lives with the report

    report_cli.register(sub)


def _database_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", default=os.environ.get("SCG_DATABASE_URL"),
                   metavar="URL", help="PostgreSQL URL, e.g. postgresql://scg@127.0.0.1/scg "
                                       "(env SCG_DATABASE_URL)")


def _guarded(args: argparse.Namespace, body: Callable[[], Coroutine[Any, Any, Any]]) -> int:
    """Run `body`; a CommandError becomes a one-line message and exit status 2."""
    try:
        result: Any = asyncio.run(body())
    except CommandError as exc:
        print(f"scg {args.command}: {exc}", file=sys.stderr)
        return 2
    return int(result) if isinstance(result, int) else 0


def _database_url(args: argparse.Namespace) -> str:
    if not args.database_url:
        raise CommandError("no database given: pass --database-url or set SCG_DATABASE_URL")
    return str(args.database_url)


async def _connect(url: str) -> Any:
    import asyncpg

    from ingest.dsn import redact

    try:
        return await asyncpg.connect(url, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise CommandError(f"cannot reach the database at {redact(url)}: "
                           f"{exc or type(exc).__name__}; check the URL and that PostgreSQL "
                           "is running") from None


# ---------------------------------------------------------------- handlers

def _ingest_run(args: argparse.Namespace) -> int:
    from ingest.consumer import Consumer, ConsumerError, ConsumerSettings

    async def body() -> int:
        url = _database_url(args)
        host, port = _host_port(args.broker)
        settings = ConsumerSettings(
            database_url=url, broker_host=host, broker_port=port, client_id=args.client_id,
            shared=args.shared, batch_max=args.batch_size, batch_wait=args.batch_ms / 1000,
            username=args.username, password=os.environ.get("SCG_BROKER_PASSWORD"))
        consumer = Consumer(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, consumer.stop)
        try:
            await consumer.run()
        except ConsumerError as exc:
            raise CommandError(str(exc)) from None
        return 0

    return _guarded(args, body)


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--broker {value!r} is not HOST:PORT (e.g. 127.0.0.1:1883)")
    return host, int(port)


def _api(args: argparse.Namespace) -> int:
    async def check() -> None:
        from ingest.schema.migrate import pending

        url = _database_url(args)
        conn = await _connect(url)
        try:
            missing = await pending(conn)
        finally:
            await conn.close()
        if missing:
            raise CommandError(f"the database lacks migrations {', '.join(missing)}; run "
                               "`scg db migrate` first")

    try:
        interval = _history_interval(args.history_interval)
    except CommandError as exc:
        print(f"scg {args.command}: {exc}", file=sys.stderr)
        return 2
    status = _guarded(args, check)
    if status:
        return status
    from pathlib import Path

    import uvicorn

    from ingest.api import create_app

    evidence = Path(args.evidence_dir).expanduser().resolve() if args.evidence_dir else None
    try:
        app = create_app(args.database_url, evidence_dir=evidence, history_interval=interval)
    except ValueError as exc:  # e.g. a bad SCG_EVIDENCE_MAX_BYTES
        print(f"scg {args.command}: {exc}", file=sys.stderr)
        return 2
    # log_config=None: uvicorn's loggers go through the logging set up by `scg`.
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)
    return 0


def _history_interval(value: str) -> Any:
    """--history-interval as a timedelta, None for 0 / off."""
    from datetime import timedelta

    from ingest.api.params import ParamError, parse_window

    if value.strip().lower() in ("0", "off", "none", "no"):
        return None
    try:
        return parse_window(value, timedelta(hours=1))
    except ParamError as exc:
        raise CommandError(f"--history-interval: {exc}") from None


def _history_record(args: argparse.Namespace) -> int:
    async def body() -> int:
        from datetime import UTC, datetime

        from ingest.acceptance.history import record_indicators
        from ingest.schema.migrate import pending

        url = _database_url(args)
        conn = await _connect(url)
        try:
            missing = await pending(conn)
            if missing:
                raise CommandError(f"the database lacks migrations {', '.join(missing)}; run "
                                   "`scg db migrate` first")
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

    return _guarded(args, body)


def _db_migrate(args: argparse.Namespace) -> int:
    from ingest.schema.migrate import MigrationError, migrate, storage_mode

    async def body() -> int:
        url = _database_url(args)
        (await _connect(url)).terminate()  # a clear message when unreachable
        want = {"auto": None, "require": True, "off": False}[args.timescaledb]
        try:
            applied = await migrate(url, timescaledb=want)
        except MigrationError as exc:
            raise CommandError(str(exc)) from None
        conn = await _connect(url)
        try:
            mode, note = await storage_mode(conn)
        finally:
            await conn.close()
        print(f"applied {len(applied)} migration(s){': ' + ', '.join(applied) if applied else ''}"
              f"; storage: {mode} ({note})")
        return 0

    return _guarded(args, body)


def _load(args: argparse.Namespace) -> Any:
    from ingest.inventory import InventoryError, load_inventory

    try:
        return load_inventory(args.file)
    except InventoryError as exc:
        raise CommandError(str(exc)) from None


def _inventory_import(args: argparse.Namespace) -> int:
    async def body() -> int:
        from ingest.inventory import import_inventory
        from ingest.schema.migrate import pending

        inventory = _load(args)
        url = _database_url(args)
        conn = await _connect(url)
        try:
            missing = await pending(conn)
            if missing:
                raise CommandError(f"the database lacks migrations {', '.join(missing)}; run "
                                   "`scg db migrate` first")
            s = await import_inventory(conn, inventory)
        finally:
            await conn.close()
        extra = f", {s.key_positions} key positions" if s.key_positions else ""
        kept = (f"; kept {s.kept_sheet_cameras} cameras imported from a camera sheet"
                if s.kept_sheet_cameras else "")
        print(f"imported community {s.community} from {args.file}: {s.compounds} compounds, "
              f"{s.buildings} buildings, {s.devices} devices{extra}{kept}")
        return 0

    return _guarded(args, body)


def _inventory_import_cameras(args: argparse.Namespace) -> int:
    async def body() -> int:
        from pathlib import Path

        from ingest.inventory.sheet import SheetError
        from ingest.inventory.sheet_store import CommunityMissing, import_camera_sheet
        from ingest.schema.migrate import pending
        from telemetry.topics import TopicError, check_id

        if args.gateway is not None:
            try:
                check_id(args.gateway, "gateway")
            except TopicError as exc:
                raise CommandError(f"--gateway: {exc}") from None
        url = _database_url(args)
        conn = await _connect(url)
        try:
            missing = await pending(conn)
            if missing:
                raise CommandError(f"the database lacks migrations {', '.join(missing)}; run "
                                   "`scg db migrate` first")
            s = await import_camera_sheet(conn, args.community, Path(args.file),
                                          gateway=args.gateway, replace=args.replace)
        except (SheetError, CommunityMissing) as exc:
            raise CommandError(str(exc)) from None
        finally:
            await conn.close()
        removed = f", {s.removed} removed" if s.removed else ""
        print(f"imported {s.imported} cameras into community {s.community} from {args.file} "
              f"({s.added} new, {s.updated} updated{removed})")
        for line, message in s.warnings:
            print(f"  line {line}: note: {message}")
        if s.noncompliant:
            print(f"{len(s.noncompliant)} of them have a record that is not compliant "
                  f"(see /api/communities/{s.community}/cameras/records):")
            for camera, checks in s.noncompliant:
                print(f"  {camera}: {', '.join(checks)}")
        if s.refused:
            print(f"refused {len(s.refused)} row(s):", file=sys.stderr)
            for line, reason in s.refused:
                print(f"  line {line}: {reason}", file=sys.stderr)
            return 1
        return 0

    return _guarded(args, body)


def _inventory_check(args: argparse.Namespace) -> int:
    async def body() -> int:
        inv = _load(args)
        kinds: dict[str, int] = {}
        for d in inv.devices:
            kinds[d.kind] = kinds.get(d.kind, 0) + 1
        listed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no devices"
        positions = f"{len(inv.key_positions)} key positions, " if inv.key_positions else ""
        print(f"{args.file}: community {inv.community.id} ({inv.community.name}), "
              f"{len(inv.compounds)} compounds, {len(inv.buildings)} buildings, {positions}"
              f"{listed}")
        return 0

    return _guarded(args, body)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (`python -m ingest …`) with just this package's commands."""
    parser = argparse.ArgumentParser(prog="python -m ingest")
    parser.add_argument("--log-level", default=os.environ.get("SCG_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
