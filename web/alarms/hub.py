"""Fan alarm changes out to server-sent event subscribers from one PostgreSQL listener.

One dedicated connection LISTENs on the alarm channel. A notification only wakes the
pump, which reads every change above its cursor (ids become visible in increasing order,
see `model.CHANGE_LOCK`), so nothing is lost when notifications are coalesced or the
listener reconnects. Each change is encoded once and offered to the subscribers of its
community without waiting: a subscriber whose queue is full is marked lagging and
catches up from the database on its own time, so a slow client never blocks the others
and still misses nothing. A subscriber that resumes (Last-Event-ID) starts that way too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

import asyncpg

from ingest.alarms import CHANNEL
from web.alarms.query import changes_after, newest_change

log = logging.getLogger(__name__)

#: Seconds between heartbeat comments on an idle stream (proxies drop silent connections).
HEARTBEAT: Final = 15.0
#: Changes a subscriber may have waiting before it is switched to catching up.
QUEUE_SIZE: Final = 256
PAGE: Final = 500
#: Milliseconds a browser's EventSource waits before reconnecting.
RETRY_MS: Final = 3000


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    community: str
    payload: bytes


def encode(change: dict[str, Any]) -> Message:
    """A change as one SSE message: `id` is the change id, `event: alarm`, JSON data."""
    data = json.dumps(change, ensure_ascii=False, separators=(",", ":"))
    text = f"id: {change['change_id']}\nevent: alarm\ndata: {data}\n\n"
    return Message(change["change_id"], change["alarm"]["community"], text.encode())


class Subscription:
    """One client's stream of one community's changes; iterate `stream()`."""

    def __init__(self, hub: AlarmHub, community: str, after: int, replay: bool) -> None:
        self.hub = hub
        self.community = community
        self.last_sent = after
        self.queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_SIZE)
        self.lagging = replay
        self.closed = False
        self._wake = asyncio.Event()

    def offer(self, message: Message) -> None:
        if self.lagging:
            return  # it will read this one from the database
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.lagging = True
            self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()
        self.hub.unsubscribe(self)

    async def stream(self) -> AsyncIterator[bytes]:
        """`retry:` and a `: subscribed` comment first (the client then knows nothing after
        it is missed), then each change, with a heartbeat comment when idle."""
        try:
            yield f"retry: {RETRY_MS}\n: subscribed\n\n".encode()
            while not self.closed:
                if self.lagging:
                    async with contextlib.aclosing(self._catch_up()) as missed:
                        async for payload in missed:
                            yield payload
                    continue
                message = await self._next()
                if message is None:
                    if not (self.closed or self.lagging):
                        yield b": heartbeat\n\n"
                elif message.id > self.last_sent:
                    self.last_sent = message.id
                    yield message.payload
        finally:
            self.close()

    async def _next(self) -> Message | None:
        """The next queued message; None after a heartbeat interval or a wake-up."""
        self._wake.clear()
        if self.closed or self.lagging:
            return None
        if not self.queue.empty():
            return self.queue.get_nowait()
        getter = asyncio.ensure_future(self.queue.get())
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({getter, waker}, timeout=self.hub.heartbeat,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        return None

    async def _catch_up(self) -> AsyncGenerator[bytes, None]:
        # Clear the flag before draining: whatever is offered from now on is either queued
        # (and skipped if already read here) or read from the database below.
        self.lagging = False
        while not self.queue.empty():
            self.queue.get_nowait()
        while not self.closed:
            changes = await self.hub.read_changes(self.last_sent, self.community)
            for change in changes:
                message = encode(change)
                self.last_sent = message.id
                yield message.payload
            if len(changes) < PAGE:
                return


class AlarmHub:
    """Started on first use by the stream route; `close()` ends every stream."""

    def __init__(self, database_url: str, pool: Any, *, heartbeat: float = HEARTBEAT,
                 retry_max: float = 30.0) -> None:
        self.database_url = database_url
        self.pool = pool
        self.heartbeat = heartbeat
        self.retry_max = retry_max
        self.cursor = 0
        self._subscribers: dict[str, set[Subscription]] = {}
        self._listener: asyncpg.Connection | None = None
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._start_lock = asyncio.Lock()

    @property
    def started(self) -> bool:
        return self._pump is not None

    async def start(self) -> None:
        """Connect the listener (raising if the database is unreachable) and start pumping."""
        async with self._start_lock:
            if self._pump is not None:
                return
            await self._listen(first=True)
            self._pump = asyncio.create_task(self._run(), name="alarm hub")

    async def _listen(self, *, first: bool) -> None:
        conn = await asyncpg.connect(self.database_url)
        try:
            await conn.add_listener(CHANNEL, self._notified)
            conn.add_termination_listener(self._terminated)
            if first:
                # Read after LISTEN: every change above the cursor will be announced. On a
                # reconnect the cursor stays, so changes made meanwhile are sent too.
                self.cursor = await newest_change(conn)
        except BaseException:
            await conn.close()
            raise
        self._lost.clear()
        self._listener = conn

    def _notified(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        self._wake.set()

    def _terminated(self, conn: Any) -> None:
        self._lost.set()
        self._wake.set()

    def subscribe(self, community: str, after: int | None = None) -> Subscription:
        """A new subscription: from now on, or replaying every change above `after`."""
        sub = Subscription(self, community, self.cursor if after is None else after,
                           replay=after is not None)
        self._subscribers.setdefault(community, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.community)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.community]

    @property
    def subscribers(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def read_changes(self, after: int, community: str | None) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            changes: list[dict[str, Any]] = await changes_after(
                conn, after, community=community, limit=PAGE)
            return changes

    async def _run(self) -> None:
        delay = 0.5
        failing = False
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                if self._lost.is_set():
                    await self._reconnect()
                await self._dispatch()
            except Exception as exc:  # the pump must outlive any one failure
                if not failing:
                    expected = isinstance(exc, OSError | asyncpg.PostgresError
                                          | asyncpg.InterfaceError)
                    log.warning("alarm stream cannot read the database (%s: %s); retrying "
                                "every %.0f s at most", type(exc).__name__, exc,
                                self.retry_max, exc_info=not expected)
                    failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max)
                self._wake.set()
                continue
            if failing:
                log.info("alarm stream reads the database again")
                failing = False
            delay = 0.5

    async def _reconnect(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None
        await self._listen(first=False)
        self._wake.set()  # read what was committed while the listener was away

    async def _dispatch(self) -> None:
        while True:
            changes = await self.read_changes(self.cursor, None)
            for change in changes:
                message = encode(change)
                self.cursor = max(self.cursor, message.id)
                for sub in list(self._subscribers.get(message.community, ())):
                    sub.offer(message)
            if len(changes) < PAGE:
                return

    async def close(self) -> None:
        for subs in list(self._subscribers.values()):
            for sub in list(subs):
                sub.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None
