"""Each shipped profile against the simulator of its device over a real Modbus TCP socket:
the simulators write their register maps independently, so a wrong address, type, word
order or scale on either side shows up here as a wrong value."""

from __future__ import annotations

import pytest
from modbus_support import TimedSink, eventually, make_driver, running, spec, tcp_link

from drivers.base import Outcome
from simulators.modbus import (
    AcrelAdw300,
    ChargingStation,
    ChintDdsu666,
    ChintDtsu666,
    EastronSdm120,
    EastronSdm630,
    FireAlarmGateway,
    LightController,
    SimDevice,
    TcpEndpoint,
)


def sdm120() -> tuple[SimDevice, dict[str, float]]:
    m = EastronSdm120(speed=0)
    m.set_values(voltage_l1=230.1, current_l1=5.25, power=1207.5, frequency=50.02,
                 import_kwh=1234.5, export_kwh=1.5)
    return m, {"voltage_v": 230.1, "current_a": 5.25, "power_w": 1207.5, "frequency_hz": 50.02,
               "energy_import_kwh": 1234.5, "energy_export_kwh": 1.5,
               "energy_total_kwh": 1236.0}


def sdm630() -> tuple[SimDevice, dict[str, float]]:
    m = EastronSdm630(speed=0)
    m.set_values(voltage_l1=229.5, voltage_l2=230.1, voltage_l3=231.0, current_l1=4.0,
                 current_l2=5.0, current_l3=6.3, power_l1=900.0, power_l2=1100.0,
                 power_l3=1400.0, power=3400.0, frequency=49.97, import_kwh=8765.4,
                 export_kwh=12.5)
    return m, {"voltage_l1_v": 229.5, "voltage_l2_v": 230.1, "voltage_l3_v": 231.0,
               "current_l1_a": 4.0, "current_l2_a": 5.0, "current_l3_a": 6.3,
               "power_l1_w": 900.0, "power_l2_w": 1100.0, "power_l3_w": 1400.0,
               "voltage_v": 230.2, "current_a": 5.1, "power_w": 3400.0, "frequency_hz": 49.97,
               "energy_import_kwh": 8765.4, "energy_export_kwh": 12.5}


def ddsu666() -> tuple[SimDevice, dict[str, float]]:
    m = ChintDdsu666(speed=0)
    m.set_values(voltage_l1=229.8, current_l1=3.5, power=804.3, frequency=49.98,
                 import_kwh=4321.5, export_kwh=2.25)
    return m, {"voltage_v": 229.8, "current_a": 3.5, "power_w": 804.3, "frequency_hz": 49.98,
               "energy_import_kwh": 4321.5, "energy_export_kwh": 2.25}


def dtsu666() -> tuple[SimDevice, dict[str, float]]:
    m = ChintDtsu666(speed=0)
    m.set_values(voltage_l1=230.0, voltage_l2=229.0, voltage_l3=231.0, current_l1=4.125,
                 current_l2=5.0, current_l3=5.875, power_l1=900.5, power_l2=1100.0,
                 power_l3=1400.2, power=3400.7, frequency=50.01, import_kwh=5678.25,
                 export_kwh=3.75)
    return m, {"voltage_l1_v": 230.0, "voltage_l2_v": 229.0, "voltage_l3_v": 231.0,
               "current_l1_a": 4.125, "current_l2_a": 5.0, "current_l3_a": 5.875,
               "power_w": 3400.7, "power_l1_w": 900.5, "power_l2_w": 1100.0,
               "power_l3_w": 1400.2, "frequency_hz": 50.01, "energy_import_kwh": 5678.25,
               "energy_export_kwh": 3.75, "voltage_v": 230.0, "current_a": 5.0}


def adw300() -> tuple[SimDevice, dict[str, float]]:
    m = AcrelAdw300(speed=0)
    m.set_values(voltage_l1=230.1, voltage_l2=229.9, voltage_l3=231.2, current_l1=4.12,
                 current_l2=5.05, current_l3=6.31, power_l1=950.0, power_l2=1160.0,
                 power_l3=-120.0, power=1990.0, import_kwh=9876.54, export_kwh=0.5)
    return m, {"voltage_l1_v": 230.1, "voltage_l2_v": 229.9, "voltage_l3_v": 231.2,
               "current_l1_a": 4.12, "current_l2_a": 5.05, "current_l3_a": 6.31,
               "power_l1_w": 950.0, "power_l2_w": 1160.0, "power_l3_w": -120.0,
               "power_w": 1990.0, "energy_import_kwh": 9876.54, "energy_export_kwh": 0.5,
               "voltage_v": 230.4, "current_a": 5.16}


def charger() -> tuple[SimDevice, dict[str, float]]:
    station = ChargingStation(speed=0)
    station.start_session(2, need_kwh=0.8, power_w=215.3)
    station.port(2).energy_kwh = 0.345
    station.start_session(9, need_kwh=0.5, power_w=180.0)
    station.end_session(9, "full", energy_kwh=0.5)
    station.set_port_fault(4)
    station.temperature_c = -5.5
    expected = {"temperature_c": -5.5}
    for n in range(1, 11):
        expected |= {f"port{n}_state": 0.0, f"port{n}_power_w": 0.0, f"port{n}_energy_kwh": 0.0}
    expected |= {"port2_state": 1.0, "port2_power_w": 215.3, "port2_energy_kwh": 0.345,
                 "port9_state": 2.0, "port9_energy_kwh": 0.5, "port4_state": 3.0}
    return station, expected


def fire() -> tuple[SimDevice, dict[str, float]]:
    panel = FireAlarmGateway(speed=0)
    panel.set_pressure(0.352)
    panel.set_residual_current(15.5)
    panel.set_door(2)
    panel.set_zone(5, "fire")
    return panel, {"hydrant_pressure_mpa": 0.352, "residual_current_ma": 15.5,
                   "fire_door1_open": 0.0, "fire_door2_open": 1.0, "fire_door3_open": 0.0,
                   "fire_door4_open": 0.0, "fire_door_open": 1.0}


def light() -> tuple[SimDevice, dict[str, float]]:
    lamp = LightController(speed=0, rated_w=100.0, energy_kwh=250.125)
    lamp.dim = 60
    return lamp, {"on": 1.0, "dim_pct": 60.0, "power_w": 60.0, "energy_kwh": 250.125}


MODELS = {"eastron_sdm120": sdm120, "eastron_sdm630": sdm630, "chint_ddsu666": ddsu666,
          "chint_dtsu666": dtsu666, "acrel_adw300": adw300, "ebike_charger_10p": charger,
          "fire_alarm_gateway": fire, "street_light_controller": light}


@pytest.mark.parametrize("profile", sorted(MODELS))
async def test_shipped_profile_decodes_its_simulator_exactly(profile: str) -> None:
    device, expected = MODELS[profile]()
    assert device.model == profile
    async with TcpEndpoint({7: device}) as endpoint:
        assert isinstance(endpoint, TcpEndpoint)
        driver = make_driver({"gw": tcp_link(endpoint)}, [spec("dev", profile, "gw/7")])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.ok_times("dev"), f"a good poll of {profile}")
        assert [o.outcome for o in sink.observations] == [Outcome.OK]
        assert sink.latest("dev") == expected


async def test_conditions_already_active_at_the_first_poll_are_raised() -> None:
    station, _ = charger()
    assert isinstance(station, ChargingStation)
    station.set_alarm("smoke")
    panel, _ = fire()
    async with TcpEndpoint({1: station, 2: panel}) as endpoint:
        assert isinstance(endpoint, TcpEndpoint)
        driver = make_driver({"gw": tcp_link(endpoint)},
                             [spec("charger", "ebike_charger_10p", "gw/1"),
                              spec("panel", "fire_alarm_gateway", "gw/2")])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.ok_times("charger") and sink.ok_times("panel"),
                             "a good poll of both")
    assert {(e.type, e.active, tuple(e.data.items())) for e in sink.events_of("charger")} == {
        ("smoke", True, ()), ("port_fault", True, (("port", 4),))}
    assert {(e.type, e.active, tuple(e.data.items())) for e in sink.events_of("panel")} == {
        ("zone_fire", True, (("zone", 5),)), ("fire_door_open", True, (("door", 2),))}
    # A session that ended before the gateway first looked is not reported as new.
    assert not sink.events_of("charger", "charge_stopped")
