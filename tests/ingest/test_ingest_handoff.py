"""The handoff from paho's thread to the event loop: a burst wakes the loop once per group,
batches are cut at their size or their wait, and stopping returns the batch in hand; and
the collector's first threshold while ingest runs."""

from __future__ import annotations

import asyncio
import gc
import threading

from ingest.gc_tuning import YOUNG_THRESHOLD, young_objects_collected_less_often
from ingest.handoff import Inbox


async def test_a_burst_from_the_network_thread_wakes_the_loop_once_per_group() -> None:
    inbox: Inbox[int] = Inbox()
    inbox.bind(asyncio.get_running_loop())

    def burst() -> None:
        for i in range(0, 5000, 100):  # as paho hands them over: one group per read
            inbox.put_many(list(range(i, i + 100)))

    waiter = asyncio.create_task(inbox.wait(5000, 10))
    await asyncio.sleep(0)  # the loop is waiting now
    thread = threading.Thread(target=burst)
    thread.start()
    await waiter
    thread.join()
    taken: list[int] = []
    inbox.take(10_000, taken)
    assert taken == list(range(5000))
    # The loop asked for 5000: one wake-up when they were all there, not one per group.
    assert inbox.wakeups == 1
    # Nobody waiting: a put wakes nobody.
    inbox.put(1)
    assert inbox.wakeups == 1


async def test_batches_are_cut_at_their_size_or_after_their_wait() -> None:
    inbox: Inbox[int] = Inbox()
    inbox.bind(asyncio.get_running_loop())
    stopping = asyncio.Event()
    inbox.put_many(list(range(12)))
    assert await inbox.next_batch(5, 10, stopping) == ([0, 1, 2, 3, 4], False)
    assert await inbox.next_batch(5, 10, stopping) == ([5, 6, 7, 8, 9], False)
    # Two left and nothing more coming: the batch goes after its wait, not full.
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await inbox.next_batch(5, 0.05, stopping) == ([10, 11], False)
    assert loop.time() - started >= 0.05


async def test_stopping_returns_the_batch_in_hand_at_once() -> None:
    inbox: Inbox[int] = Inbox()
    inbox.bind(asyncio.get_running_loop())
    stopping = asyncio.Event()
    inbox.put(7)
    batch = asyncio.create_task(inbox.next_batch(5, 60, stopping))
    await asyncio.sleep(0)
    stopping.set()
    inbox.wake()
    async with asyncio.timeout(5):
        assert await batch == ([7], True)
    assert await inbox.next_batch(5, 60, stopping) == ([], True)


def test_young_objects_are_collected_less_often_while_ingest_runs() -> None:
    before = gc.get_threshold()
    with young_objects_collected_less_often():
        assert gc.get_threshold() == (max(before[0], YOUNG_THRESHOLD), *before[1:])
        with young_objects_collected_less_often():  # a second consumer in the process
            pass
        assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
    assert gc.get_threshold() == before
