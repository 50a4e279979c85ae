"""The records as SM3 hash chains: the operation log, alarm changes, declared values and user
changes. Every row stores the hash of the row before it (`prev_hash`) and its own (`hash`),
so a row changed, removed or slipped in afterwards shows where the chain no longer
matches (`ingest.schema.chain_audit` walks them). Triggers already refuse UPDATE and
DELETE; the chain is what still tells when someone who may disable them did.

Every insert into those tables goes through `append` (or `log_operation` for the
operation log), never a bare INSERT: the hash columns are NOT NULL, so a row without its
place in the chain is refused.

How a row's hash is made, so that an auditor can recompute it without this code:

1. The record is every column of the row except `hash` — including `id` and `prev_hash` —
   and, for declared values, `evidence`: the entry's files as a list of
   {position, sha256, name, content_type} in position order (`declaration_evidence`).
2. It is written as JSON: an object with keys sorted by code point, no whitespace
   (separators `,` and `:`), strings as Python's `json.dumps(s, ensure_ascii=False)` writes
   them, null for NULL, times as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six digits),
   jsonb values with their object keys sorted the same way and every number in plain
   decimal notation: no exponent, no trailing zeros after the point, no point when
   nothing follows it, `0` for zero (72.50 -> 72.5, 1e+20 -> 100000000000000000000).
3. `hash` is the SM3 digest (GB/T 32905) of that text's UTF-8 bytes, in lower-case hex.
4. `prev_hash` of a chain's first row is its genesis value: SM3 of the UTF-8 text
   `scg audit chain genesis: <chain>` (`genesis()`); every other row's is the `hash` of
   the row with the next lower id.

Appends to one chain are serialised by a transaction-scoped advisory lock, and ids are
drawn under that lock, so id order is chain order. A transaction that appends to several
chains takes them in the order of `CHAINS` (alarm changes, declared values, user
changes, operation log), so two never wait for each other. Appends need READ COMMITTED
(the default): the head is read after the lock is granted, in a statement of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from cryptography.hazmat.primitives import hashes

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

#: Advisory lock of the alarm changes: also what keeps their ids visible in increasing
#: order for the alarm stream (`ingest.alarms.CHANGE_LOCK` is this value).
ALARM_CHANGES_LOCK: Final = 0x5C6_0A1A


@dataclass(frozen=True, slots=True)
class Chain:
    """One chained table: its columns as `append` inserts them (besides id, prev_hash and
    hash), with their PostgreSQL types."""

    name: str
    lock: int
    columns: tuple[tuple[str, str], ...]
    #: Columns set to the transaction's time (`now()`) when a row leaves them out.
    stamped: tuple[str, ...] = ()
    #: Values of the columns a row may leave out (the table's own defaults).
    defaults: tuple[tuple[str, Any], ...] = ()
    #: A list hashed with the row but stored in another table by the caller, and the SQL
    #: expression (over the row as `t`) that reads it back as jsonb.
    attached: str | None = None
    attached_sql: str = ""

    @property
    def table(self) -> str:
        return self.name

    @property
    def jsonb(self) -> frozenset[str]:
        return frozenset(c for c, kind in self.columns if kind == "jsonb")


#: In the order a transaction appending to several of them takes their locks.
CHAINS: Final[dict[str, Chain]] = {c.name: c for c in (
    Chain("alarm_changes", ALARM_CHANGES_LOCK,
          (("community", "text"), ("alarm", "int8"), ("change", "text"),
           ("at", "timestamptz"), ("by", "text"), ("note", "text"),
           ("recorded_at", "timestamptz")),
          stamped=("recorded_at",)),
    Chain("declarations", 0x5C6_0C02,
          (("community", "text"), ("tier", "text"), ("row_id", "text"),
           ("field_values", "jsonb"), ("text", "text"), ("entered_by", "text"),
           ("entered_at", "timestamptz"), ("recorded_at", "timestamptz")),
          stamped=("recorded_at",), defaults=(("field_values", {}), ("text", "")),
          attached="evidence",
          attached_sql="""(SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'position', e.position, 'sha256', e.sha256, 'name', e.name,
                               'content_type', e.content_type) ORDER BY e.position), '[]')
                           FROM declaration_evidence e WHERE e.declaration = t.id)"""),
    Chain("user_changes", 0x5C6_0C03,
          (("at", "timestamptz"), ("actor", "text"), ("action", "text"),
           ("user_name", "text"), ("details", "jsonb")),
          defaults=(("details", {}),)),
    Chain("operation_log", 0x5C6_0C01,
          (("at", "timestamptz"), ("actor", "text"), ("action", "text"),
           ("community", "text"), ("target", "text"), ("note", "text"),
           ("details", "jsonb")),
          defaults=(("details", {}),)),
)}


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def genesis(chain: str) -> str:
    """The `prev_hash` of a chain's first row."""
    return sm3_hex(f"scg audit chain genesis: {chain}".encode())


def canonical_time(t: datetime) -> str:
    if t.tzinfo is None:
        raise ValueError(f"time {t!r} has no timezone; chained records hold aware times")
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_number(n: Decimal) -> str:
    if n.is_zero():
        return "0"
    return format(n.normalize(), "f")


def parse_jsonb(text: str) -> Any:
    """A jsonb value's text as the canonical form reads it: numbers as Decimal, so that the
    digits PostgreSQL kept are the digits hashed."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Decimal):
        out.append(canonical_number(value))
    elif isinstance(value, datetime):
        out.append(json.dumps(canonical_time(value)))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, key in enumerate(sorted(value)):
            if not isinstance(key, str):
                raise TypeError(f"record keys must be text, got {key!r}")
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} {value!r} has no canonical form; jsonb "
                        "values go through parse_jsonb first")


def canonical(record: Mapping[str, Any]) -> str:
    """The record's canonical text (module docstring, step 2)."""
    out: list[str] = []
    _encode(record, out)
    return "".join(out)


def row_hash(record: Mapping[str, Any]) -> str:
    return sm3_hex(canonical(record).encode("utf-8"))


def record_of(chain: Chain, row: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed record of a stored row (`row`: id, prev_hash, the columns, and the
    attached list where the chain has one, jsonb as text as asyncpg returns it)."""
    record: dict[str, Any] = {"id": row["id"], "prev_hash": row["prev_hash"]}
    jsonb = chain.jsonb
    for column, _ in chain.columns:
        value = row[column]
        record[column] = parse_jsonb(value) if column in jsonb and value is not None \
            else value
    if chain.attached:
        record[chain.attached] = parse_jsonb(row[chain.attached])
    return record


def _head_sql(chain: Chain) -> str:
    t = chain.table
    return (f"SELECT (SELECT hash FROM {t} ORDER BY id DESC LIMIT 1) AS head, now() AS now, "
            f"ARRAY(SELECT nextval(pg_get_serial_sequence('{t}', 'id')) "
            f"FROM generate_series(1, $1)) AS ids")


def _insert_sql(chain: Chain) -> str:
    names = [c for c, _ in chain.columns]
    arrays = ", ".join(f"${i}::{'text' if kind == 'jsonb' else kind}[]"
                       for i, (_, kind) in enumerate(chain.columns, start=2))
    n = len(chain.columns)
    select = ", ".join(f"u.{c}::jsonb" if c in chain.jsonb else f"u.{c}" for c in names)
    return (f"INSERT INTO {chain.table} (id, {', '.join(names)}, prev_hash, hash) "
            f"OVERRIDING SYSTEM VALUE SELECT u.id, {select}, u.prev_hash, u.hash "
            f"FROM unnest($1::int8[], {arrays}, ${n + 2}::text[], ${n + 3}::text[]) "
            f"AS u(id, {', '.join(names)}, prev_hash, hash)")


async def append(conn: Connection, chain: str, row: Mapping[str, Any]) -> int:
    """Append one row to `chain`; return its id. Inside the caller's transaction if there
    is one (the row then commits with the rest of it), else in a transaction of its own."""
    return (await append_rows(conn, chain, [row]))[0]


async def append_rows(conn: Connection, chain: str,
                      rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Append `rows` to `chain` in order, with one lock, one head read and one INSERT;
    return their ids. jsonb columns (and the attached list) take Python values."""
    spec = CHAINS[chain]
    if not rows:
        return []
    if conn.is_in_transaction():
        return await _append(conn, spec, rows)
    async with conn.transaction():
        return await _append(conn, spec, rows)


async def _append(conn: Connection, chain: Chain, rows: Sequence[Mapping[str, Any]]
                  ) -> list[int]:
    known = {c for c, _ in chain.columns} | ({chain.attached} if chain.attached else set())
    for row in rows:
        unknown = set(row) - known
        if unknown:
            raise ValueError(f"{chain.name} has no column {', '.join(sorted(unknown))}")
    await conn.execute("SELECT pg_advisory_xact_lock($1)", chain.lock)
    got = await conn.fetchrow(_head_sql(chain), len(rows))
    prev: str = got["head"] or genesis(chain.name)
    ids: list[int] = list(got["ids"])
    columns: list[list[Any]] = [[] for _ in chain.columns]
    prevs: list[str] = []
    own: list[str] = []
    jsonb = chain.jsonb
    defaults = dict(chain.defaults)
    for ident, row in zip(ids, rows, strict=True):
        record: dict[str, Any] = {"id": ident, "prev_hash": prev}
        for i, (column, _) in enumerate(chain.columns):
            value = row.get(column, defaults.get(column))
            if value is None and column in chain.stamped:
                value = got["now"]
            if column in jsonb and value is not None:
                value = json.dumps(value, ensure_ascii=False)
                record[column] = parse_jsonb(value)
            else:
                record[column] = value
            columns[i].append(value)
        if chain.attached:
            record[chain.attached] = parse_jsonb(
                json.dumps(list(row.get(chain.attached) or []), ensure_ascii=False))
        digest = row_hash(record)
        prevs.append(prev)
        own.append(digest)
        prev = digest
    await conn.execute(_insert_sql(chain), ids, *columns, prevs, own)
    return ids


async def log_operation(conn: Connection, *, at: datetime, actor: str, action: str,
                        community: str | None, target: str, note: str | None = None,
                        details: Mapping[str, Any] | None = None) -> int:
    """Add one entry to the operation log (the one way to add one); return its id.

    `at` is the server's clock, `actor` the authenticated user (or the command's
    operator), `action` a dotted name such as `alarm.acknowledge`, `target` what was acted
    on (`alarm:17`, `declared:growth-01`)."""
    return await append(conn, "operation_log", {
        "at": at, "actor": actor, "action": action, "community": community,
        "target": target, "note": note, "details": dict(details or {})})
