"""Hand MQTT deliveries from paho's network thread to the asyncio loop in groups.

`loop.call_soon_threadsafe` once per message writes to the loop's self-pipe once per
message: at thousands of small messages a second that system call and the wake-up behind
it were a large share of ingest's time. Here the network thread appends to a deque and
wakes the loop only when no wake-up is already pending, so a burst that arrives while the
loop is busy writing a batch costs one wake-up in all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """A deque filled by one foreign thread and emptied by the asyncio loop.

    The loop says how many items it is waiting for (`wait`); the foreign thread wakes it
    only once that many are there, so filling a batch of 500 costs one wake-up, not 500.
    Correct without a lock under the GIL: `deque.extend` of a list or tuple and `popleft`
    are atomic, the thread appends before it reads `_wanted`, and the loop sets `_wanted`
    before it counts the items, so an item is either counted by the loop or wakes it.
    """

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = asyncio.Event()
        self._wanted = 0  # 0: the loop is not waiting
        self._wake_pending = False
        self.wakeups = 0  # how many times the foreign thread woke the loop (for tests)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def put(self, item: T) -> None:
        """Called from the foreign thread."""
        self.put_many((item,))

    def put_many(self, items: list[T] | tuple[T, ...]) -> None:
        """Called from the foreign thread, with what one read from the network brought
        (a list or tuple: extending from a generator would not be atomic)."""
        self._items.extend(items)
        wanted = self._wanted
        if wanted and len(self._items) >= wanted and not self._wake_pending \
                and self._loop is not None:
            self._wake_pending = True
            self.wakeups += 1
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._wake_pending = False
        self._ready.set()

    def wake(self) -> None:
        """End a `wait` early, from the loop itself (to stop)."""
        self._ready.set()

    def __len__(self) -> int:
        return len(self._items)

    def take(self, limit: int, into: list[T]) -> None:
        """Move items into `into` until it holds `limit` (loop side)."""
        items = self._items
        while len(into) < limit and items:
            into.append(items.popleft())

    async def wait(self, count: int = 1, within: float | None = None) -> None:
        """Return once `count` items are there, `within` seconds passed or `wake()` was
        called, whichever comes first."""
        self._wanted = count
        try:
            self._ready.clear()
            if len(self._items) >= count:
                return
            if within is None:
                await self._ready.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), within)
        finally:
            self._wanted = 0

    async def next_batch(self, limit: int, wait: float, stopping: asyncio.Event,
                         ) -> tuple[list[T], bool]:
        """Up to `limit` items, waiting at most `wait` seconds after the first one; True
        with them once `stopping` is set (the batch in hand is still to be written)."""
        batch: list[T] = []
        while not batch:
            if stopping.is_set():
                self.take(limit, batch)
                return batch, True
            await self.wait()
            self.take(limit, batch)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while len(batch) < limit and not stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self.wait(limit - len(batch), remaining)
            self.take(limit, batch)
        return batch, stopping.is_set()
