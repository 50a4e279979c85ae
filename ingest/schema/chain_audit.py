"""Walk the hash chains of `ingest.schema.chain`: verify every row (`verify`), read the
heads (`heads`), and seal rows written before the chains existed (`seal`, run once by
migration 0035).

A break is told by what it means: the row's own content no longer gives its stored
hash (the row was changed), or its `prev_hash` is not the hash of the row before it (a
row before it was removed or slipped in, or the chain was re-linked), or both.

The head (the newest row's hash) is what a row cannot be checked against from inside the
database: whoever removes the newest rows and nothing else leaves a shorter chain that
verifies. Compare the head with one written down earlier — the acceptance report prints
them, `scg audit head` too — to see that nothing was taken off the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

from ingest.schema.chain import CHAINS, Chain, genesis, record_of, row_hash

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

#: Rows fetched per round trip while walking a chain.
PREFETCH: Final = 2000


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first row of a chain that does not match."""

    chain: str
    row_id: int
    content_changed: bool      # the row's content does not give its stored hash
    link_broken: bool          # its prev_hash is not the previous row's hash
    expected_hash: str
    stored_hash: str | None
    expected_prev: str
    stored_prev: str | None

    def describe(self) -> str:
        what = []
        if self.content_changed:
            what.append(f"row content changed: its content hashes to {self.expected_hash}, "
                        f"the row stores {self.stored_hash}")
        if self.link_broken:
            what.append(f"prev linkage broken: prev_hash is {self.stored_prev}, the row "
                        f"before it hashes to {self.expected_prev} (a row was removed, "
                        "slipped in or re-linked before this one)")
        return f"{self.chain}: row id {self.row_id}: " + "; ".join(what)


@dataclass(frozen=True, slots=True)
class ChainState:
    chain: str
    rows: int
    head_id: int | None
    head: str | None           # the newest row's stored hash; None for an empty chain
    broken: ChainBreak | None = None


def _select(chain: Chain, where: str = "") -> str:
    columns = ", ".join(f"t.{c}::text" if kind == "jsonb" else f"t.{c}"
                        for c, kind in chain.columns)
    attached = f", {chain.attached_sql} AS {chain.attached}" if chain.attached else ""
    return (f"SELECT t.id, t.prev_hash, t.hash, {columns}{attached} "
            f"FROM {chain.table} t {where} ORDER BY t.id")


async def _rows(conn: Connection, chain: Chain, after_id: int | None = None,
                limit: int | None = None, until: int | None = None) -> AsyncIterator[Any]:
    bounds = [f"t.id > {int(after_id)}"] if after_id is not None else []
    if until is not None:
        bounds.append(f"t.id <= {int(until)}")
    sql = _select(chain, f"WHERE {' AND '.join(bounds)}" if bounds else "")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    async for row in conn.cursor(sql, prefetch=PREFETCH):
        yield row


async def verify_chain(conn: Connection, chain: Chain, *,
                       after: tuple[int, str] | None = None,
                       limit: int | None = None, until: int | None = None) -> ChainState:
    """Walk `chain` in id order; the first break found is reported, the rest counted.

    `after` (row id, hash) resumes behind a row verified earlier: only the rows after it
    are walked (and counted), the first of them must link to that hash. `limit` stops
    after that many rows, and `until` after the row of that id, so a caller with a time
    budget (the acceptance report) can go on from the last row walked next time. Inside
    a transaction (a cursor needs one).
    """
    expected_prev = genesis(chain.name) if after is None else after[1]
    rows = 0
    head_id: int | None = None if after is None else after[0]
    head: str | None = None if after is None else after[1]
    broken: ChainBreak | None = None
    async for row in _rows(conn, chain, None if after is None else after[0], limit, until):
        rows += 1
        head_id, head = row["id"], row["hash"]
        if broken is None:
            own = row_hash(record_of(chain, row))
            changed = own != row["hash"]
            relinked = row["prev_hash"] != expected_prev
            if changed or relinked:
                broken = ChainBreak(chain.name, row["id"], changed, relinked, own,
                                    row["hash"], expected_prev, row["prev_hash"])
        expected_prev = row["hash"]
    return ChainState(chain.name, rows, head_id, head, broken)


async def verify(conn: Connection) -> list[ChainState]:
    """Every chain, walked in one read-only snapshot (rows appended meanwhile are not
    seen, so a busy system verifies as of one moment)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return [await verify_chain(conn, chain) for chain in CHAINS.values()]


async def heads(conn: Connection) -> list[ChainState]:
    """Each chain's row count and newest row (no verification), in one statement, so the
    heads are of one moment."""
    parts = [f"""SELECT {i} AS n, (SELECT count(*) FROM {chain.table}) AS rows, h.id, h.hash
                 FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT id, hash FROM {chain.table}
                                                        ORDER BY id DESC LIMIT 1) h ON true"""
             for i, chain in enumerate(CHAINS.values())]
    rows = await conn.fetch(" UNION ALL ".join(parts) + " ORDER BY n")
    return [ChainState(chain.name, int(r["rows"]), r["id"], r["hash"])
            for chain, r in zip(CHAINS.values(), rows, strict=True)]


async def seal(conn: Connection) -> dict[str, int]:
    """Chain the rows that have no hash yet, in id order, after those that have; return
    how many were sealed per chain. Run by migration 0035 inside its transaction, as the
    tables' owner: it lifts the append-only triggers for its own UPDATE only, so a row
    written before the upgrade is covered from then on (what it said before cannot be
    vouched for by a chain made later)."""
    sealed: dict[str, int] = {}
    for chain in CHAINS.values():
        prev = genesis(chain.name)
        ids: list[int] = []
        prevs: list[str] = []
        own: list[str] = []
        async for row in _rows(conn, chain):
            if row["hash"] is None:
                digest = row_hash(record_of(chain, {**row, "prev_hash": prev}))
                ids.append(row["id"])
                prevs.append(prev)
                own.append(digest)
                prev = digest
            else:
                prev = row["hash"]
        if ids:
            t = chain.table
            await conn.execute(f"ALTER TABLE {t} DISABLE TRIGGER {t}_append_only")
            await conn.execute(
                f"""UPDATE {t} SET prev_hash = u.prev_hash, hash = u.hash
                    FROM unnest($1::int8[], $2::text[], $3::text[]) AS u(id, prev_hash, hash)
                    WHERE {t}.id = u.id""", ids, prevs, own)
            await conn.execute(f"ALTER TABLE {t} ENABLE TRIGGER {t}_append_only")
        sealed[chain.name] = len(ids)
    return sealed
