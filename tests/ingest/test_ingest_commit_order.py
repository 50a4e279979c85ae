"""Batches committed by two writers at once: a later batch may commit while an earlier one
is still being written, yet acknowledgements go out in arrival order; a batch whose
outcome depends on the order of commits is written with no other batch in flight; a batch
that was not written holds back the acknowledgements after it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from ingest.commit_order import WRITERS, OrderedCommits


class _Database:
    """Writes that finish when the test says so, and a log of what happened in order."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.outcome: dict[str, bool] = {}
        self.writing: set[str] = set()
        self.changed = asyncio.Condition()
        self.failed = False  # the test failed: no write waits any longer

    async def write(self, batch: str) -> bool:
        await self._note(f"start {batch}", writing=batch)
        if not self.failed:
            await self.release.setdefault(batch, asyncio.Event()).wait()
        await self._note(f"commit {batch}", done=batch)
        return self.outcome.get(batch, True)

    async def _note(self, event: str, writing: str = "", done: str = "") -> None:
        async with self.changed:
            self.log.append(event)
            self.writing = (self.writing | {writing}) - {done, ""}
            self.changed.notify_all()

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(5), self.changed:
            await self.changed.wait_for(condition)

    def ack(self, batch: str) -> None:
        self.log.append(f"ack {batch}")

    def finish(self, batch: str) -> None:
        self.release.setdefault(batch, asyncio.Event()).set()

    @contextlib.asynccontextmanager
    async def released_if_failing(self) -> AsyncIterator[None]:
        """Let every write finish when the test fails, so that the writers can stop."""
        try:
            yield
        except BaseException:
            self.failed = True
            for event in self.release.values():
                event.set()
            raise


async def test_a_later_batch_commits_first_but_is_acknowledged_after_the_earlier_one() -> None:
    assert WRITERS == 2
    db = _Database()
    async with OrderedCommits(db.write, db.ack) as commits, db.released_if_failing():
        await commits.submit("a", ordered=False)
        await commits.submit("b", ordered=False)
        await db.until(lambda: db.writing == {"a", "b"})
        db.finish("b")
        await db.until(lambda: "commit b" in db.log)
        assert "ack b" not in db.log
        db.finish("a")
    assert db.log == ["start a", "start b", "commit b", "commit a", "ack a", "ack b"]


async def test_an_order_dependent_batch_is_written_with_no_other_in_flight() -> None:
    db = _Database()
    async with OrderedCommits(db.write, db.ack) as commits, db.released_if_failing():
        await commits.submit("a", ordered=False)
        await commits.submit("status", ordered=True)
        await db.until(lambda: db.writing == {"a"})
        submitted_after = asyncio.create_task(commits.submit("c", ordered=False))
        db.finish("a")
        await db.until(lambda: db.writing == {"status"})
        await submitted_after
        for _ in range(10):  # turns of the loop in which a writer could start "c"
            await asyncio.sleep(0)
        assert db.writing == {"status"}  # "c" waits for it
        db.finish("status")
        db.finish("c")
    assert db.log == ["start a", "commit a", "ack a", "start status", "commit status",
                      "ack status", "start c", "commit c", "ack c"]


async def test_a_batch_not_written_holds_back_the_acknowledgements_after_it() -> None:
    db = _Database()
    db.outcome["a"] = False
    async with OrderedCommits(db.write, db.ack) as commits, db.released_if_failing():
        for batch in ("a", "b"):
            await commits.submit(batch, ordered=False)
            db.finish(batch)
    assert sorted(db.log) == ["commit a", "commit b", "start a", "start b"]
