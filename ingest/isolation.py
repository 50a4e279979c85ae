"""Commit a batch, or find and set aside the messages that make committing it fail.

Two kinds of failure look alike (an exception out of `write_batch`) and need opposite
answers. The database being away, restarting, short of connections or missing a table is
waited out: the batch stays unacknowledged and is retried, and nothing is lost. A message
whose content makes the database refuse it, or makes our own code fail, would fail the
same way at every retry and after every restart, stalling every message behind it: the
batch is then written message by message and the one that fails becomes a dead letter.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

import asyncpg

from ingest.dead_letters import exception_text
from ingest.messages import Received, set_aside
from ingest.writer import WriteResult, write_batch
from telemetry import EnvelopeError

log = logging.getLogger(__name__)

#: SQLSTATE classes caused by the values written, not by the database's condition:
#: data exception (22), integrity constraint violation (23), program limit exceeded (54,
#: e.g. a value too large for an index row).
CONTENT_SQLSTATE_CLASSES: Final = frozenset({"22", "23", "54"})


def is_database_trouble(exc: BaseException) -> bool:
    """True when the database (or the way to it) is the problem and a retry can succeed.

    Everything else, including any exception of our own code, is taken to be caused by
    the messages being written: retrying it would stall the stream forever.
    """
    if isinstance(exc, asyncpg.PostgresError):
        return (exc.sqlstate or "")[:2] not in CONTENT_SQLSTATE_CLASSES
    if isinstance(exc, asyncpg.InterfaceError):
        # asyncpg's client-side DataError (a value it cannot encode) is also a ValueError.
        return not isinstance(exc, ValueError)
    return isinstance(exc, OSError | TimeoutError)


def is_database_refusal(exc: BaseException) -> bool:
    """The database (or its driver) refused a value: the message, not our code, is odd."""
    if isinstance(exc, asyncpg.PostgresError):
        return (exc.sqlstate or "")[:2] in CONTENT_SQLSTATE_CLASSES
    return isinstance(exc, asyncpg.InterfaceError) and isinstance(exc, ValueError)


class PendingBatch:
    """The messages of one batch not yet committed, and what committing the rest did.

    Kept across retries: when the database goes away halfway through writing a batch
    message by message, the retry resumes with the messages left, so a dead letter
    already committed is not written twice.
    """

    def __init__(self, messages: Sequence[Received]) -> None:
        self.todo: list[Received] = list(messages)
        self.done = WriteResult()


async def write_setting_aside_poison(pool: asyncpg.Pool, pending: PendingBatch) -> WriteResult:
    """Commit every message in `pending`; return the totals.

    Raises only when `is_database_trouble` (then `pending.todo` holds what is left to
    write), or when not even a message's dead letter can be written — both are retried.
    """
    if not pending.todo:
        return pending.done
    try:
        async with pool.acquire() as conn:
            pending.done.add(await write_batch(conn, pending.todo))
        pending.todo = []
        return pending.done
    except Exception as exc:
        if is_database_trouble(exc):
            raise
        log.warning("a batch of %d messages failed (%s: %s); writing them one by one to "
                    "set aside the ones that fail", len(pending.todo), type(exc).__name__,
                    exception_text(exc)[:300])
    while pending.todo:
        pending.done.add(await _write_one(pool, pending.todo[0]))
        pending.todo.pop(0)
    return pending.done


async def _write_one(pool: asyncpg.Pool, msg: Received) -> WriteResult:
    try:
        async with pool.acquire() as conn:
            return await write_batch(conn, [msg])
    except Exception as exc:
        if is_database_trouble(exc) or msg.error is not None:
            # A dead letter that cannot be written is our fault or the database's, not the
            # message's: retry rather than lose it.
            raise
        failure = exc
    if is_database_refusal(failure):
        reason = (f"the database refused this message: {type(failure).__name__}: "
                  f"{exception_text(failure)}; fix the sender (values must be storable as "
                  "text / JSON)")
        log.warning("set aside a message on %s: %s", msg.topic, reason)
        rejected = Received(msg.topic, msg.payload, msg.received_at,
                            error=EnvelopeError("db_rejected", reason),
                            parsed_topic=msg.parsed_topic)
    else:
        rejected = set_aside(msg, failure, "writing")
    # A fresh connection: whatever failed may have left the last one mid-protocol.
    async with pool.acquire() as conn:
        return await write_batch(conn, [rejected])
