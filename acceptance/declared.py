"""Declared values of the acceptance tables: entries per community and row, each with its
values, free text, who entered it, when (the server's clock) and its evidence files.

Entries are never changed: a correction is a new entry, the latest one (by entry time) is
the row's value, and all of them are its history. The tables refuse UPDATE and DELETE
(migration 0008), and entries are a hash chain with their evidence files in the hash
(`ingest.schema.chain`). Each entry is also written to the operation log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg

from acceptance.declared_check import DeclarationRefused, check_entry, declarable_row
from acceptance.evidence import StoredFile
from ingest.schema.chain import append, log_operation

Connection = Any  # asyncpg.Connection; asyncpg ships no type information


@dataclass(frozen=True, slots=True)
class Evidence:
    """A file attached to an entry: its name and type as uploaded, its SHA-256 and size."""

    name: str
    sha256: str
    size: int
    content_type: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size,
                "content_type": self.content_type, "url": f"/api/evidence/{self.sha256}"}


@dataclass(frozen=True, slots=True)
class Declaration:
    """One entry for a declared row."""

    row_id: str
    values: dict[str, Any]
    text: str
    entered_by: str
    entered_at: datetime
    evidence: list[Evidence]
    id: int = 0
    tier: str = ""
    community: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "community": self.community, "tier": self.tier,
                "row_id": self.row_id, "values": dict(self.values), "text": self.text,
                "entered_by": self.entered_by, "entered_at": iso(self.entered_at),
                "evidence": [e.to_dict() for e in self.evidence]}


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A stored evidence file as the database knows it (`name`: its first upload's)."""

    sha256: str
    size: int
    content_type: str
    name: str


async def enter_declaration(conn: Connection, community: str, row_id: str,
                            values: Mapping[str, Any], *, text: str, by: str, at: datetime,
                            files: Sequence[StoredFile] = ()) -> Declaration:
    """Check and store one entry; DeclarationRefused (with every problem) if it cannot be.

    `files` are already in the evidence store (`EvidenceStore.put`); `at` is the server's
    clock, never the client's.
    """
    row = declarable_row(row_id)
    clean, who, note = check_entry(row, values, files=len(files), by=by, text=text)
    if at.tzinfo is None:
        raise ValueError(f"entry time {at!r} has no timezone; pass an aware UTC datetime")
    tier = row_id.rpartition("-")[0]
    try:
        async with conn.transaction():
            ident = await _insert(conn, community, tier, row_id, clean, note, who, at, files)
    except asyncpg.ForeignKeyViolationError:
        raise DeclarationRefused([f"community {community!r} is not in the inventory; import "
                                  "it with `scg inventory import FILE` first"], 404) from None
    return Declaration(row_id=row_id, values=clean, text=note, entered_by=who, entered_at=at,
                       evidence=[Evidence(f.name, f.sha256, f.size, f.content_type)
                                 for f in files],
                       id=ident, tier=tier, community=community)


async def _insert(conn: Connection, community: str, tier: str, row_id: str,
                  values: dict[str, Any], text: str, by: str, at: datetime,
                  files: Sequence[StoredFile]) -> int:
    for f in files:
        await conn.execute(
            """INSERT INTO evidence_files (sha256, size, content_type, stored_at)
               VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING""",
            f.sha256, f.size, f.content_type, at)
    evidence = [{"position": i, "sha256": f.sha256, "name": f.name,
                 "content_type": f.content_type} for i, f in enumerate(files)]
    ident = await append(conn, "declarations", {
        "community": community, "tier": tier, "row_id": row_id, "field_values": values,
        "text": text, "entered_by": by, "entered_at": at, "evidence": evidence})
    await conn.executemany(
        """INSERT INTO declaration_evidence (declaration, position, sha256, name,
                                             content_type)
           VALUES ($1, $2, $3, $4, $5)""",
        [(ident, e["position"], e["sha256"], e["name"], e["content_type"])
         for e in evidence])
    await log_operation(conn, at=at, actor=by, action="declared.enter", community=community,
                        target=f"declared:{row_id}",
                        details={"declaration": ident, "tier": tier, "values": values,
                                 "evidence": [f.sha256 for f in files]})
    return ident


_SELECT: Final = """SELECT id, community, tier, row_id, field_values, text, entered_by,
                           entered_at FROM declarations"""


async def latest_declarations(conn: Connection, community: str, tier: str,
                              as_of: datetime | None = None) -> dict[str, Declaration]:
    """The latest entry of each declared row of `tier` (entered at or before `as_of`, if
    given), keyed by row id, in row-id order."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT ON (row_id) * FROM ({_SELECT}
                WHERE community = $1 AND tier = $2
                  AND ($3::timestamptz IS NULL OR entered_at <= $3)) d
            ORDER BY row_id, entered_at DESC, id DESC""", community, tier, as_of)
    found = await _with_evidence(conn, rows)
    return {d.row_id: d for d in found}


async def declaration_history(conn: Connection, community: str, row_id: str,
                              as_of: datetime | None = None) -> list[Declaration]:
    """Every entry of the row, newest first (the first is the row's value)."""
    rows = await conn.fetch(
        f"""{_SELECT} WHERE community = $1 AND row_id = $2
                       AND ($3::timestamptz IS NULL OR entered_at <= $3)
            ORDER BY entered_at DESC, id DESC""", community, row_id, as_of)
    return await _with_evidence(conn, rows)


async def history_counts(conn: Connection, community: str, tier: str,
                         as_of: datetime | None = None) -> dict[str, int]:
    """How many entries each declared row of `tier` has."""
    rows = await conn.fetch(
        """SELECT row_id, count(*) AS n FROM declarations
           WHERE community = $1 AND tier = $2
             AND ($3::timestamptz IS NULL OR entered_at <= $3)
           GROUP BY row_id""", community, tier, as_of)
    return {r["row_id"]: r["n"] for r in rows}


async def evidence_file(conn: Connection, sha256: str) -> EvidenceFile | None:
    row = await conn.fetchrow(
        """SELECT f.sha256, f.size, f.content_type,
                  (SELECT name FROM declaration_evidence e WHERE e.sha256 = f.sha256
                   ORDER BY declaration, position LIMIT 1) AS name
           FROM evidence_files f WHERE f.sha256 = $1""", sha256)
    if row is None:
        return None
    return EvidenceFile(sha256=row["sha256"], size=row["size"],
                        content_type=row["content_type"], name=row["name"] or row["sha256"])


async def _with_evidence(conn: Connection, rows: Sequence[Any]) -> list[Declaration]:
    ids = [r["id"] for r in rows]
    attached: dict[int, list[Evidence]] = {i: [] for i in ids}
    if ids:
        for e in await conn.fetch(
                """SELECT e.declaration, e.name, e.sha256, f.size, e.content_type
                   FROM declaration_evidence e JOIN evidence_files f USING (sha256)
                   WHERE e.declaration = ANY($1::bigint[])
                   ORDER BY e.declaration, e.position""", ids):
            attached[e["declaration"]].append(
                Evidence(e["name"], e["sha256"], e["size"], e["content_type"]))
    return [Declaration(row_id=r["row_id"], values=json.loads(r["field_values"]),
                        text=r["text"], entered_by=r["entered_by"],
                        entered_at=r["entered_at"].astimezone(UTC),
                        evidence=attached[r["id"]], id=r["id"], tier=r["tier"],
                        community=r["community"])
            for r in rows]


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
