"""What scg's own database shows about information security (信息安全, basic row 21 /
growth row 26), read for one community: its personal data sealed, its users by role, the
records' hash chains verified and who could rewrite them.

Only the database is read, never a key file or the web layer, so the API, the evaluator
and `scg report` judge the row alike whatever process makes the report. The checks here
are made independently of the schema's own guards where they can be: a value is sealed
when its bytes have the sealed form (not because a CHECK says so — the CHECKs are
reported as a fact of their own), and the roles are read from the catalogue
(`has_table_privilege`), not from the list the migration grants from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from acceptance.audit_progress import ChainProgress, verify_records
from ingest.schema.chain import CHAINS
from inventory.personal_store import SEALED_TABLES, SealedTable
from inventory.sealing import KEY_ID_BYTES, MIN_SEALED, VERSION

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

#: The records: the chained tables and the evidence their rows point at. Each must refuse
#: UPDATE, DELETE and TRUNCATE by its triggers `<table>_append_only` and
#: `<table>_no_truncate`.
RECORD_TABLES: Final = (*CHAINS, "declaration_evidence", "evidence_files")
#: The roles of `users.role`, in the order the report lists them.
ROLE_ORDER: Final = ("admin", "operator", "auditor", "viewer")


@dataclass(frozen=True, slots=True)
class PersonalDataFacts:
    """The community's sealed personal data: rows per table, the key ids they are sealed
    under, rows with any value not in the sealed form, and the tables whose CHECK
    constraint refuses such a value."""

    rows: Mapping[str, int]
    key_ids: tuple[str, ...]
    unsealed: Mapping[str, int]
    guarded: tuple[str, ...]

    @property
    def residents(self) -> int:
        return self.rows.get("residents", 0)

    @property
    def credentials(self) -> int:
        return self.rows.get("device_credentials", 0)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": dict(self.rows), "key_ids": list(self.key_ids),
                "unsealed": dict(self.unsealed), "guarded": list(self.guarded)}


@dataclass(frozen=True, slots=True)
class RoleFacts:
    """Enabled users who may see the community (county-wide or listing it), per role; and
    how many of them are limited to listed communities."""

    by_role: Mapping[str, int]
    scoped: int = 0

    @property
    def users(self) -> int:
        return sum(self.by_role.values())

    def to_dict(self) -> dict[str, Any]:
        return {"by_role": dict(self.by_role), "scoped": self.scoped}


@dataclass(frozen=True, slots=True)
class WriterRole:
    """A login role, not a superuser and not the records' owner, that may add records: what
    it owns, which records it could rewrite, whether it is a member of the owner."""

    name: str
    owns: tuple[str, ...] = ()
    rewrites: tuple[str, ...] = ()
    member_of_owner: bool = False

    @property
    def append_only(self) -> bool:
        return not (self.owns or self.rewrites or self.member_of_owner)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "owns": list(self.owns), "rewrites": list(self.rewrites),
                "member_of_owner": self.member_of_owner, "append_only": self.append_only}


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """The chains as verified now, the roles that write records, the record tables whose
    append-only triggers are missing or disabled, and the tables' owner."""

    chains: tuple[ChainProgress, ...]
    writers: tuple[WriterRole, ...]
    unguarded: tuple[str, ...] = ()
    owner: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"chains": [c.to_dict() for c in self.chains],
                "writers": [w.to_dict() for w in self.writers],
                "unguarded": list(self.unguarded), "owner": self.owner}


@dataclass(frozen=True, slots=True)
class SecurityFacts:
    personal: PersonalDataFacts
    roles: RoleFacts
    records: RecordFacts
    checked_at: datetime
    community: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        return {"checked_at": self.checked_at.isoformat(), "community": self.community,
                "personal_data": self.personal.to_dict(), "roles": self.roles.to_dict(),
                "records": self.records.to_dict()}


def _sealed_sql(column: str) -> str:
    """True when `column` is NULL or in the sealed form under the row's key_id
    (`inventory.sealing`: version byte, key id, nonce, ciphertext, tag)."""
    return (f"({column} IS NULL OR (length({column}) >= {MIN_SEALED} "
            f"AND get_byte({column}, 0) = {VERSION} "
            f"AND encode(substring({column} FROM 2 FOR {KEY_ID_BYTES}), 'hex') = key_id))")


def _table_sql(t: SealedTable) -> str:
    sealed = " AND ".join(_sealed_sql(c) for c in t.columns)
    return (f"""SELECT '{t.table}' AS t, count(*) AS n,
                       count(*) FILTER (WHERE NOT ({sealed})) AS unsealed,
                       coalesce(array_agg(DISTINCT key_id), '{{}}') AS keys
                FROM {t.table} WHERE community = $1""")


async def personal_data_facts(conn: Connection, community: str) -> PersonalDataFacts:
    rows = await conn.fetch(" UNION ALL ".join(_table_sql(t) for t in SEALED_TABLES),
                            community)
    guarded = await conn.fetch(
        """SELECT DISTINCT c.conrelid::regclass::text AS t FROM pg_constraint c
           WHERE c.contype = 'c' AND c.convalidated
             AND c.conrelid = ANY(ARRAY(SELECT to_regclass(t) FROM unnest($1::text[]) t))
             AND pg_get_constraintdef(c.oid) LIKE '%sealed_under%'""",
        [t.table for t in SEALED_TABLES])
    keys = sorted({k for r in rows for k in r["keys"] if k})
    return PersonalDataFacts(
        rows={r["t"]: int(r["n"]) for r in rows}, key_ids=tuple(keys),
        unsealed={r["t"]: int(r["unsealed"]) for r in rows if r["unsealed"]},
        guarded=tuple(sorted(r["t"] for r in guarded)))


async def role_facts(conn: Connection, community: str) -> RoleFacts:
    rows = await conn.fetch(
        """SELECT role, count(*) AS n, count(*) FILTER (WHERE communities IS NOT NULL) AS scoped
           FROM users
           WHERE disabled_at IS NULL AND (communities IS NULL OR $1 = ANY(communities))
           GROUP BY role""", community)
    found = {r["role"]: int(r["n"]) for r in rows}
    order = [r for r in ROLE_ORDER if r in found] + sorted(set(found) - set(ROLE_ORDER))
    return RoleFacts({r: found[r] for r in order}, sum(int(r["scoped"]) for r in rows))


async def writer_roles(conn: Connection) -> tuple[str, tuple[WriterRole, ...]]:
    """(the owner of the records, every other login role that is no superuser and may add
    to the operation log, with what it could do beyond adding)."""
    owner = await conn.fetchval(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'operation_log'::regclass")
    rows = await conn.fetch(
        """SELECT r.rolname,
                  ARRAY(SELECT c.relname::text FROM pg_class c
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'public' AND c.relowner = r.oid
                        ORDER BY c.relname) AS owns,
                  ARRAY(SELECT t FROM unnest($1::text[]) t
                        WHERE has_table_privilege(r.oid, t, 'UPDATE')
                           OR has_table_privilege(r.oid, t, 'DELETE')
                           OR has_table_privilege(r.oid, t, 'TRUNCATE')) AS rewrites,
                  pg_has_role(r.oid, $2::name, 'MEMBER') AS member_of_owner
           FROM pg_roles r
           WHERE r.rolcanlogin AND NOT r.rolsuper AND r.rolname <> $2
             AND has_table_privilege(r.oid, 'operation_log', 'INSERT')
           ORDER BY r.rolname""", list(RECORD_TABLES), owner)
    return str(owner), tuple(WriterRole(r["rolname"], tuple(r["owns"]), tuple(r["rewrites"]),
                                        bool(r["member_of_owner"])) for r in rows)


async def unguarded_records(conn: Connection) -> tuple[str, ...]:
    """The record tables lacking an enabled `_append_only` or `_no_truncate` trigger."""
    rows = await conn.fetch(
        """SELECT t FROM unnest($1::text[]) t
           WHERE (SELECT count(*) FROM pg_trigger g
                  WHERE g.tgrelid = to_regclass(t) AND g.tgenabled <> 'D'
                    AND g.tgname IN (t || '_append_only', t || '_no_truncate')) < 2
           ORDER BY t""", list(RECORD_TABLES))
    return tuple(r["t"] for r in rows)


async def record_facts(conn: Connection, now: datetime) -> RecordFacts:
    chains = await verify_records(conn, now)
    owner, writers = await writer_roles(conn)
    return RecordFacts(chains, writers, await unguarded_records(conn), owner)


async def security_facts(conn: Connection, community: str, now: datetime) -> SecurityFacts:
    """Everything the information-security row is judged from, as of `now`."""
    return SecurityFacts(await personal_data_facts(conn, community),
                         await role_facts(conn, community), await record_facts(conn, now),
                         now, community)
