"""The e-bike lift lockout rule with an injected clock and a fake driver: a confirmed burst
holds the door, a single or weak hit does not, the bike leaving or max_hold releases it,
a controller that does not follow is commanded again under an alarm, latency is exact."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.rules import RuleEngine
from gateway.rules.ebike import EbikeLiftLockout, Phase
from gateway.rules.ebike_spec import EbikeLockoutSpec
from telemetry import Event, Item, Reading, Severity

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
RULE = "lockout-e1"


class FakeClock:
    """The wall clock (call it) and the monotonic clock (`monotonic`), moving together
    unless the wall clock `jump`s."""

    def __init__(self) -> None:
        self.now = T0
        self.elapsed = 0.0
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.elapsed

    def at(self, seconds: float) -> None:
        self.elapsed = seconds
        self.now = T0 + self.offset + timedelta(seconds=seconds)

    def jump(self, by: timedelta) -> None:
        self.offset += by
        self.now += by


class FakeLiftDriver:
    """A driver that can command devices: records each payload; refuses the first
    `refuse` commands as a driver cut off from its broker would; waits on `gate`."""

    name = "fakelift"

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.refuse = 0
        self.gate: asyncio.Event | None = None

    async def send_command(self, device_id: str, payload: dict[str, Any]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.refuse > 0:
            self.refuse -= 1
            raise RuntimeError("device lift-1: not connected to the device broker; retry later")
        self.sent.append((device_id, payload))


def spec(**changes: Any) -> EbikeLockoutSpec:
    values: dict[str, Any] = dict(
        name=RULE, kind="ebike_lift_lockout", path="rules[0]", line=None, lines={},
        detector="cam-1", controller="lift-1", hits=2, within=timedelta(seconds=3),
        min_confidence=0.6, release_when="ebike_left", max_hold=timedelta(minutes=10),
        command_timeout=timedelta(seconds=2))
    values.update(changes)
    return EbikeLockoutSpec(**values)


class Lift:
    """One rule in an engine, fed items at chosen times of a fake clock."""

    def __init__(self, **changes: Any) -> None:
        self.clock = FakeClock()
        self.driver = FakeLiftDriver()
        self.recorded: list[Item] = []
        self.engine = RuleEngine([spec(**changes)], record=self.recorded.append,
                                 owner=lambda device: self.driver, clock=self.clock,
                                 monotonic=self.clock.monotonic)
        rule = self.engine.rules[RULE]
        assert isinstance(rule, EbikeLiftLockout)
        self.rule = rule

    def phase(self) -> Phase:
        return self.rule.phase

    def detect(self, at: float, confidence: Any = 0.9) -> None:
        self.clock.at(at)
        data = {} if confidence is None else {"confidence": confidence}
        self.engine.see(Event("cam-1", "ebike_detected", Severity.ALARM, self.clock.now,
                              None, data))

    def left(self, at: float) -> None:
        self.clock.at(at)
        self.engine.see(Event("cam-1", "ebike_left", Severity.INFO, self.clock.now))

    def door(self, at: float, held: bool, metric: str = "door_hold") -> None:
        self.clock.at(at)
        self.engine.see(Reading("lift-1", metric, self.clock.now, 1.0 if held else 0.0))

    def tick(self, at: float) -> None:
        self.clock.at(at)
        self.engine.tick()

    async def commands(self) -> list[bool]:
        """door_hold values commanded so far (all to lift-1)."""
        await self.engine.commands.idle()
        assert {device for device, _ in self.driver.sent} <= {"lift-1"}
        return [payload["door_hold"] for _, payload in self.driver.sent]

    def events(self, kind: str = "ebike_lockout") -> list[tuple[bool | None, dict[str, Any]]]:
        return [(e.active, e.data) for e in self.recorded
                if isinstance(e, Event) and e.type == kind]


def ids(**data: Any) -> dict[str, Any]:
    return {"rule": RULE, "detector": "cam-1", "controller": "lift-1", **data}


async def test_two_confident_hits_hold_the_door_with_latency_from_the_first_hit() -> None:
    lift = Lift()
    lift.detect(at=0.0)
    assert await lift.commands() == []
    lift.detect(at=1.2, confidence=0.7)
    assert await lift.commands() == [True]
    assert lift.phase() is Phase.HOLDING
    lift.door(at=1.4, held=False)  # a status sent before the controller took the command
    assert lift.events() == []
    lift.door(at=1.5, held=True)
    assert lift.events() == [(True, ids(latency_ms=1500))]
    event = lift.recorded[0]
    assert isinstance(event, Event)
    assert (event.device, event.severity, event.time) == (
        "lift-1", Severity.ALARM, T0 + timedelta(seconds=1.5))
    lift.detect(at=2.0)  # more detections while held change nothing
    lift.door(at=2.5, held=True)
    assert await lift.commands() == [True]
    assert len(lift.events()) == 1
    assert lift.events("ebike_lockout_failed") == []


async def test_a_single_hit_weak_hits_and_hits_too_far_apart_do_not_hold() -> None:
    lift = Lift()
    lift.detect(at=0.0)
    lift.detect(at=0.5, confidence=0.59)
    lift.detect(at=0.6, confidence=None)
    lift.detect(at=0.7, confidence="high")
    lift.detect(at=3.01)  # 3.01 s after the first: the window of 3 s has passed
    assert await lift.commands() == []
    assert lift.rule.weak_hits == 3
    lift.detect(at=6.01)  # exactly 3 s after the previous one: still within
    assert await lift.commands() == [True]
    lift.door(at=6.31, held=True)
    assert lift.events() == [(True, ids(latency_ms=3300))]


async def test_a_hit_then_the_bike_leaving_starts_the_count_again() -> None:
    lift = Lift()
    lift.detect(at=0.0)
    lift.left(at=0.5)
    lift.detect(at=1.0)
    assert await lift.commands() == []
    lift.detect(at=1.5)
    assert await lift.commands() == [True]


async def test_three_hits_needed_when_configured_so() -> None:
    lift = Lift(hits=3, within=timedelta(seconds=1), min_confidence=0.8)
    for at in (0.0, 0.5, 1.2):  # the first falls out of the window when the third comes
        lift.detect(at=at)
    assert await lift.commands() == []
    lift.detect(at=1.4)
    assert await lift.commands() == [True]
    lift.door(at=1.45, held=True)
    assert lift.events() == [(True, ids(latency_ms=950))]


async def test_the_bike_leaving_releases_the_door_and_records_how_long_it_was_held() -> None:
    lift = Lift()
    lift.detect(at=0.0)
    lift.detect(at=0.1)
    lift.door(at=0.4, held=True)
    lift.left(at=30.4)
    assert await lift.commands() == [True, False]
    assert lift.phase() is Phase.RELEASING
    lift.door(at=30.6, held=False)
    assert lift.phase() is Phase.IDLE
    assert lift.events() == [(True, ids(latency_ms=400)),
                             (False, ids(held_s=30.0, reason="ebike_left"))]
    lift.tick(at=40.0)  # the release was confirmed: nothing is sent again
    assert await lift.commands() == [True, False]
    assert lift.events("ebike_lockout_failed") == []


async def test_max_hold_releases_the_door_and_the_same_bike_cannot_take_it_again() -> None:
    lift = Lift(max_hold=timedelta(seconds=60))
    lift.detect(at=0.0)
    lift.detect(at=0.5)
    lift.door(at=0.7, held=True)
    lift.tick(at=60.4)
    assert await lift.commands() == [True]
    lift.tick(at=60.5)  # max_hold after the hold was commanded
    assert await lift.commands() == [True, False]
    assert lift.events()[-1] == (False, ids(held_s=59.8, reason="max_hold"))
    lift.door(at=60.6, held=False)
    lift.detect(at=61.0)  # the bike is still inside and keeps being seen
    lift.detect(at=61.5)
    assert await lift.commands() == [True, False]
    lift.left(at=70.0)  # once it has left, the next bike is held again
    lift.detect(at=80.0)
    lift.detect(at=80.2)
    assert await lift.commands() == [True, False, True]


async def test_after_max_hold_the_rule_holds_again_once_another_max_hold_has_passed() -> None:
    lift = Lift(max_hold=timedelta(seconds=60))
    lift.detect(at=0.0)
    lift.detect(at=0.0)
    lift.door(at=0.2, held=True)
    lift.tick(at=60.0)
    lift.door(at=60.2, held=False)
    lift.detect(at=119.0)  # the `ebike_left` was lost; still resting
    lift.detect(at=119.5)
    assert await lift.commands() == [True, False]
    lift.detect(at=120.0)
    lift.detect(at=120.5)
    assert await lift.commands() == [True, False, True]


async def test_a_controller_that_does_not_follow_is_commanded_again_under_an_alarm() -> None:
    lift = Lift()
    lift.detect(at=0.0)
    lift.detect(at=0.1)
    lift.tick(at=2.0)
    assert await lift.commands() == [True]
    lift.tick(at=2.1)  # command_timeout (2 s) after the command
    assert await lift.commands() == [True, True]
    assert lift.events("ebike_lockout_failed") == [(True, ids(
        action="hold", attempts=2, waited_s=2.0,
        reason="controller lift-1 has not shown door_hold true 2.0 s after the command; "
               "the command is being sent again"))]
    failed = next(e for e in lift.recorded if isinstance(e, Event))
    assert (failed.device, failed.severity) == ("lift-1", Severity.ALARM)
    lift.tick(at=6.0)  # the wait doubles: the next try is at 2.1 + 4 = 6.1
    assert await lift.commands() == [True, True]
    lift.tick(at=6.1)
    assert await lift.commands() == [True, True, True]
    assert len(lift.events("ebike_lockout_failed")) == 1  # raised once, not per retry
    lift.door(at=7.0, held=True)
    assert lift.events() == [(True, ids(latency_ms=7000))]
    assert lift.events("ebike_lockout_failed")[-1] == (False, ids(
        action="hold", attempts=3, waited_s=6.9))


async def test_a_release_the_controller_does_not_follow_raises_the_alarm_too() -> None:
    lift = Lift(command_timeout=timedelta(seconds=1))
    lift.detect(at=0.0)
    lift.detect(at=0.0)
    lift.door(at=0.1, held=True)
    lift.left(at=5.0)
    lift.door(at=5.5, held=True)  # still held: the release has not been done yet
    lift.tick(at=6.0)
    assert await lift.commands() == [True, False, False]
    assert lift.events("ebike_lockout_failed")[-1][1]["action"] == "release"
    lift.door(at=6.2, held=False)
    assert lift.events("ebike_lockout_failed")[-1] == (False, ids(
        action="release", attempts=2, waited_s=1.2))
    assert lift.phase() is Phase.IDLE


async def test_commands_the_driver_refuses_are_retried_and_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "gateway.rules")
    lift = Lift()
    lift.driver.refuse = 2  # the device broker is unreachable for a while
    lift.detect(at=0.0)
    lift.detect(at=0.0)
    lift.tick(at=2.0)
    assert await lift.commands() == []
    assert lift.engine.commands.failed == {"lift-1": 2}
    warnings = [r.getMessage() for r in caplog.records if r.name == "gateway.rules.actions"]
    assert warnings == [  # two failures, one line
        "rule command {'door_hold': True} to device lift-1 failed: device lift-1: not "
        "connected to the device broker; retry later (logged once until a command to it "
        "succeeds)"]
    lift.tick(at=6.0)
    assert await lift.commands() == [True]
    assert lift.engine.commands.sent == {"lift-1": 1}
    assert [r.getMessage() for r in caplog.records if r.name == "gateway.rules.actions"][-1] \
        == "rule commands to device lift-1 go through again"
    lift.door(at=6.3, held=True)
    assert lift.events() == [(True, ids(latency_ms=6300))]


async def test_a_release_never_overtakes_the_hold_it_undoes() -> None:
    lift = Lift()
    lift.driver.gate = asyncio.Event()  # the hold's PUBACK is slow
    lift.detect(at=0.0)
    lift.detect(at=0.0)
    lift.left(at=0.1)  # the bike leaves before the hold went out
    await asyncio.sleep(0)
    assert lift.driver.sent == []
    lift.driver.gate.set()
    assert await lift.commands() == [True, False]
    assert lift.events() == []  # the hold was never shown, so no lockout is recorded


async def test_the_door_released_at_the_controller_while_the_bike_is_inside_is_held_again(
        ) -> None:
    lift = Lift()
    lift.detect(at=0.0)
    lift.detect(at=0.0)
    lift.door(at=0.2, held=True)
    lift.door(at=9.0, held=False)  # someone pressed "release" at the car panel
    assert await lift.commands() == [True, True]
    lift.door(at=9.2, held=True)
    assert lift.events() == [(True, ids(latency_ms=200))]  # the same lockout goes on


async def test_other_devices_and_metrics_are_not_mistaken_for_the_rule_devices() -> None:
    lift = Lift()
    lift.engine.see(Event("cam-2", "ebike_detected", Severity.ALARM, T0, None,
                          {"confidence": 1.0}))
    lift.detect(at=0.0)
    lift.detect(at=0.1)
    lift.door(at=0.2, held=True, metric="door_open")
    lift.engine.see(Reading("lift-2", "door_hold", T0, 1.0))
    lift.engine.see(Reading("meter-1", "energy_kwh", T0, 1.0))  # no rule watches it
    assert lift.events() == []
    assert await lift.commands() == [True]


async def test_a_rule_that_fails_is_logged_once_and_does_not_raise_into_the_driver(
        caplog: pytest.LogCaptureFixture) -> None:
    lift = Lift()

    def broken(item: Item) -> None:
        raise OSError("disk full")

    lift.engine = RuleEngine([spec()], record=broken, owner=lambda device: lift.driver,
                             clock=lift.clock, monotonic=lift.clock.monotonic)
    for at in (0.0, 0.1, 0.2, 0.3):
        lift.detect(at=at)
        lift.door(at=at + 0.05, held=True)
    failures = [r for r in caplog.records if r.name == "gateway.rules.engine"]
    assert len(failures) == 1
    assert failures[0].getMessage().startswith(f"rule {RULE} failed on an item of device lift-1")
    assert failures[0].levelno == logging.ERROR and failures[0].exc_info is not None


@pytest.mark.parametrize("jump", [timedelta(hours=1), timedelta(hours=-1)])
async def test_a_jump_of_the_system_clock_changes_no_timeout_and_no_latency(
        jump: timedelta, caplog: pytest.LogCaptureFixture) -> None:
    lift = Lift(max_hold=timedelta(seconds=60))
    lift.detect(at=0.0)
    lift.clock.jump(jump)  # NTP sets the clock between the two hits
    lift.detect(at=0.5)
    lift.door(at=0.8, held=True)
    assert lift.events() == [(True, ids(latency_ms=800))]
    lift.tick(at=60.4)
    assert await lift.commands() == [True]  # max_hold neither early nor late
    lift.tick(at=60.5)
    assert await lift.commands() == [True, False]
    assert lift.events()[-1] == (False, ids(held_s=59.7, reason="max_hold"))
    assert lift.recorded[-1].time == T0 + jump + timedelta(seconds=60.5)  # real wall time
    assert [r.getMessage() for r in caplog.records if "clock jumped" in r.getMessage()] == [
        f"the system clock jumped by {jump.total_seconds():+.1f} s; the rules' timers "
        "follow it"]
