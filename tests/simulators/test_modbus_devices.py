"""Simulated Modbus devices on their own (no driver): register maps as the firmware lays
them out, live values (kWh rising with load, sessions ending by themselves), and the ways a
unit misbehaves on a bus."""

from __future__ import annotations

import struct

import pytest
from pymodbus.constants import ExcCodes

from simulators.modbus import (
    AcrelAdw300,
    ChargingStation,
    ChintDdsu666,
    EastronSdm120,
    FireAlarmGateway,
    LightController,
)
from simulators.modbus.device import Unanswered


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def f32(words: list[int]) -> float:
    value: float = struct.unpack(">f", struct.pack(">HH", *words))[0]
    return value


def test_sdm120_input_registers_hold_ieee_floats_high_word_first() -> None:
    meter = EastronSdm120()
    meter.set_values(voltage_l1=230.0, import_kwh=1.5)
    assert meter.read(4, 0x0000, 2) == [0x4366, 0x0000]
    assert meter.read(4, 0x0048, 2) == [0x3FC0, 0x0000]
    assert meter.read(4, 0x0002, 4) == [0, 0, 0, 0], "undefined parameters read zero"


def test_eastron_refuses_more_than_thirty_parameters_per_request() -> None:
    assert EastronSdm120().read(4, 0, 62) == ExcCodes.ILLEGAL_VALUE
    assert isinstance(EastronSdm120().read(4, 0, 60), list)


def test_chint_refuses_registers_outside_its_table() -> None:
    meter = ChintDdsu666()
    assert meter.read(4, 0x200C, 2) == ExcCodes.ILLEGAL_ADDRESS
    assert meter.read(3, 0x2000, 2) == ExcCodes.ILLEGAL_ADDRESS, "input registers only"
    meter.set_values(power=2500.0)
    assert f32(meter.read(4, 0x2004, 2)) == 2.5, "power is in kW"  # type: ignore[arg-type]


def test_adw300_sends_signed_scaled_integers() -> None:
    meter = AcrelAdw300()
    meter.set_values(voltage_l1=230.1, power_l1=-120.0, import_kwh=9876.54)
    assert meter.read(3, 0x0014, 1) == [2301]
    assert meter.read(3, 0x001E, 2) == [0xFFFF, 0xFF88]
    assert meter.read(3, 0x003E, 2) == [0x000F, 0x1206]


def test_energy_rises_with_the_load() -> None:
    clock = Clock()
    meter = EastronSdm120(clock=clock, base_w=2000.0)
    before = meter.values["import_kwh"]
    for _ in range(60):
        clock.now += 60
        meter.advance()
    gained = meter.values["import_kwh"] - before
    assert 0.5 < gained < 3.5, "about 2 kW for an hour"
    assert meter.values["power"] > 0


def test_a_session_ends_by_auto_power_off_when_full() -> None:
    clock = Clock()
    station = ChargingStation(clock=clock)
    station.start_session(1, need_kwh=0.1, power_w=200.0)    # 30 minutes to full
    clock.now += 1790
    station.advance()
    assert station.port(1).state == 1 and station.port(1).end_reason == 0
    clock.now += 20
    words = station.read(3, 0x0100, 5)
    assert words == [2, 0, 0, 100, 1], "finished, 0 W, 0.100 kWh, end reason full"
    assert station.ended == [(1, "full", 0.1)]


def test_a_timer_ends_a_session_before_it_is_full() -> None:
    clock = Clock()
    station = ChargingStation(clock=clock)
    assert station.write(16, 0x0116, [15]) is None   # port 2 timer: 15 min
    station.start_session(2, need_kwh=1.0, power_w=240.0)
    clock.now += 3600
    station.advance()
    assert station.ended == [(2, "timer", 0.06)]
    assert station.port(2).state == 2


def test_auto_mode_sessions_come_and_go_by_themselves() -> None:
    clock = Clock()
    station = ChargingStation(clock=clock, auto=True, seed=3)
    for _ in range(48 * 60):
        clock.now += 60
        station.advance()
    reasons = {reason for _, reason, _ in station.ended}
    assert len(station.ended) > 20
    assert {"full", "timer", "unplugged"} <= reasons


def test_charger_writes_check_address_and_value() -> None:
    station = ChargingStation()
    assert station.write(6, 0x0106, [2000]) == ExcCodes.ILLEGAL_VALUE
    assert station.write(6, 0x0100, [1]) == ExcCodes.ILLEGAL_ADDRESS, "state is read-only"
    station.start_session(1)
    assert station.write(6, 0x0107, [1]) is None
    assert station.ended[-1][:2] == (1, "remote")


def test_fire_gateway_bits_and_thresholds() -> None:
    panel = FireAlarmGateway()
    panel.set_zone(2, "fault")
    panel.set_door(1)
    assert panel.read(2, 4, 4) == [False, True, False, False]
    assert panel.read(2, 0x0100, 2) == [True, False]
    assert panel.read(4, 0, 3) == [350, 120, 0]
    panel.set_pressure(0.1)
    assert panel.read(4, 2, 1) == [1]


def test_light_energy_is_sent_low_word_first() -> None:
    lamp = LightController(energy_kwh=70.0)
    assert lamp.read(4, 1, 2) == [0x1170, 0x0001]   # 70000 = 0x0001_1170
    assert lamp.write(6, 0, [101]) == ExcCodes.ILLEGAL_VALUE


def test_misbehaving_units() -> None:
    meter = EastronSdm120()
    meter.kill()
    with pytest.raises(Unanswered):
        meter.read(4, 0, 2)
    meter.fail_with(ExcCodes.DEVICE_BUSY)
    assert meter.read(4, 0, 2) == ExcCodes.DEVICE_BUSY
    meter.send_garbage()
    assert meter.read(4, 0, 2) == [0xFFFF, 0xFFFF]
    meter.revive()
    assert meter.read(4, 0, 2) != [0xFFFF, 0xFFFF]
    assert (meter.answered, meter.ignored) == (3, 1)


class TickingClock(Clock):
    """A clock that moves on every reading, as time.monotonic does between two calls."""

    def __call__(self) -> float:
        self.now += 1e-6
        return self.now


def test_auto_sessions_start_on_a_ticking_clock_without_reentering_the_time_loop() -> None:
    # A bike arriving inside the time loop used to advance the clock again, which ran the
    # loop again for the same port: RecursionError, answered as exception 4 on the bus.
    clock = TickingClock()
    station = ChargingStation(clock=clock, auto=True, seed=1)
    for _ in range(6 * 60):
        clock.now += 60
        assert isinstance(station.read(3, 0x0100, 8), list)
    assert sum(1 for p in station.ports if p.state == 1) + len(station.ended) > 10


def test_a_scheduled_self_test_changes_its_register_on_its_period() -> None:
    clock = Clock()
    station = ChargingStation(clock=clock, speed=60.0, self_test_every=3600.0)
    assert station.read(3, 0x0002, 1) == [0], "never run"
    clock.now += 59
    assert station.read(3, 0x0002, 1) == [0]
    clock.now += 1
    assert station.read(3, 0x0002, 1) == [(1 << 8) | 0b111], "run 1, all three functions ok"
    clock.now += 60
    assert station.read(3, 0x0002, 1) == [(2 << 8) | 0b111]


def test_a_self_test_period_must_be_positive() -> None:
    with pytest.raises(ValueError, match="self_test_every must be a positive number"):
        ChargingStation(self_test_every=0)


def test_fire_gateway_answers_its_whole_map_with_fewer_zones_wired() -> None:
    panel = FireAlarmGateway(zones=4, doors=2)
    panel.set_zone(4, "fire")
    bits = panel.read(2, 0, 64)
    assert isinstance(bits, list) and len(bits) == 64
    assert [i for i, b in enumerate(bits) if b] == [12], "zone 4 fire; zones 5-16 read 0"
    assert panel.read(2, 0x0100, 4) == [False] * 4
    assert panel.read(2, 0x0104, 1) == ExcCodes.ILLEGAL_ADDRESS, "past the map"
    with pytest.raises(ValueError, match=r"1\.\.16 zones"):
        FireAlarmGateway(zones=17)
