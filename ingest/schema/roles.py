"""The runtime database role: what ingest, the API and the other day-to-day commands
connect as, apart from the owner that runs `scg db migrate`.

The owner of a table may lift its triggers (`ALTER TABLE … DISABLE TRIGGER`), so the
append-only records are only append-only for a role that owns nothing. The runtime role
gets exactly the privileges below, re-applied by every `scg db migrate`: INSERT and
SELECT on the records (operation log, alarm changes, declared values and their evidence,
user changes) and on the history ingest appends; UPDATE where a value is moved forward in
place (latest values, alarms, users and tokens, snapshots); DELETE only where rows are
rebuilt or expire at run time (state intervals and hourly availability, sessions, sign-in
throttling, evaluator heartbeats); SELECT on the register and the settings, which only
the owner changes (`scg inventory import`, `scg db maintain`, `scg keys …`). A table
the list does not name gets SELECT only, with a warning: a new table needs a decision
here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Final

import asyncpg

log = logging.getLogger(__name__)

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

DEFAULT_APP_ROLE: Final = "scg_app"
_ROLE_RE: Final = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_LOG: Final = ("SELECT", "INSERT")
_FORWARD: Final = ("SELECT", "INSERT", "UPDATE")
_REBUILT: Final = ("SELECT", "INSERT", "DELETE")
_ALL: Final = ("SELECT", "INSERT", "UPDATE", "DELETE")
_READ: Final = ("SELECT",)

#: Table -> the runtime role's privileges on it.
RUNTIME_PRIVILEGES: Final[dict[str, tuple[str, ...]]] = {
    # The records (hash chains, append-only) and what they point at.
    "operation_log": _LOG, "alarm_changes": _LOG, "declarations": _LOG,
    "declaration_evidence": _LOG, "evidence_files": _LOG, "user_changes": _LOG,
    # What ingest appends; dead letters and de-duplication keys expire by `scg db maintain`.
    "readings": _LOG, "events": _LOG, "device_state_changes": _LOG, "probes": _LOG,
    "gateway_status_changes": _LOG, "received_envelopes": _LOG, "dead_letters": _LOG,
    "indicator_history": _LOG,
    # Latest values, moved forward in place by the writer.
    "device_status": _FORWARD, "reading_latest": _FORWARD, "condition_latest": _FORWARD,
    "gateways": _FORWARD, "energy_daily": _FORWARD, "community_data_versions": _FORWARD,
    # Rebuilt from the history by scg_rebuild_state_intervals.
    "device_state_intervals": _REBUILT, "availability_hourly": _REBUILT,
    # Cameras' latest picture thumbnails: the writer removes the older ones as it adds.
    "probe_pictures": _REBUILT,
    # Opened by ingest, acknowledged and closed by staff.
    "alarms": _FORWARD,
    # People: users (last sign-in, passwords, `scg user`), tokens and sessions (expired
    # ones removed), sign-in throttling (cleared on success).
    "users": _FORWARD, "auth_tokens": _ALL, "login_failures": _ALL,
    # Indicator snapshots of the evaluator inside the API, and its heartbeats.
    "indicator_snapshots": _FORWARD, "snapshot_evaluators": _ALL,
    # How far the acceptance report has verified each record chain (moved forward).
    "audit_checkpoints": _FORWARD,
    # Read only: the register, personal data (sealed), settings and the schema's books.
    "communities": _READ, "compounds": _READ, "buildings": _READ, "devices": _READ,
    "key_positions": _READ, "fire_zones": _READ, "community_gateways": _READ,
    "register_state": _READ, "residents": _READ, "device_credentials": _READ,
    "settings": _READ, "schema_migrations": _READ, "time_partitions": _READ,
    "device_effective_state": _READ,
}


class RoleError(RuntimeError):
    """The runtime role cannot be set up; the message says what to run instead."""


@dataclass(frozen=True, slots=True)
class RoleSummary:
    """What the runtime role may do in this database, read back from the catalogue."""

    role: str
    created: bool
    privileges: dict[str, tuple[str, ...]]   # table -> privileges granted
    unlisted: tuple[str, ...]                 # tables given SELECT only for want of a rule

    def line(self) -> str:
        counts = {p: sum(1 for got in self.privileges.values() if p in got) for p in _ALL}
        made = "created; " if self.created else ""
        extra = (f"; {len(self.unlisted)} table(s) with no rule got SELECT only: "
                 f"{', '.join(self.unlisted)}") if self.unlisted else ""
        return (f"runtime role {self.role}: {made}SELECT on {counts['SELECT']} tables, INSERT "
                f"on {counts['INSERT']}, UPDATE on {counts['UPDATE']}, DELETE on "
                f"{counts['DELETE']}; owns nothing{extra}")


def check_role_name(role: str) -> str:
    if not _ROLE_RE.match(role):
        raise RoleError(f"runtime role name {role!r} is not usable: use lower-case letters, "
                        "digits and '_', starting with a letter or '_' (e.g. scg_app)")
    return role


def scram_secret(password: str, *, iterations: int = 4096, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802 / 7677), so
    that ALTER ROLE never carries the password itself to the server's log."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return (f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
            f"${b64(stored_key).decode()}:{b64(server_key).decode()}")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def prepare_runtime_role(conn: Connection, role: str,
                               password: str | None = None) -> RoleSummary:
    """Create `role` when it is missing and this connection may (else RoleError with the
    SQL to run), refuse a role that could lift triggers, set its password when given, and
    grant it exactly `RUNTIME_PRIVILEGES`; call inside a transaction, as the owner."""
    role = check_role_name(role)
    me = await conn.fetchrow(
        "SELECT current_user AS name, rolsuper OR rolcreaterole AS may_create "
        "FROM pg_roles WHERE rolname = current_user")
    if role == me["name"]:
        raise RoleError(f"the runtime role {role!r} is the role migrating (the owner); "
                        "ingest and the API must connect as a role that owns nothing: "
                        f"pass --app-role with another name (default {DEFAULT_APP_ROLE})")
    found = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles "
                                "WHERE rolname = $1", role)
    created = found is None
    if created:
        if not me["may_create"]:
            raise RoleError(
                f"the runtime role {role!r} does not exist and {me['name']!r} may not create "
                f"roles; as a superuser run: CREATE ROLE {_quoted(role)} LOGIN PASSWORD "
                "'…'; then run `scg db migrate` again to grant it its privileges")
        try:
            async with conn.transaction():  # a savepoint: another database may race us
                await conn.execute(f"CREATE ROLE {_quoted(role)} LOGIN")
        except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
            created = False
    elif found["rolsuper"] or found["rolbypassrls"]:
        raise RoleError(f"the runtime role {role!r} is a superuser (or bypasses row "
                        "security): it could lift any trigger; make it a plain role: "
                        f"ALTER ROLE {_quoted(role)} NOSUPERUSER NOBYPASSRLS")
    if await conn.fetchval("SELECT pg_has_role($1, current_user, 'MEMBER')", role):
        raise RoleError(f"the runtime role {role!r} is a member of the owner "
                        f"{me['name']!r} and so acts as the owner; revoke it: REVOKE "
                        f"{_quoted(me['name'])} FROM {_quoted(role)}")
    owned = [r["relname"] for r in await conn.fetch(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles
                                                        WHERE rolname = $1)
           ORDER BY 1""", role)]
    if owned:
        raise RoleError(f"the runtime role {role!r} owns {', '.join(owned[:5])}"
                        f"{' …' if len(owned) > 5 else ''}, so it could lift their triggers; "
                        f"give them to the owner: REASSIGN OWNED BY {_quoted(role)} TO "
                        f"{_quoted(me['name'])}")
    if password is not None:
        await conn.execute(f"ALTER ROLE {_quoted(role)} LOGIN PASSWORD "
                           f"'{scram_secret(password)}'")
    privileges, unlisted = await _grant(conn, role)
    summary = RoleSummary(role, created, privileges, tuple(unlisted))
    if unlisted:
        log.warning("tables with no runtime-role rule in ingest/schema/roles.py got SELECT "
                    "only: %s", ", ".join(unlisted))
    log.info("%s", summary.line())
    return summary


async def _grant(conn: Connection, role: str) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    q = _quoted(role)
    await conn.execute(f"""
        GRANT CONNECT ON DATABASE {_quoted(await conn.fetchval('SELECT current_database()'))}
            TO {q};
        GRANT USAGE ON SCHEMA public TO {q};
        REVOKE CREATE ON SCHEMA public FROM {q};
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q};
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {q};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {q};
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {q};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {q};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {q};""")
    # Partitions are reached through their parent table; views (TimescaleDB's continuous
    # aggregates among them) are read only.
    relations = await conn.fetch(
        """SELECT c.relname, c.relkind IN ('v', 'm') AS view
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
             AND NOT c.relispartition AND c.relname NOT LIKE '%\\_before\\_timescaledb'
           ORDER BY c.relname""")
    granted: dict[str, tuple[str, ...]] = {}
    unlisted: list[str] = []
    for rel in relations:
        name = rel["relname"]
        wanted = RUNTIME_PRIVILEGES.get(name)
        if wanted is None:
            unlisted.append(name)
            wanted = _READ
        if rel["view"]:
            wanted = _READ
        await conn.execute(f"GRANT {', '.join(wanted)} ON {_quoted(name)} TO {q}")
        granted[name] = wanted
    return granted, unlisted


async def runtime_grants(conn: Connection, role: str) -> str:
    """One line on what `role` may do here, read back from the catalogue (not from the list
    above), so what `scg db migrate` prints is what the database enforces."""
    rows = await conn.fetch(
        """SELECT c.relname,
                  array_remove(ARRAY[
                      CASE WHEN has_table_privilege($1, c.oid, 'SELECT') THEN 'SELECT' END,
                      CASE WHEN has_table_privilege($1, c.oid, 'INSERT') THEN 'INSERT' END,
                      CASE WHEN has_table_privilege($1, c.oid, 'UPDATE') THEN 'UPDATE' END,
                      CASE WHEN has_table_privilege($1, c.oid, 'DELETE') THEN 'DELETE' END],
                      NULL) AS granted,
                  c.relowner = (SELECT oid FROM pg_roles WHERE rolname = $1) AS owned
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
             AND NOT c.relispartition ORDER BY c.relname""", role)
    owned = [r["relname"] for r in rows if r["owned"]]
    line = RoleSummary(role, False, {r["relname"]: tuple(r["granted"]) for r in rows},
                       ()).line()
    if owned:
        line = line.replace("owns nothing", f"OWNS {', '.join(owned)}")
    return line
