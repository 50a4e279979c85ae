"""`scg broker config`: the central broker's password file, ACL and each gateway's password.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scg.commands.common import CommandError, connect, database_arg, guarded, require_migrated

_DESCRIPTION = """\
Write, from the inventories, what the central mosquitto needs to let each gateway speak
only for itself: OUT/passwd (mosquitto's password_file), OUT/acl (its acl_file: each
gateway user COMMUNITY/GATEWAY may publish only under scg/v1/COMMUNITY/GATEWAY/ and read
only its own commands; scg-ingest reads everything), and OUT/credentials/ (0600): one
COMMUNITY/GATEWAY.password per gateway, for its uplink.password_file, and scg-ingest.env
for the central services. Running it again keeps every stored password; --rotate gives one
account a new one. Gateways come from --inventory files, or else from the database
(--database-url / SCG_DATABASE_URL). Then reload mosquitto (systemctl reload mosquitto)."""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    broker = sub.add_parser("broker", help="central broker accounts and ACL",
                            description="Accounts and access control of the central broker.")
    bsub = broker.add_subparsers(dest="broker_command", metavar="COMMAND", required=True)
    cfg = bsub.add_parser("config", help="write mosquitto's password file and ACL from the "
                          "inventories", description=_DESCRIPTION,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    cfg.add_argument("--out", required=True, metavar="DIR",
                     help="folder to write passwd, acl and credentials/ into (kept between "
                          "runs: it holds the passwords)")
    cfg.add_argument("--inventory", action="append", default=[], metavar="FILE",
                     help="an inventory YAML; repeat for every community")
    database_arg(cfg)
    cfg.add_argument("--rotate", action="append", default=[], metavar="ACCOUNT",
                     help="give this account a new password: COMMUNITY/GATEWAY, a gateway id "
                          "used by one community only, or scg-ingest; repeatable")
    cfg.set_defaults(func=_broker_config)


def _broker_config(args: argparse.Namespace) -> int:
    from scg.broker.files import (
        BrokerConfigError,
        gateways_in_database,
        gateways_in_inventories,
        write_broker_config,
    )

    async def body() -> int:
        try:
            if args.inventory:
                gateways = gateways_in_inventories(args.inventory)
            elif args.database_url:
                conn = await connect(args.database_url)
                try:
                    await require_migrated(conn)
                    gateways = await gateways_in_database(conn)
                finally:
                    await conn.close()
            else:
                raise CommandError("no inventory given: pass --inventory FILE (repeatable) or "
                                   "--database-url (or set SCG_DATABASE_URL)")
            result = write_broker_config(Path(args.out), gateways, rotate=args.rotate)
        except BrokerConfigError as exc:
            raise CommandError(str(exc)) from None
        if not gateways:
            print("scg broker config: no device of the inventories names a gateway; only "
                  "scg-ingest has an account", file=sys.stderr)
        print(f"wrote {result.passwd} and {result.acl}: {len(result.accounts)} accounts "
              f"({len(result.accounts) - 1} gateways and scg-ingest)")
        for label, names in (("new password", result.created), ("rotated", result.rotated),
                             ("removed (in no inventory)", result.retired)):
            for name in names:
                where = "" if label.startswith("removed") else \
                    f" -> {result.password_file(name)}"
                print(f"  {label}: {name}{where}")
        if result.kept:
            print(f"  kept: {len(result.kept)} unchanged")
        print("reload mosquitto to apply: systemctl reload mosquitto (or kill -HUP its pid)")
        return 0

    return guarded(args, body)
