"""`scg ingest run` (MQTT -> PostgreSQL), `scg db migrate` (the schema) and `scg db maintain`
(retention, partitions and policies by the storage settings).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

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
    run.add_argument("--tls-ca-file", default=os.environ.get("SCG_BROKER_TLS_CA_FILE"),
                     metavar="FILE", help="connect over TLS, trusting the broker's CA in "
                                          "this PEM file (env SCG_BROKER_TLS_CA_FILE)")
    run.add_argument("--tls-cert-file", default=os.environ.get("SCG_BROKER_TLS_CERT_FILE"),
                     metavar="FILE", help="client certificate, where the broker asks for "
                                          "one (env SCG_BROKER_TLS_CERT_FILE)")
    run.add_argument("--tls-key-file", default=os.environ.get("SCG_BROKER_TLS_KEY_FILE"),
                     metavar="FILE", help="the client certificate's private key, unless it "
                                          "is in --tls-cert-file (env SCG_BROKER_TLS_KEY_FILE)")
    run.add_argument("--metrics-port", type=_port,
                     default=os.environ.get("SCG_INGEST_METRICS_PORT") or None, metavar="PORT",
                     help="serve Prometheus metrics at http://HOST:PORT/metrics (env "
                          "SCG_INGEST_METRICS_PORT; default: not served)")
    run.add_argument("--metrics-host", default=os.environ.get("SCG_INGEST_METRICS_HOST",
                                                              "127.0.0.1"), metavar="HOST",
                     help="address the metrics listen on (env SCG_INGEST_METRICS_HOST; "
                          "default 127.0.0.1; 0.0.0.0 for a Prometheus on another host)")
    run.set_defaults(func=_ingest_run)

    db = sub.add_parser("db", help="database schema",
                        description="Manage the central database schema.")
    dsub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    mig = dsub.add_parser(
        "migrate", help="create or update the schema (safe to run again)",
        description="Apply the migrations not yet applied, each in its own transaction, under "
                    "a lock so that concurrent runs wait for each other. Uses TimescaleDB "
                    "hypertables where the extension is available. Run it as the owner of "
                    "the schema; it then creates the runtime role ingest and the API connect "
                    "as (if this role may create roles) and grants it exactly what they need "
                    "(deploy/central/README.md lists the grants).")
    database_arg(mig)
    mig.add_argument("--app-role", default=os.environ.get("SCG_APP_ROLE", "scg_app"),
                     metavar="ROLE",
                     help="the runtime role: created if missing, granted its privileges, "
                          "never an owner (env SCG_APP_ROLE; default scg_app; '' leaves "
                          "roles alone)")
    mig.add_argument("--app-password-file", default=os.environ.get("SCG_APP_PASSWORD_FILE"),
                     metavar="FILE",
                     help="set the runtime role's password from the first line of FILE "
                          "(env SCG_APP_PASSWORD_FILE); sent as a SCRAM verifier, never "
                          "in clear")
    mig.add_argument("--timescaledb", choices=("auto", "require", "off"), default="auto",
                     help="auto: use it when available (default); require: fail without it; "
                          "off: plain PostgreSQL tables")
    _storage_options(mig)
    mig.set_defaults(func=_db_migrate)

    maint = dsub.add_parser(
        "maintain", help="age the history by the storage settings (run daily by a timer)",
        description="Plain PostgreSQL: create the coming partitions, drop those past "
                    "retention. TimescaleDB: align chunk intervals and policies with the "
                    "settings. Both: expire dead letters, prune de-duplication keys. Storage "
                    "options given here are stored and apply from now on; audit records "
                    "(operation log, alarm changes, declared values) are never expired.")
    database_arg(maint)
    _storage_options(maint)
    maint.set_defaults(func=_db_maintain)


#: option -> (setting key, environment variable, what it is)
STORAGE_OPTIONS = {
    "--keep-readings": ("storage.retention.readings", "SCG_KEEP_READINGS",
                        "how long raw readings are kept (default 400d; 0: for ever)"),
    "--keep-probes": ("storage.retention.probes", "SCG_KEEP_PROBES",
                      "how long picture probes are kept (default 400d)"),
    "--keep-events": ("storage.retention.events", "SCG_KEEP_EVENTS",
                      "how long events are kept (default 0: for ever)"),
    "--keep-state-changes": ("storage.retention.state_changes", "SCG_KEEP_STATE_CHANGES",
                             "how long state changes and intervals are kept (default 0)"),
    "--keep-rollups": ("storage.retention.rollups", "SCG_KEEP_ROLLUPS",
                       "how long hourly availability and daily energy are kept (default 800d)"),
    "--keep-dead-letters": ("storage.retention.dead_letters", "SCG_KEEP_DEAD_LETTERS",
                            "how long dead letters are kept (default 30d)"),
    "--keep-hourly-history": ("storage.retention.hourly_history", "SCG_KEEP_HOURLY_HISTORY",
                              "how long every indicator recording is kept before the "
                              "history is thinned to one a day (default 31d; 0: never "
                              "thinned)"),
    "--keep-history": ("storage.retention.history", "SCG_KEEP_HISTORY",
                       "how long the daily indicator history is kept (default 0: for "
                       "ever)"),
    "--partition-interval": ("storage.partition_interval", "SCG_PARTITION_INTERVAL",
                             "plain PostgreSQL: day, week or month (default month)"),
    "--partitions-ahead": ("storage.partitions_ahead", "SCG_PARTITIONS_AHEAD",
                           "plain PostgreSQL: future partitions kept ready (default 2)"),
    "--chunk-interval": ("storage.chunk_interval", "SCG_CHUNK_INTERVAL",
                         "TimescaleDB: chunk length of readings and probes (default 1d)"),
    "--compress-after": ("storage.compress_after", "SCG_COMPRESS_AFTER",
                         "TimescaleDB: compress chunks older than this (default 7d; 0: never)"),
    "--dedup-window": ("storage.dedup.window", "SCG_DEDUP_WINDOW",
                       "de-duplication keys kept per gateway below its newest seq "
                       "(default 10000)"),
    "--dedup-min-age": ("storage.dedup.min_age", "SCG_DEDUP_MIN_AGE",
                        "de-duplication keys younger than this are always kept (default 1h)"),
}


def _storage_options(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("storage settings (stored in the database; README, "
                                 "\"Ingest and API (central)\", Storage, has the sizing rule)")
    for option, (_, env, about) in STORAGE_OPTIONS.items():
        group.add_argument(option, default=os.environ.get(env), metavar="VALUE",
                           help=f"{about} (env {env})")


def _storage_given(args: argparse.Namespace) -> dict[str, str]:
    given = {}
    for option, (key, _, _) in STORAGE_OPTIONS.items():
        value = getattr(args, option[2:].replace("-", "_"))
        if value is not None:
            given[key] = str(value)
    return given


def _ingest_run(args: argparse.Namespace) -> int:
    from ingest.consumer import Consumer, ConsumerError, ConsumerSettings

    async def body() -> int:
        url = database_url(args)
        host, port = _host_port(args.broker)
        settings = ConsumerSettings(
            database_url=url, broker_host=host, broker_port=port, client_id=args.client_id,
            shared=args.shared, batch_max=args.batch_size, batch_wait=args.batch_ms / 1000,
            username=args.username, password=os.environ.get("SCG_BROKER_PASSWORD"),
            tls_ca_file=args.tls_ca_file, tls_cert_file=args.tls_cert_file,
            tls_key_file=args.tls_key_file)
        if settings.tls_ca_file is None and (settings.tls_cert_file or settings.tls_key_file):
            raise CommandError("--tls-cert-file / --tls-key-file need --tls-ca-file (the "
                               "broker's CA) to connect over TLS")
        consumer = Consumer(settings)
        server = _serve_metrics(consumer, args.metrics_host, args.metrics_port)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, consumer.stop)
        try:
            await consumer.run()
        except ConsumerError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if server is not None:
                server.close()
        return 0

    return guarded(args, body)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not a TCP port (1-65535), e.g. 9101")
    return int(value)


def _serve_metrics(consumer: Any, host: str, port: int | None) -> Any:
    """The metrics server of `consumer` on `host`:`port`, or None without a port."""
    if port is None:
        return None
    from ingest.metrics import serve_metrics

    try:
        return serve_metrics(consumer.metrics.registry, host, port)
    except OSError as exc:
        raise CommandError(f"--metrics-host {host} --metrics-port {port}: cannot listen "
                           f"there ({exc.strerror or exc}); choose a free port or an "
                           "address of this host") from None


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--broker {value!r} is not HOST:PORT (e.g. 127.0.0.1:1883)")
    return host, int(port)


def _db_migrate(args: argparse.Namespace) -> int:
    from ingest.schema.migrate import MigrationError, migrate, storage_mode
    from ingest.schema.roles import runtime_grants
    from ingest.schema.storage import SettingError

    async def body() -> int:
        url = database_url(args)
        (await connect(url)).terminate()  # a clear message when unreachable
        want = {"auto": None, "require": True, "off": False}[args.timescaledb]
        role = args.app_role or None
        password = _app_password(args.app_password_file) if role else None
        try:
            applied = await migrate(url, timescaledb=want, storage=_storage_given(args),
                                    app_role=role, app_password=password)
        except (MigrationError, SettingError) as exc:
            raise CommandError(str(exc)) from None
        conn = await connect(url)
        try:
            mode, note = await storage_mode(conn)
            granted = await runtime_grants(conn, role) if role else None
        finally:
            await conn.close()
        print(f"applied {len(applied)} migration(s){': ' + ', '.join(applied) if applied else ''}"
              f"; storage: {mode} ({note})")
        if granted:
            print(granted)
        return 0

    return guarded(args, body)




def _app_password(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            password = f.readline().rstrip("\r\n")
    except OSError as exc:
        raise CommandError(f"--app-password-file {path}: cannot read it: "
                           f"{exc.strerror or exc}") from None
    if not password:
        raise CommandError(f"--app-password-file {path}: its first line is empty; write the "
                           "runtime role's password there")
    return password


def _db_maintain(args: argparse.Namespace) -> int:
    from ingest.maintenance import MaintenanceError, maintain
    from ingest.schema.storage import SettingError

    async def body() -> int:
        url = database_url(args)
        (await connect(url)).terminate()  # a clear message when unreachable
        try:
            report = await maintain(url, _storage_given(args))
        except (MaintenanceError, SettingError) as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines():
            print(line)
        return 0

    return guarded(args, body)
