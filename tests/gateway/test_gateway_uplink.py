"""The uplink against a real mosquitto: numbered envelopes, nothing lost over a broker
outage, re-sending the unacknowledged first, birth / last will / graceful offline."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gateway_support import Collector, TcpProxy, running, wait_until

from gateway.config import UplinkConfig
from gateway.spool import Spool
from gateway.uplink import Uplink
from scg.localsvc import Mosquitto
from telemetry import DeviceState, Reading, StateChange

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def reading(n: int) -> Reading:
    return Reading("m-1", "energy_kwh", T0 + timedelta(seconds=n), float(n))


def make_uplink(broker: Mosquitto, spool: Spool, *, port: int | None = None,
                **kwargs: int) -> Uplink:
    """The uplink of gateway demo/gw1 to `broker` (or to `port`, a proxy in front of it)."""
    login = broker.login("demo/gw1")
    settings = UplinkConfig(host="127.0.0.1", port=port or broker.port,
                            client_id="scg-gw-demo-gw1", username=login.username,
                            password=login.password, keepalive=10, reconnect_min=0.05,
                            reconnect_max=0.2, publish_timeout=5)
    return Uplink(settings, "demo", "gw1", spool, **kwargs)




def values(collector: Collector) -> list[float]:
    return [item.value for item in collector.items() if isinstance(item, Reading)]


def seq_contents(collector: Collector) -> dict[int, list[float]]:
    """Items per seq; fails if one seq arrived twice with different contents."""
    seen: dict[int, list[float]] = {}
    for envelope in collector.envelopes():
        content = [i.value for i in envelope.items if isinstance(i, Reading)]
        assert seen.setdefault(envelope.seq, content) == content, envelope.seq
    return seen


async def test_items_arrive_in_envelopes_with_increasing_seq_and_leave_the_spool(
        broker: Mosquitto, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite", 1 << 20)
    uplink = make_uplink(broker, spool, batch_items=3, max_inflight=2)
    async with Collector(broker) as collector, running(uplink):
        for n in range(10):
            spool.put(reading(n))
        await wait_until(lambda: len(values(collector)) >= 10, what="10 readings")
        envelopes = collector.envelopes()
        assert [len(e.items) for e in envelopes] == [3, 3, 3, 1]
        seqs = [e.seq for e in envelopes]
        assert seqs == list(range(seqs[0], seqs[0] + 4))
        assert values(collector) == list(range(10))
        assert {(e.community, e.gateway) for e in envelopes} == {("demo", "gw1")}
        assert {m.topic for m in collector.messages} == {"scg/v1/demo/gw1/status",
                                                         "scg/v1/demo/gw1/telemetry"}
        await wait_until(lambda: spool.stats().items == 0, what="the spool to empty")
        assert uplink.acked == 4
        # later items wake the idle uplink (it waits on the spool's event)
        spool.put(StateChange("cam-1", DeviceState.OFFLINE, T0, "no answer"))
        await wait_until(lambda: any(m.topic.endswith("/state") for m in collector.messages),
                         what="the state change")
        assert collector.envelopes()[-1].seq == seqs[-1] + 1
    spool.close()


async def test_items_queued_while_the_broker_is_down_arrive_after_it_returns(
        broker: Mosquitto, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite", 1 << 20)
    uplink = make_uplink(broker, spool, batch_items=2)
    async with Collector(broker) as collector, running(uplink):
        for n in range(5):
            spool.put(reading(n))
        await wait_until(lambda: len(values(collector)) == 5, what="the first readings")
        await asyncio.to_thread(broker.stop)
        await wait_until(lambda: not uplink.connected, what="the uplink to notice")
        for n in range(5, 12):
            spool.put(reading(n))
        await wait_until(lambda: spool.stats().items == 7)  # committed, nothing sent
        await asyncio.to_thread(broker.start)
        await wait_until(lambda: set(values(collector)) == set(range(12)), within=10,
                         what="every reading after the outage")
        await wait_until(lambda: spool.stats().items == 0, what="the spool to empty")
        contents = seq_contents(collector)
        ordered = [v for seq in sorted(contents) for v in contents[seq]]
        assert ordered == list(range(12))  # seq order is the order items were put
    spool.close()


async def test_unacked_envelopes_are_resent_first_with_their_old_seq(
        broker: Mosquitto, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Spool(path, 1 << 20) as before_restart:
        for n in range(5):
            before_restart.put(reading(n))
        first = before_restart.next_batch(2)
        second = before_restart.next_batch(2)  # numbered, "sent", never acknowledged
    assert first is not None and second is not None
    spool = Spool(path, 1 << 20)
    async with Collector(broker) as collector, \
            running(make_uplink(broker, spool)):
        await wait_until(lambda: len(values(collector)) == 5, what="all readings")
        envelopes = collector.envelopes()
        assert [(e.seq, [i.value for i in e.items]) for e in envelopes] == [  # type: ignore[union-attr]
            (first.seq, [0, 1]), (second.seq, [2, 3]), (second.seq + 1, [4])]
        await wait_until(lambda: spool.stats().items == 0)
    spool.close()


async def test_envelopes_unacknowledged_when_the_link_broke_are_resent_with_the_same_seq(
        broker: Mosquitto, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite", 1 << 20)
    async with TcpProxy(broker.host, broker.port) as network, \
            Collector(broker) as collector, \
            running(make_uplink(broker, spool, port=network.port, batch_items=2)):
        await wait_until(lambda: collector.statuses() == ["online"], what="the birth")
        network.drop_replies = True  # the broker gets the envelopes, the PUBACKs get lost
        for n in range(4):
            spool.put(reading(n))
        await wait_until(lambda: len(values(collector)) == 4, what="the first delivery")
        assert spool.stats().items == 4  # nothing was acknowledged, so nothing is gone
        network.drop_replies = False
        network.cut()
        await wait_until(lambda: spool.stats().items == 0, what="the re-sent envelopes' acks")
        contents = seq_contents(collector)  # a seq seen twice carries the same items
        assert [contents[seq] for seq in sorted(contents)] == [[0, 1], [2, 3]]
        assert sorted(e.seq for e in collector.envelopes()) == sorted(2 * list(contents))
    spool.close()


async def test_last_will_says_offline_when_the_connection_is_cut(
        broker: Mosquitto, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite", 1 << 20)
    async with TcpProxy(broker.host, broker.port) as network, \
            Collector(broker, "scg/v1/demo/gw1/status") as collector, \
            running(make_uplink(broker, spool, port=network.port)):
        await wait_until(lambda: collector.statuses() == ["online"], what="the birth")
        network.cut()
        await wait_until(lambda: collector.statuses()[:2] == ["online", "offline"],
                         what="the last will")
        # and it comes back on its own, saying so
        await wait_until(lambda: collector.statuses() == ["online", "offline", "online"],
                         what="the new birth")
    spool.close()


async def test_graceful_stop_publishes_a_retained_offline_status(
        broker: Mosquitto, tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite", 1 << 20)
    uplink = make_uplink(broker, spool)
    async with Collector(broker, "scg/v1/demo/gw1/status") as collector:
        async with running(uplink):
            await wait_until(lambda: collector.statuses() == ["online"], what="the birth")
        await wait_until(lambda: collector.statuses() == ["online", "offline"],
                         what="the offline status")
    assert not uplink.connected
    async with Collector(broker, "scg/v1/demo/gw1/status",
                         client_id="late-reader") as late:
        await wait_until(lambda: late.statuses() == ["offline"], what="the retained status")
        assert late.messages[0].retain
    spool.close()


async def test_a_new_reason_during_an_outage_is_logged_once(
        broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The installer who fixes one thing sees the next: refused connections while the
    broker is stopped, then, once it runs, its refusal of a wrong password; each said once
    however many attempts fail for it, and only the first as a warning."""
    caplog.set_level(logging.INFO, logger="gateway.uplink")
    await asyncio.to_thread(broker.stop)
    spool = Spool(tmp_path / "s.sqlite", 1 << 20)
    settings = UplinkConfig(host="127.0.0.1", port=broker.port, client_id="scg-gw-demo-gw1",
                            username="demo/gw1", password="not-its-password",
                            reconnect_min=0.05, reconnect_max=0.2, publish_timeout=5)
    uplink = Uplink(settings, "demo", "gw1", spool)
    async with running(uplink):
        await wait_until(lambda: uplink._attempts >= 3, what="refused connections")
        await asyncio.to_thread(broker.start)
        seen = uplink._attempts
        await wait_until(lambda: uplink._attempts >= seen + 4, what="refused logins")
    records = [r for r in caplog.records if r.name == "gateway.uplink"
               and r.levelno >= logging.INFO]
    messages = [r.getMessage() for r in records]
    assert [r.levelname for r in records] == ["WARNING", "INFO"], messages
    assert messages[0].startswith(f"uplink to 127.0.0.1:{broker.port} is down: [Errno 111] "
                                  "Connection refused; retrying with backoff")
    assert messages[1].startswith(f"uplink to 127.0.0.1:{broker.port} is still down, now: "
                                  "the broker refused the login of user 'demo/gw1' (")
    spool.close()


async def test_an_outage_is_logged_once_not_per_attempt(
        broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway.uplink")
    await asyncio.to_thread(broker.stop)
    spool = Spool(tmp_path / "s.sqlite", 1 << 20)
    uplink = make_uplink(broker, spool)
    async with running(uplink):
        await wait_until(lambda: uplink._attempts >= 4, what="several failed attempts")
        await asyncio.to_thread(broker.start)
        await wait_until(lambda: uplink.connected, what="the connection")
    messages = [r.getMessage() for r in caplog.records if r.name == "gateway.uplink"]
    down = [m for m in messages if " is down: " in m]
    back = [m for m in messages if " is back after " in m]
    assert len(down) == 1, messages
    assert len(back) == 1, messages
    assert f"uplink to 127.0.0.1:{broker.port} is down: " in down[0]
    spool.close()
