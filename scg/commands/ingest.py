"""`scg ingest run` (MQTT -> PostgreSQL) and `scg db migrate` (the schema).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from scg.commands.common import (
    CommandError,
    connect,
    database_arg,
    database_url,
    guarded,
)

DEFAULT_BROKER = "127.0.0.1:1883"


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
    database_arg(run)
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

    db = sub.add_parser("db", help="database schema",
                        description="Manage the central database schema.")
    dsub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    mig = dsub.add_parser(
        "migrate", help="create or update the schema (safe to run again)",
        description="Apply the migrations not yet applied, each in its own transaction, under "
                    "a lock so that concurrent runs wait for each other. Uses TimescaleDB "
                    "hypertables where the extension is available.")
    database_arg(mig)
    mig.add_argument("--timescaledb", choices=("auto", "require", "off"), default="auto",
                     help="auto: use it when available (default); require: fail without it; "
                          "off: plain PostgreSQL tables")
    mig.set_defaults(func=_db_migrate)


def _ingest_run(args: argparse.Namespace) -> int:
    from ingest.consumer import Consumer, ConsumerError, ConsumerSettings

    async def body() -> int:
        url = database_url(args)
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

    return guarded(args, body)


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--broker {value!r} is not HOST:PORT (e.g. 127.0.0.1:1883)")
    return host, int(port)


def _db_migrate(args: argparse.Namespace) -> int:
    from ingest.schema.migrate import MigrationError, migrate, storage_mode

    async def body() -> int:
        url = database_url(args)
        (await connect(url)).terminate()  # a clear message when unreachable
        want = {"auto": None, "require": True, "off": False}[args.timescaledb]
        try:
            applied = await migrate(url, timescaledb=want)
        except MigrationError as exc:
            raise CommandError(str(exc)) from None
        conn = await connect(url)
        try:
            mode, note = await storage_mode(conn)
        finally:
            await conn.close()
        print(f"applied {len(applied)} migration(s){': ' + ', '.join(applied) if applied else ''}"
              f"; storage: {mode} ({note})")
        return 0

    return guarded(args, body)


