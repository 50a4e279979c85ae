"""The light fleet against a real mosquitto: reports, commands, control, faults, restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import aiomqtt
import pytest
from broker_support import login_args

from scg.localsvc import Mosquitto
from simulators.lights import FaultWindow, Fleet, make_lights, send_control

pytestmark = pytest.mark.integration
PREFIX = "scg-sim/test-lights"  # under the device account's prefix


async def eventually(cond: Callable[[], bool], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)


class Listener:
    """Everything published under PREFIX/+/status, per light, in arrival order."""

    def __init__(self) -> None:
        self.docs: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def ts(self, light: str) -> list[str]:
        return [d["ts"] for d in self.docs[light]]

    def last(self, light: str) -> dict[str, Any]:
        return self.docs[light][-1]


@contextlib.asynccontextmanager
async def listening(broker: Mosquitto) -> AsyncIterator[Listener]:
    listener = Listener()
    ready = asyncio.Event()

    async def run() -> None:
        async with aiomqtt.Client(broker.host, broker.port, **login_args(broker)) as client:
            await client.subscribe(f"{PREFIX}/+/status", qos=1)
            ready.set()
            async for m in client.messages:
                assert isinstance(m.payload, bytes)
                listener.docs[str(m.topic).split("/")[-2]].append(json.loads(m.payload))

    task = asyncio.create_task(run())
    await asyncio.wait_for(ready.wait(), 5)
    try:
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def fleet_for(broker: Mosquitto, count: int = 4, **kw: Any) -> Fleet:
    kw.setdefault("period", 0.2)
    return Fleet(make_lights(count), host=broker.host, port=broker.port, prefix=PREFIX,
                 **login_args(broker), reconnect_min=0.05, reconnect_max=0.2, ack_timeout=2.0, **kw)


async def test_every_acknowledged_status_arrives_once_and_staggered(broker: Mosquitto) -> None:
    async with listening(broker) as heard:
        fleet = fleet_for(broker)
        async with fleet:
            await eventually(lambda: min(fleet.sent.values()) >= 3, "3 reports per light")
        # stop() waited for the outstanding acknowledgements; now everything is counted.
        await eventually(lambda: sum(len(v) for v in heard.docs.values()) == fleet.total_sent,
                         "the listener to hear every acknowledged report")
        for light in fleet.ids:
            assert heard.ts(light) == fleet.sent_ts[light]
            assert len(set(heard.ts(light))) == fleet.sent[light]
        firsts = sorted(datetime.fromisoformat(heard.ts(i)[0]) for i in fleet.ids)
        assert (firsts[-1] - firsts[0]).total_seconds() >= 0.1  # spread over the 0.2 s period


async def test_set_command_switches_a_light_and_it_reports_at_once(broker: Mosquitto) -> None:
    async with listening(broker) as heard, fleet_for(broker, period=30.0) as fleet:
        await asyncio.wait_for(fleet.wait_connected(), 5)
        async with aiomqtt.Client(broker.host, broker.port, **login_args(broker)) as client:
            await client.publish(f"{PREFIX}/light-002/set", b'{"on": false}', qos=1)
            await eventually(lambda: bool(heard.docs["light-002"])
                             and heard.last("light-002")["on"] is False, "an 'off' status")
            assert heard.last("light-002")["power_w"] == 0.0
            await client.publish(f"{PREFIX}/light-002/set", b'{"on": true, "dim": 30}', qos=1)
            await eventually(lambda: heard.last("light-002")["on"] is True, "an 'on' status")
            assert heard.last("light-002")["dim"] == 30
            assert 29.0 <= heard.last("light-002")["power_w"] <= 31.0


async def test_control_topic_silences_resumes_and_raises_faults(broker: Mosquitto) -> None:
    async with listening(broker) as heard, fleet_for(broker) as fleet:
        await asyncio.wait_for(fleet.wait_connected(), 5)
        await send_control(broker.host, broker.port, {"silence": ["light-001"]}, prefix=PREFIX,
                           **login_args(broker))
        await eventually(lambda: "light-001" in fleet.silenced, "light-001 silenced")
        quiet_from = fleet.sent["light-001"]
        other = fleet.sent["light-002"]
        await eventually(lambda: fleet.sent["light-002"] >= other + 3, "other lights go on")
        assert fleet.sent["light-001"] <= quiet_from + 1  # at most one was already in flight

        await send_control(broker.host, broker.port,
                           {"resume": ["light-001"],
                            "fault": {"light": "light-003", "flag": "gear", "on": True}},
                           prefix=PREFIX, **login_args(broker))
        await eventually(lambda: fleet.sent["light-001"] >= quiet_from + 2, "light-001 back")
        await eventually(lambda: heard.last("light-003")["faults"]["gear"] is True,
                         "light-003 reports its gear fault")


async def test_scheduled_fault_rises_and_clears(broker: Mosquitto) -> None:
    windows = [FaultWindow("light-001", "lamp", at=0.3, duration=0.5)]
    async with listening(broker) as heard, fleet_for(broker, count=2, faults=windows):
        await eventually(lambda: any(d["faults"]["lamp"] for d in heard.docs["light-001"]),
                         "the lamp fault")
        await eventually(lambda: heard.last("light-001")["faults"]["lamp"] is False,
                         "the lamp fault to clear")
        assert not any(d["faults"]["lamp"] for d in heard.docs["light-002"])


async def test_fleet_reconnects_after_a_broker_restart_and_counts_only_acks(
        broker: Mosquitto) -> None:
    async with fleet_for(broker) as fleet:
        await eventually(lambda: min(fleet.sent.values()) >= 1, "first reports")
        await asyncio.to_thread(broker.restart)
        before = dict(fleet.sent)
        await eventually(lambda: all(fleet.sent[i] >= before[i] + 2 for i in fleet.ids),
                         "reports after the restart")
        assert fleet.connected


def test_faults_for_lights_outside_the_fleet_are_refused() -> None:
    with pytest.raises(ValueError, match="light-099"):
        Fleet(make_lights(2), faults=[FaultWindow("light-099", "lamp", 1)])
