"""Device health state machine with an injected clock: debounce counts, reasons, recovery."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from drivers.base import DeviceSpec, Observation, Outcome
from gateway.health import Health
from telemetry import DeviceState, StateChange

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def spec(device: str = "cam-1", period: float = 10) -> DeviceSpec:
    return DeviceSpec(device, "fake", "p", device, timedelta(seconds=period))


def health(n: int = 3, *devices: DeviceSpec) -> Health:
    return Health(devices or (spec(),), n, T0)


OK = Observation("cam-1", Outcome.OK)


def failed(reason: str = "connection refused") -> Observation:
    return Observation("cam-1", Outcome.FAILED, reason)


def degraded(reason: str = "cam-1: field power_w expected a number, got 'n/a'") -> Observation:
    return Observation("cam-1", Outcome.DEGRADED, reason)


def test_device_starts_unknown_and_first_ok_makes_it_online() -> None:
    h = health()
    assert h.state("cam-1").state is DeviceState.UNKNOWN
    assert h.state("cam-1").last_heard is None
    assert h.observe(OK, at(1)) == StateChange("cam-1", DeviceState.ONLINE, at(1), "")
    assert h.observe(OK, at(2)) is None
    assert h.state("cam-1").state is DeviceState.ONLINE
    assert h.state("cam-1").since == at(1)
    assert h.state("cam-1").last_heard == at(2)


def test_exactly_n_consecutive_failures_make_it_offline_with_the_drivers_reason() -> None:
    h = health(3)
    h.observe(OK, at(0))
    assert h.observe(failed(), at(1)) is None
    assert h.observe(failed(), at(2)) is None
    assert h.observe(failed("timed out after 2 s"), at(3)) == StateChange(
        "cam-1", DeviceState.OFFLINE, at(3), "timed out after 2 s")
    assert h.observe(failed(), at(4)) is None  # already offline: no repeat
    assert h.state("cam-1").reason == "timed out after 2 s"


def test_an_ok_between_failures_restarts_the_count() -> None:
    h = health(3)
    h.observe(OK, at(0))
    h.observe(failed(), at(1))
    h.observe(failed(), at(2))
    h.observe(OK, at(3))
    assert h.observe(failed(), at(4)) is None
    assert h.observe(failed(), at(5)) is None
    assert h.state("cam-1").state is DeviceState.ONLINE


def test_n_consecutive_wrong_answers_make_it_degraded_with_the_reason() -> None:
    h = health(2)
    h.observe(OK, at(0))
    assert h.observe(degraded(), at(1)) is None
    change = h.observe(degraded(), at(2))
    assert change == StateChange("cam-1", DeviceState.DEGRADED, at(2),
                                 "cam-1: field power_w expected a number, got 'n/a'")


def test_mixed_failures_and_wrong_answers_do_not_add_up() -> None:
    h = health(2)
    h.observe(OK, at(0))
    for t, obs in enumerate([failed(), degraded(), failed(), degraded()], start=1):
        assert h.observe(obs, at(t)) is None
    assert h.state("cam-1").state is DeviceState.ONLINE


def test_one_ok_brings_an_offline_or_degraded_device_back() -> None:
    h = health(1)
    h.observe(OK, at(0))
    assert h.observe(failed(), at(1)).state is DeviceState.OFFLINE  # type: ignore[union-attr]
    assert h.observe(OK, at(2)) == StateChange("cam-1", DeviceState.ONLINE, at(2), "")
    assert h.observe(degraded(), at(3)).state is DeviceState.DEGRADED  # type: ignore[union-attr]
    assert h.observe(OK, at(4)) == StateChange("cam-1", DeviceState.ONLINE, at(4), "")


def test_offline_device_answering_wrongly_becomes_degraded_and_back() -> None:
    h = health(2)
    h.observe(failed(), at(1))
    assert h.observe(failed(), at(2)).state is DeviceState.OFFLINE  # type: ignore[union-attr]
    h.observe(degraded(), at(3))
    assert h.observe(degraded(), at(4)).state is DeviceState.DEGRADED  # type: ignore[union-attr]
    h.observe(failed(), at(5))
    assert h.observe(failed(), at(6)).state is DeviceState.OFFLINE  # type: ignore[union-attr]


def test_silent_periods_count_as_failures_and_name_the_silence() -> None:
    h = health(3)
    h.observe(OK, at(0))
    assert h.tick(at(9)) == []
    assert h.tick(at(19)) == []   # 1 period missed
    assert h.tick(at(29)) == []   # 2 periods missed
    assert h.tick(at(31)) == [StateChange(
        "cam-1", DeviceState.OFFLINE, at(31), "no answer for 31 s (expected every 10 s)")]
    assert h.tick(at(45)) == []   # offline already, more silence changes nothing


def test_ticks_do_not_count_the_same_missed_period_twice() -> None:
    h = health(3)
    h.observe(OK, at(0))
    for second in range(1, 30):
        assert h.tick(at(second)) == [], second
    assert h.tick(at(30))[0].state is DeviceState.OFFLINE


def test_a_late_tick_with_many_missed_periods_changes_state_once() -> None:
    h = health(3)
    h.observe(OK, at(0))
    changes = h.tick(at(3600))
    assert changes == [StateChange("cam-1", DeviceState.OFFLINE, at(3600),
                                   "no answer for 60 min (expected every 10 s)")]


def test_hearing_the_device_restarts_the_silence_count() -> None:
    h = health(3)
    h.observe(OK, at(0))
    h.tick(at(25))             # 2 missed
    h.observe(OK, at(26))
    assert h.tick(at(55)) == []  # only 2 missed since 26
    assert h.tick(at(56))[0].state is DeviceState.OFFLINE


def test_silence_and_failed_observations_add_up() -> None:
    h = health(3)
    h.observe(OK, at(0))
    h.observe(failed(), at(1))
    h.tick(at(21))              # 2 periods silent since the failed observation
    assert h.state("cam-1").state is DeviceState.OFFLINE
    assert h.state("cam-1").reason == "no answer for 20 s (expected every 10 s)"


def test_a_device_never_heard_goes_offline_from_unknown() -> None:
    h = health(2, spec("cam-1"), spec("cam-2", period=60))
    h.observe(OK, at(5))
    changes = h.tick(at(120))
    assert changes == [
        StateChange("cam-1", DeviceState.OFFLINE, at(120),
                    "no answer for 115 s (expected every 10 s)"),
        StateChange("cam-2", DeviceState.OFFLINE, at(120),
                    "no answer in the 2 min since the gateway started (expected every 60 s)"),
    ]


def test_a_wall_clock_jump_is_not_mistaken_for_silence() -> None:
    h = health(3)
    h.observe(OK, at(0))
    h.shift_clock(timedelta(hours=5))      # NTP set the clock 5 h forward
    assert h.tick(at(5 * 3600 + 25)) == []  # 25 s of real silence: 2 periods
    assert h.tick(at(5 * 3600 + 30))[0].reason == "no answer for 30 s (expected every 10 s)"


def test_states_lists_every_device() -> None:
    h = health(1, spec("a"), spec("b"))
    h.observe(Observation("a", Outcome.OK), at(1))
    states = h.states()
    assert {d: s.state for d, s in states.items()} == {"a": DeviceState.ONLINE,
                                                       "b": DeviceState.UNKNOWN}


def test_going_bad_and_coming_back_are_logged_once_each(caplog: pytest.LogCaptureFixture) -> None:
    h = health(2)
    caplog.set_level(logging.INFO, logger="gateway.health")
    h.observe(OK, at(0))
    for t in range(1, 8):
        h.observe(failed(), at(t))
    for t in range(8, 12):
        h.observe(OK, at(t))
    records = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert records == [
        ("WARNING", "device cam-1 is offline: connection refused"),
        ("INFO", "device cam-1 is back online after 6 s offline"),
    ]


def test_an_unknown_device_is_ignored_and_warned_about_once(
        caplog: pytest.LogCaptureFixture) -> None:
    h = health(1)
    assert h.observe(Observation("ghost", Outcome.FAILED), at(1)) is None
    assert h.observe(Observation("ghost", Outcome.FAILED), at(2)) is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'ghost', which is not in the gateway config" in warnings[0].getMessage()


def test_failures_to_offline_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Health([spec()], 0, T0)
