"""The safety fleet against a real mosquitto: heartbeats, the control topic, the story, the
lift's set topic, and reconnection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiomqtt
import pytest
from broker_support import login_args

from scg.localsvc import Mosquitto
from simulators.safety import CONTROL_TOPIC, SafetyFleet, SafetySpec, parse_story, send_control
from simulators.safety.model import ManholeCover

pytestmark = pytest.mark.integration

DEVICES = [
    SafetySpec("cam-1", "ebike_detector"),
    SafetySpec("lift-1", "elevator_controller"),
    SafetySpec("sos-1", "sos_button", period=0.1),
    SafetySpec("mh-1", "manhole_cover"),
]
KINDS = {s.id: s.kind for s in DEVICES}


async def eventually(cond: Callable[[], Any], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)


class Listener:
    """Every message under scg-sim/, as (topic name, document) per device, in order."""

    def __init__(self) -> None:
        self.docs: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)

    def of(self, device: str, name: str) -> list[dict[str, Any]]:
        return [d for n, d in self.docs[device] if n == name]


@contextlib.asynccontextmanager
async def listening(broker: Mosquitto) -> AsyncIterator[Listener]:
    listener = Listener()
    ready = asyncio.Event()

    async def run() -> None:
        async with aiomqtt.Client(broker.host, broker.port, **login_args(broker)) as client:
            await client.subscribe("scg-sim/+/+/status", qos=1)
            await client.subscribe("scg-sim/+/+/event", qos=1)
            ready.set()
            async for m in client.messages:
                assert isinstance(m.payload, bytes)
                _, _, device, name = str(m.topic).split("/")
                listener.docs[device].append((name, json.loads(m.payload)))

    task = asyncio.create_task(run())
    await asyncio.wait_for(ready.wait(), 5)
    try:
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def fleet_for(broker: Mosquitto, **kw: Any) -> SafetyFleet:
    kw.setdefault("period", 0.2)
    return SafetyFleet(DEVICES, host=broker.host, port=broker.port, **login_args(broker),
                       reconnect_min=0.05, reconnect_max=0.2, ack_timeout=2.0, **kw)


async def test_every_acknowledged_message_arrives_once_each_on_its_own_period(
        broker: Mosquitto) -> None:
    async with listening(broker) as heard:
        fleet = fleet_for(broker)
        async with fleet:
            await eventually(lambda: min(fleet.sent.values()) >= 3, "3 heartbeats each")
            fleet.press_sos("sos-1")
        await eventually(lambda: sum(len(v) for v in heard.docs.values()) == fleet.total_sent,
                         "the listener to hear every acknowledged message")
    for device in fleet.ids:
        assert heard.docs[device] == fleet.sent_docs[device]
        stamps = [d["ts"] for _, d in heard.docs[device]]
        assert len(set(stamps)) == len(stamps)
    assert heard.of("sos-1", "event") == [{"ts": heard.of("sos-1", "event")[0]["ts"],
                                           "event": "press"}]
    assert fleet.events_sent == {"cam-1": 0, "lift-1": 0, "sos-1": 1, "mh-1": 0}
    # the SOS button reports every 0.1 s, the others every 0.2 s
    assert fleet.sent["sos-1"] - 1 >= 1.5 * fleet.sent["mh-1"] - 2


async def test_control_topic_makes_things_happen_and_refuses_what_does_not_fit(
        broker: Mosquitto, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="simulators.safety")
    async with listening(broker) as heard, fleet_for(broker, period=30.0) as fleet:
        await asyncio.wait_for(fleet.wait_connected(), 5)
        await send_control(broker.host, broker.port,
                           [{"action": "tilt", "device": "mh-1", "args": {"degrees": 22}},
                            {"action": "ebike_enters", "device": "cam-1",
                             "args": {"confidence": 0.7, "hits": 2, "interval": 0.05}}],
                           **login_args(broker))
        await eventually(lambda: len(heard.of("cam-1", "event")) == 2
                         and heard.of("mh-1", "status")
                         and heard.of("mh-1", "status")[-1]["tilt_deg"] == 22,
                         "the tilt and two detections")
        assert [d["confidence"] for d in heard.of("cam-1", "event")] == [0.7, 0.7]
        await send_control(broker.host, broker.port,
                           [{"action": "press_sos", "device": "mh-1"}], **login_args(broker))
        await send_control(broker.host, broker.port, [{"action": "silence", "device": ["sos-1"]}],
                           **login_args(broker))
        await eventually(lambda: "sos-1" in fleet.silenced, "sos-1 silenced")
        assert [a.name for _, a in fleet.performed] == ["tilt", "ebike_enters", "silence"]
        assert any("action press_sos needs a sos_button, but mh-1 is of kind manhole_cover"
                   in r.getMessage() for r in caplog.records)
        muted = fleet.muted["sos-1"]  # its 0.1 s heartbeats are muted too
        fleet.press_sos("sos-1")
        assert fleet.muted["sos-1"] == muted + 1 and fleet.events_sent["sos-1"] == 0


async def test_story_plays_each_step_at_its_time_and_repeats(broker: Mosquitto) -> None:
    story = parse_story({"every": 0.6, "story": [
        {"at": 0.2, "action": "press_sos", "device": "sos-1"},
        {"at": 0.4, "action": "tilt", "device": "mh-1", "args": {"degrees": 30}}]}, KINDS)
    async with fleet_for(broker, period=30.0, story=story) as fleet:
        await eventually(lambda: len(fleet.performed) >= 4, "the story twice", within=3)
        await eventually(lambda: fleet.events_sent["sos-1"] >= 2, "both presses acknowledged")
    ats = [at for at, _ in fleet.performed[:4]]
    assert [a.name for _, a in fleet.performed[:4]] == ["press_sos", "tilt"] * 2
    for got, want in zip(ats, [0.2, 0.4, 0.8, 1.0], strict=True):
        assert want <= got < want + 0.4  # late only by how busy the machine is
    cover = fleet.device("mh-1")
    assert isinstance(cover, ManholeCover) and cover.tilt_deg == 30


async def test_set_topic_holds_the_door_reporting_at_once_and_a_silenced_lift_hears_nothing(
        broker: Mosquitto) -> None:
    async with listening(broker) as heard, fleet_for(broker, period=30.0) as fleet, \
            aiomqtt.Client(broker.host, broker.port, **login_args(broker)) as client:
        await asyncio.wait_for(fleet.wait_connected(), 5)
        await client.publish("scg-sim/lifts/lift-1/set", b"open sesame", qos=1)
        await client.publish("scg-sim/lifts/lift-1/set", b'{"door_hold": true}', qos=1)
        await eventually(lambda: any(d["door_hold"] for d in heard.of("lift-1", "status")),
                         "a status with door_hold true")
        [record] = fleet.holds("lift-1")
        shown = next(d for d in heard.of("lift-1", "status") if d["door_hold"])
        assert shown == {"ts": record.ts, "running": False, "door_open": True,
                         "door_hold": True, "floor": 1}
        # One client publishing in this order: the fleet hears them in this order.
        for topic, payload in [(CONTROL_TOPIC, {"action": "silence", "device": "lift-1"}),
                               ("scg-sim/lifts/lift-1/set", {"door_hold": False}),
                               (CONTROL_TOPIC, {"action": "resume", "device": "lift-1"}),
                               ("scg-sim/lifts/lift-1/set", {"door_hold": True})]:
            await client.publish(topic, json.dumps(payload).encode(), qos=1)
        await eventually(lambda: len(fleet.holds("lift-1")) == 2, "the second hold")
        assert [(r.door_hold, r.changed) for r in fleet.holds("lift-1")] == [(True, True),
                                                                             (True, False)]
        assert fleet.elevator("lift-1").door_hold is True


async def test_fleet_reconnects_after_a_broker_restart(broker: Mosquitto) -> None:
    async with fleet_for(broker) as fleet:
        await eventually(lambda: min(fleet.sent.values()) >= 1, "first heartbeats")
        await asyncio.to_thread(broker.restart)
        before = dict(fleet.sent)
        await eventually(lambda: all(fleet.sent[i] >= before[i] + 2 for i in fleet.ids),
                         "heartbeats after the restart")
        fleet.press_sos("sos-1")
        await eventually(lambda: fleet.events_sent["sos-1"] == 1, "a press after the restart")
        assert fleet.connected


def test_actions_on_the_wrong_kind_or_an_unknown_device_are_refused() -> None:
    fleet = SafetyFleet(DEVICES)
    with pytest.raises(ValueError, match="device cam-1 is of kind ebike_detector, not "
                                         "sos_button"):
        fleet.press_sos("cam-1")
    with pytest.raises(ValueError, match=r"device 'sos-9' is not in this fleet \(4 devices, "
                                         r"cam-1 … mh-1\)"):
        fleet.press_sos("sos-9")
    fleet.tilt("mh-1", 20)  # before start: the state changes, nothing is sent
    assert fleet.skipped["mh-1"] == 1 and fleet.total_sent == 0
