"""Commit batches with several writers at once, and acknowledge them in the order they came.

One batch's Python work and database round trips overlap another's work in the database,
so two writers drain a queue faster than one. What must not change with it:

- MQTT wants PUBACKs in the order the messages arrived, and a message may be acknowledged
  only once it is committed: a batch is acknowledged after it and every batch before it
  were committed. A batch that was not written (ingest stopping while the database is
  away) acknowledges nothing after it; the broker redelivers those and the duplicates are
  dropped by seq.
- What a batch stores must not depend on which writer commits first. Most of it does not
  (latest values move forward in time, history rows are rows); a batch that the writer
  says could (`ingest.writer.depends_on_arrival_order`) is written alone, after every
  batch before it and before any after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Final, Generic, NamedTuple, TypeVar

#: Batches committed at once, each on its own connection. Safe as several ingest workers
#: are: the writer locks rows in one order, duplicates are dropped by seq, and a device's
#: row lock orders its state changes (`ingest.writer`).
WRITERS: Final = 2

B = TypeVar("B")


class _Job(NamedTuple, Generic[B]):
    """A batch on its way to a writer. `acked` resolves once the batch was acknowledged
    (True) or will not be (False); the next batch waits for it (`previous`) before
    acknowledging, and before writing too when one of the two must be written `alone`."""

    batch: B
    previous: asyncio.Future[bool]
    acked: asyncio.Future[bool]
    alone: bool


class OrderedCommits(Generic[B]):
    """`WRITERS` tasks writing what `submit` hands over through a one-slot queue.

        async with OrderedCommits(write, ack) as commits:
            while commits.running:
                await commits.submit(batch, ordered=...)

    `write(batch)` commits a batch and returns whether it did; `ack(batch)` sends its
    acknowledgements. Leaving the block lets the writers finish what they hold and
    raises what stopped a writer, if anything did.
    """

    def __init__(self, write: Callable[[B], Awaitable[bool]], ack: Callable[[B], None],
                 writers: int = WRITERS) -> None:
        self._write = write
        self._ack = ack
        self._count = writers
        self._handoff: asyncio.Queue[_Job[B] | None] = asyncio.Queue(maxsize=1)
        self._writers: set[asyncio.Task[None]] = set()
        self._previous: asyncio.Future[bool] | None = None
        self._previous_ordered = False

    async def __aenter__(self) -> OrderedCommits[B]:
        self._previous = asyncio.get_running_loop().create_future()
        self._previous.set_result(True)
        self._writers = {asyncio.create_task(self._write_loop()) for _ in range(self._count)}
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        for writer in self._writers:
            if not writer.done():
                await self._handoff.put(None)
        for writer in self._writers:
            await writer  # raises what stopped a writer, if anything did

    @property
    def running(self) -> bool:
        """False once a writer has stopped (it failed: leave the block to see why)."""
        return not any(w.done() for w in self._writers)

    async def submit(self, batch: B, *, ordered: bool) -> None:
        """Hand `batch` to the next free writer; `ordered` when its outcome depends on
        the order of commits. Returns once a writer took it, or a writer stopped."""
        assert self._previous is not None, "submit inside `async with`"
        job = _Job(batch, self._previous, asyncio.get_running_loop().create_future(),
                   alone=ordered or self._previous_ordered)
        self._previous, self._previous_ordered = job.acked, ordered
        put = asyncio.ensure_future(self._handoff.put(job))
        await asyncio.wait({put, *self._writers}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
            job.acked.set_result(False)

    async def _write_loop(self) -> None:
        while (job := await self._handoff.get()) is not None:
            acked = False
            try:
                if job.alone:
                    await job.previous  # every batch before this one is done with
                written = await self._write(job.batch)
                acked = await job.previous and written
                if acked:
                    self._ack(job.batch)
            finally:
                job.acked.set_result(acked)
