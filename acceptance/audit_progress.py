"""The records' hash chains verified for the acceptance report, row by row, from where the
last report left off, with the rows verified before walked again round after round.

Walking a chain costs about 27 µs a row here (2.7 s for 100,000 operation-log rows:
`python -m bench audit`), and the operation log only grows, so a report cannot walk
everything each time. `audit_checkpoints` keeps, per chain, the last row verified, its
hash and how many rows led up to it. A report then

1. checks that the rows verified before are still all there: as many rows up to the
   checkpoint as there were, and the checkpoint row still stores the hash it had (a
   row removed or slipped in before it, or the newest verified row re-hashed, shows here);
2. walks again up to `recheck_limit` of the rows verified before, going on from where
   the previous report's slice ended and starting over at the first row once it reached
   the checkpoint: a row rewritten in place before the checkpoint (by someone who may
   lift the tables' triggers) is found within one round, and a chain shorter than the
   slice is walked whole by every report;
3. walks the rows after the checkpoint (at most `limit` per call), each of which must
   hash to what it stores and link to the row before;
4. moves the checkpoint and the round forward, unless something broke: a broken chain
   keeps its last good checkpoint and is reported broken until it is repaired.

`scg audit verify` walks every row at once and names the first that does not match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from ingest.schema.chain import CHAINS, Chain
from ingest.schema.chain_audit import ChainBreak, verify_chain

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

#: Rows walked per chain and call at most (about 2.7 s here); the rest is walked by the
#: next report, which goes on from there.
WALK_LIMIT: Final = 100_000
#: Rows verified before that a call walks again per chain at most (about 30 ms here): a
#: chain of up to this many rows is verified whole by every report, a longer one over
#: several (the chains are the platform's, so every community's report moves it on).
RECHECK_LIMIT: Final = 1_000
#: Held while a checkpoint is moved, so that two reports never wait on each other's row
#: lock: the one that does not get it simply leaves the checkpoint to the other.
CHECKPOINT_LOCK: Final = 0x5C6_0A0D


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The last row of a chain verified, and how many rows led up to it."""

    row_id: int
    hash: str
    rows: int
    first_verified_at: datetime
    #: The round of walking the verified rows again: the last row it reached (0: the next
    #: round starts at the first row) and when it began; the last complete round.
    recheck_id: int = 0
    recheck_started_at: datetime | None = None
    rechecked_from: datetime | None = None
    rechecked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Tampering:
    """What no longer matches in a chain, in the report's words, at which row id."""

    chain: str
    row_id: int
    words: str


@dataclass(frozen=True, slots=True)
class ChainProgress:
    """One chain as verified for a report.

    `rows`: rows in the chain now; `verified`: of them, verified row by row so far (all,
    unless a break or the walk limit stopped short); `walked`: verified by this call for
    the first time; `rechecked`: verified before and walked again by this call; `head`:
    the newest row's stored hash. `since`: when the chain was first walked from its first
    row (None: by this call). `recheck_id`, `recheck_started`: where the round of walking
    the verified rows again stands after this call (0, None: it starts over next time);
    `rechecked_from`, `rechecked_at`: the last round that walked every verified row again
    (None: none has yet).
    """

    chain: str
    rows: int
    verified: int
    walked: int
    head_id: int | None
    head: str | None
    since: datetime | None = None
    tampering: Tampering | None = None
    rechecked: int = 0
    recheck_id: int = 0
    recheck_started: datetime | None = None
    rechecked_from: datetime | None = None
    rechecked_at: datetime | None = None

    @property
    def complete(self) -> bool:
        return self.tampering is None and self.verified == self.rows

    @property
    def earlier(self) -> int:
        """Verified rows this call took as verified before, without walking them again."""
        return max(self.verified - self.walked - self.rechecked, 0)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chain": self.chain, "rows": self.rows,
                               "verified": self.verified, "walked_now": self.walked,
                               "head_id": self.head_id, "head": self.head}
        if self.since is not None:
            out["verified_since"] = self.since.isoformat()
            out["rechecked_now"] = self.rechecked
            out["last_full_recheck"] = (self.rechecked_at.isoformat()
                                        if self.rechecked_at is not None else None)
        if self.tampering is not None:
            out["tampering"] = {"row_id": self.tampering.row_id,
                                "words": self.tampering.words}
        return out


def break_words(b: ChainBreak) -> str:
    """A chain break of `ingest.schema.chain_audit` in the report's words."""
    parts = []
    if b.content_changed:
        parts.append("内容被改动（其内容的SM3值与所存哈希不符）")
    if b.link_broken:
        parts.append("与上一条记录的哈希链接断开（其前有记录被删除、插入或重新链接）")
    return f"id为{b.row_id}的记录" + "，且".join(parts)


async def load_checkpoints(conn: Connection) -> dict[str, Checkpoint]:
    """Every chain's checkpoint; none when the table does not exist yet (a database not
    migrated since it came): every chain is then walked from its first row."""
    try:
        async with conn.transaction():
            rows = await conn.fetch(
                """SELECT chain, row_id, hash, rows, first_verified_at, recheck_id,
                          recheck_started_at, rechecked_from, rechecked_at
                   FROM audit_checkpoints""")
    except asyncpg.UndefinedTableError:
        return {}
    return {r["chain"]: Checkpoint(r["row_id"], r["hash"], r["rows"], r["first_verified_at"],
                                   r["recheck_id"], r["recheck_started_at"],
                                   r["rechecked_from"], r["rechecked_at"]) for r in rows}


async def _still_there(conn: Connection, chain: Chain, cp: Checkpoint
                       ) -> tuple[int, int, Tampering | None]:
    """(rows up to the checkpoint, rows in all, what no longer matches before it)."""
    got = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE id <= $1) AS before, count(*) AS total,
                   (SELECT hash FROM {chain.table} WHERE id = $1) AS hash
            FROM {chain.table}""", cp.row_id)
    before, total = int(got["before"]), int(got["total"])
    problem: str | None = None
    if got["hash"] is None:
        problem = f"已核验的id为{cp.row_id}的记录被删除"
    elif got["hash"] != cp.hash:
        problem = (f"已核验的id为{cp.row_id}的记录所存哈希被改写（核验时为{cp.hash[:8]}，"
                   f"现为{got['hash'][:8]}）")
    elif before != cp.rows:
        problem = (f"已核验的前{cp.rows}条记录现为{before}条（其间有记录被删除或插入）")
    return before, total, Tampering(chain.name, cp.row_id, problem) if problem else None


@dataclass(frozen=True, slots=True)
class _Recheck:
    """One slice of the round of walking verified rows again (module docstring, step 2)."""

    walked: int
    position: int
    started: datetime | None
    done_from: datetime | None
    done_at: datetime | None
    tampering: Tampering | None = None


async def _recheck(conn: Connection, chain: Chain, cp: Checkpoint, limit: int,
                   now: datetime) -> _Recheck:
    """Walk the verified rows again from where the round stands, up to `limit` of them and
    no further than the checkpoint (which `_still_there` found in place)."""
    start, started = cp.recheck_id, cp.recheck_started_at or now
    after: tuple[int, str] | None = None
    if start:
        stored = await conn.fetchval(f"SELECT hash FROM {chain.table} WHERE id = $1", start)
        if stored is None:      # the row the round stopped at is gone: start over
            start, started = 0, now
        else:
            after = (start, stored)
    else:
        started = now
    state = await verify_chain(conn, chain, after=after, limit=limit, until=cp.row_id)
    if state.broken is not None:
        return _Recheck(state.rows, start, started, cp.rechecked_from, cp.rechecked_at,
                        Tampering(chain.name, state.broken.row_id, break_words(state.broken)))
    reached = state.head_id if state.head_id is not None else start
    if reached >= cp.row_id:
        return _Recheck(state.rows, 0, None, started, now)
    return _Recheck(state.rows, reached, started, cp.rechecked_from, cp.rechecked_at)


async def _first_walk(conn: Connection, chain: Chain, limit: int,
                      now: datetime) -> ChainProgress:
    """A chain with no checkpoint walked from its first row."""
    total = int(await conn.fetchval(f"SELECT count(*) FROM {chain.table}"))
    state = await verify_chain(conn, chain, limit=limit)
    tampering = None if state.broken is None else Tampering(
        chain.name, state.broken.row_id, break_words(state.broken))
    verified = state.rows if tampering is None else 0
    whole = tampering is None and verified >= total
    return ChainProgress(chain.name, max(total, state.rows), verified, state.rows,
                         state.head_id, state.head, None, tampering,
                         rechecked_from=now if whole else None,
                         rechecked_at=now if whole else None)


async def _progress(conn: Connection, chain: Chain, cp: Checkpoint | None,
                    limit: int, recheck_limit: int, now: datetime) -> ChainProgress:
    if cp is None:
        return await _first_walk(conn, chain, limit, now)
    before, total, tampering = await _still_there(conn, chain, cp)
    if tampering is not None:
        return ChainProgress(chain.name, total, 0, 0, cp.row_id, cp.hash,
                             cp.first_verified_at, tampering)
    again = await _recheck(conn, chain, cp, recheck_limit, now)
    if again.tampering is not None:
        return ChainProgress(chain.name, total, 0, 0, cp.row_id, cp.hash,
                             cp.first_verified_at, again.tampering, again.walked)
    state = await verify_chain(conn, chain, after=(cp.row_id, cp.hash), limit=limit)
    if state.broken is not None:
        tampering = Tampering(chain.name, state.broken.row_id, break_words(state.broken))
    rows = max(total, before + state.rows)
    verified = 0 if tampering else before + state.rows
    done_from, done_at = again.done_from, again.done_at
    if done_at is None and verified == rows:   # the first walk, over several calls, ended
        done_from, done_at = cp.first_verified_at, now
    return ChainProgress(chain.name, rows, verified, state.rows, state.head_id, state.head,
                         cp.first_verified_at, tampering, again.walked, again.position,
                         again.started, done_from, done_at)


async def _save(conn: Connection, done: list[ChainProgress], now: datetime) -> None:
    """Move the checkpoints and rounds of the chains verified without a break forward;
    skipped when another report is moving them, and never a reason to fail the report."""
    rows = [(p.chain, p.head_id, p.head, p.verified, p.since or now, now, p.recheck_id,
             p.recheck_started, p.rechecked_from, p.rechecked_at)
            for p in done if p.tampering is None and p.verified and p.head_id is not None]
    if not rows:
        return
    try:
        async with conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)",
                                       CHECKPOINT_LOCK):
                return
            await conn.executemany(
                """INSERT INTO audit_checkpoints AS a (chain, row_id, hash, rows,
                                                      first_verified_at, verified_at,
                                                      recheck_id, recheck_started_at,
                                                      rechecked_from, rechecked_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                   ON CONFLICT (chain) DO UPDATE SET row_id = EXCLUDED.row_id,
                       hash = EXCLUDED.hash, rows = EXCLUDED.rows,
                       verified_at = EXCLUDED.verified_at,
                       recheck_id = EXCLUDED.recheck_id,
                       recheck_started_at = EXCLUDED.recheck_started_at,
                       rechecked_from = EXCLUDED.rechecked_from,
                       rechecked_at = EXCLUDED.rechecked_at
                   WHERE a.row_id <= EXCLUDED.row_id""", rows)
    except (asyncpg.SerializationError, asyncpg.UndefinedTableError,
            asyncpg.InsufficientPrivilegeError, asyncpg.ReadOnlySQLTransactionError):
        # Another report moved it meanwhile, the database predates the table, or this
        # connection may only read: the next report walks these rows again.
        return


async def verify_records(conn: Connection, now: datetime, *, limit: int = WALK_LIMIT,
                         recheck_limit: int = RECHECK_LIMIT,
                         checkpoints: Mapping[str, Checkpoint] | None = None
                         ) -> tuple[ChainProgress, ...]:
    """Every chain verified from its checkpoint (module docstring), in one snapshot, and
    the checkpoints moved forward. Inside the caller's transaction when there is one (as
    a savepoint), else in a repeatable-read one of its own."""
    found = dict(checkpoints) if checkpoints is not None else await load_checkpoints(conn)
    transaction = (conn.transaction() if conn.is_in_transaction()
                   else conn.transaction(isolation="repeatable_read"))
    async with transaction:
        out = [await _progress(conn, chain, found.get(chain.name), limit, recheck_limit, now)
               for chain in CHAINS.values()]
        await _save(conn, out, now)
    return tuple(out)
