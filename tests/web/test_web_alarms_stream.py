"""The alarm stream: server-sent events from a real uvicorn, fed by real LISTEN/NOTIFY from
the writer's and the API's transactions; resume with Last-Event-ID; heartbeats; a slow
subscriber catching up from the database without holding anyone else back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from auth_support import user_headers
from fastapi import FastAPI
from ingest_support import INVENTORY as DEMO_INVENTORY
from ingest_support import envelope, msg
from safety_support import AS_OF, Clock, ev, load_community, press, write

from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from web import create_app
from web.alarms.hub import PAGE, QUEUE_SIZE, Message, Subscription, encode
from web.deps import get_clock

pytestmark = pytest.mark.asyncio

T = AS_OF - timedelta(minutes=10)


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Run `app` on uvicorn on a free loopback port; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on",
                                           log_level="warning",
                                           timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class SseClient:
    """Reads one event stream: `next()` gives the next block as {field: value, ...} with
    comments under ':'."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()

    async def block(self) -> dict[str, Any]:
        out: dict[str, Any] = {":": []}
        async with asyncio.timeout(10):
            async for line in self.lines:
                if line == "":
                    if len(out) > 1 or out[":"]:
                        return out
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "":
                    out[":"].append(value)
                else:
                    out[name] = value
        raise AssertionError("the stream ended")

    async def event(self) -> dict[str, Any]:
        """The next block carrying an event (heartbeats skipped), data decoded."""
        while True:
            got = await self.block()
            if "data" in got:
                got["data"] = json.loads(got["data"])
                return got


@asynccontextmanager
async def stream(stack: AsyncExitStack, client: httpx.AsyncClient, url: str,
                 **headers: str) -> AsyncIterator[SseClient]:
    response = await stack.enter_async_context(client.stream("GET", url, headers=headers))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    sse = SseClient(response)
    first = await sse.block()
    assert (first.get("retry"), first[":"]) == ("3000", ["subscribed"])
    yield sse


async def test_new_alarms_and_their_changes_reach_every_subscriber_of_the_community(
        migrated: str) -> None:
    conn = await asyncpg.connect(migrated)
    await load_community(conn)
    await import_inventory(conn, parse_inventory(DEMO_INVENTORY, "demo.yaml"))
    app = create_app(migrated)
    app.dependency_overrides[get_clock] = lambda: Clock(T + timedelta(minutes=3))
    url = "/api/communities/safe/alarms/stream"
    try:
        async with serve(app) as base, AsyncExitStack() as stack:
            client = await stack.enter_async_context(httpx.AsyncClient(
                base_url=base, timeout=httpx.Timeout(10, read=None),
                headers=await user_headers(migrated)))
            one = await stack.enter_async_context(stream(stack, client, url))
            two = await stack.enter_async_context(stream(stack, client, url))
            demo = await stack.enter_async_context(stream(
                stack, client, "/api/communities/demo/alarms/stream"))
            assert app.state.alarm_hub.subscribers == 3

            await write(conn, press("sos-1", T))
            opened = [await one.event(), await two.event()]
            assert opened[0] == opened[1]
            sent = opened[0]
            assert (sent["event"], sent["data"]["change"], sent["data"]["by"]) == (
                "alarm", "opened", None)
            alarm = sent["data"]["alarm"]
            assert (alarm["device"], alarm["type"], alarm["severity"], alarm["state"],
                    alarm["raised_at"]) == ("sos-1", "sos_pressed", "critical", "open",
                                            "2026-11-24T07:50:00Z")
            assert sent["id"] == str(sent["data"]["change_id"])

            r = await client.post(f"/api/alarms/{alarm['id']}/acknowledge")
            assert r.status_code == 200
            for sse in (one, two):
                acked = await sse.event()
                assert (acked["data"]["change"], acked["data"]["by"], acked["data"]["at"],
                        acked["data"]["alarm"]["state"]) == (
                    "acknowledged", "王芳", "2026-11-24T07:53:00Z", "acknowledged")

            # The demo community's subscriber saw none of it: its first event is its own.
            await write_batch(conn, [msg(envelope(1, [ev("light-001", "lamp_fault", T,
                                                         active=True)]), now=AS_OF)])
            own = await demo.event()
            assert (own["data"]["alarm"]["community"], own["data"]["alarm"]["device"]) == (
                "demo", "light-001")

            # Reconnecting after the opening replays what came since: the acknowledgement.
            resumed = await stack.enter_async_context(
                stream(stack, client, url, **{"Last-Event-ID": sent["id"]}))
            replayed = await resumed.event()
            assert (replayed["data"]["change"], int(replayed["id"])) == (
                "acknowledged", int(sent["id"]) + 1)
            bad = await client.get(url, headers={"Last-Event-ID": "yesterday"})
            assert bad.status_code == 422
            missing = await client.get("/api/communities/nowhere/alarms/stream")
            assert missing.status_code == 404
    finally:
        await conn.close()
    assert app.state.alarm_hub.subscribers == 0


async def test_an_idle_stream_sends_heartbeat_comments(migrated: str) -> None:
    conn = await asyncpg.connect(migrated)
    try:
        await load_community(conn)
    finally:
        await conn.close()
    app = create_app(migrated)
    async with serve(app) as base, AsyncExitStack() as stack:
        app.state.alarm_hub.heartbeat = 0.2
        client = await stack.enter_async_context(httpx.AsyncClient(
            base_url=base, timeout=httpx.Timeout(10, read=None),
            headers=await user_headers(migrated)))
        sse = await stack.enter_async_context(
            stream(stack, client, "/api/communities/safe/alarms/stream"))
        assert await sse.block() == {":": ["heartbeat"]}
        assert await sse.block() == {":": ["heartbeat"]}


class FakeHub:
    """The hub as a subscription sees it: a database of changes and a heartbeat."""

    heartbeat = 5.0

    def __init__(self, changes: list[dict[str, Any]]) -> None:
        self.changes = changes
        self.reads = 0

    async def read_changes(self, after: int, community: str | None) -> list[dict[str, Any]]:
        self.reads += 1
        return [c for c in self.changes if c["change_id"] > after][:PAGE]

    def unsubscribe(self, sub: Subscription) -> None:
        pass


def change(n: int) -> dict[str, Any]:
    return {"change_id": n, "change": "opened", "alarm": {"community": "safe", "id": n}}


async def test_a_slow_subscriber_is_never_waited_for_and_catches_up_from_the_database(
        ) -> None:
    changes = [change(n) for n in range(1, QUEUE_SIZE + 41)]
    hub = FakeHub(changes)
    slow = Subscription(hub, "safe", after=0, replay=False)  # type: ignore[arg-type]
    fast = Subscription(hub, "safe", after=0, replay=False)  # type: ignore[arg-type]
    fast_stream = fast.stream()
    assert await anext(fast_stream) == b"retry: 3000\n: subscribed\n\n"
    fast_got: list[int] = []
    for c in changes:
        message: Message = encode(c)
        slow.offer(message)  # never blocks, whatever the slow one's state
        fast.offer(message)
        fast_got.append(int((await anext(fast_stream)).split(b"\n")[0][4:]))
    assert fast_got == [c["change_id"] for c in changes]
    assert (slow.lagging, fast.lagging, hub.reads) == (True, False, 0)

    slow_stream = slow.stream()
    await anext(slow_stream)
    slow_got = [int((await anext(slow_stream)).split(b"\n")[0][4:])
                for _ in range(len(changes))]
    assert slow_got == [c["change_id"] for c in changes]  # all, in order, once
    assert (slow.lagging, hub.reads) == (False, 1)
    # Back to live delivery: the next change comes through the queue, not the database.
    slow.offer(encode(change(len(changes) + 1)))
    assert (await anext(slow_stream)).startswith(f"id: {len(changes) + 1}\n".encode())
    assert hub.reads == 1
    await slow_stream.aclose()
    await fast_stream.aclose()
    assert slow.closed and fast.closed


async def test_alarms_raised_while_the_listener_was_cut_off_still_arrive(
        migrated: str) -> None:
    conn = await asyncpg.connect(migrated)
    await load_community(conn)
    app = create_app(migrated)
    try:
        async with serve(app) as base, AsyncExitStack() as stack:
            client = await stack.enter_async_context(httpx.AsyncClient(
                base_url=base, timeout=httpx.Timeout(10, read=None),
                headers=await user_headers(migrated)))
            sse = await stack.enter_async_context(
                stream(stack, client, "/api/communities/safe/alarms/stream"))
            hub = app.state.alarm_hub
            listener = hub._listener
            assert await conn.fetchval("SELECT pg_terminate_backend($1)",
                                       listener.get_server_pid())
            await write(conn, press("sos-1", T))
            await write(conn, ev("per-n", "perimeter_intrusion", T, active=True))
            got = [(await sse.event())["data"]["alarm"]["type"] for _ in range(2)]
            assert got == ["sos_pressed", "perimeter_intrusion"]
            assert hub._listener is not listener  # it reconnected
    finally:
        await conn.close()
