"""A described set of simulated Modbus devices: endpoints built from YAML, refusals that
name the key, scheduled faults that happen and are undone, and real Modbus clients
reading through TCP, RTU over TCP and the socat RS-485 bus."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from simulators.modbus import ChargingStation, FireAlarmGateway, ModbusFarm, TcpEndpoint
from simulators.modbus.server import SerialBus

CONFIG: dict[str, Any] = {
    "speed": 1,
    "seed": 7,
    "endpoints": {
        "gw2": {"type": "tcp", "port": 0, "units": {
            1: {"model": "ebike_charger_10p"}, 2: {"model": "fire_alarm_gateway"}}},
        "gw3": {"type": "rtu_over_tcp", "port": 0, "units": {
            "1-3": {"model": "eastron_sdm120"}, 4: {"model": "acrel_adw300", "health": "dead"}}},
        "bus1": {"type": "rtu", "units": {
            5: {"model": "chint_dtsu666", "health": "exception", "exception_code": 6}}},
    },
    "faults": [
        {"at": "0.05s", "endpoint": "gw2", "unit": 1, "alarm": "smoke", "duration": "0.1s"},
        {"at": 0.05, "endpoint": "gw2", "unit": 2, "zone": 3, "flag": "fire"},
    ],
}


def refused(doc: Any) -> str:
    with pytest.raises(ValueError) as caught:
        ModbusFarm.from_config(doc, source="farm.yaml")
    return str(caught.value)


def test_a_config_builds_endpoints_with_unit_ranges() -> None:
    farm = ModbusFarm.from_config(CONFIG)
    assert sorted(farm.endpoint("gw3").units) == [1, 2, 3, 4]
    assert farm.unit("gw3", 4).health == "dead"
    assert farm.unit("bus1", 5).health == "exception"
    assert isinstance(farm.unit("gw2", 1), ChargingStation)
    assert [f.describe for f in farm.faults] == ["gw2/1 alarm smoke", "gw2/2 zone 3 fire"]


def test_config_mistakes_are_named() -> None:
    assert "farm.yaml: endpoints.gw2.units.1.model: unknown model 'sdm999'; known: " \
           "eastron_sdm120" in refused({"endpoints": {"gw2": {"type": "tcp", "units": {
               1: {"model": "sdm999"}}}}})
    assert "farm.yaml: endpoints.gw2.units: unit 300 must be an id 1..247 or a range" in \
        refused({"endpoints": {"gw2": {"type": "tcp", "units": {300: {
            "model": "eastron_sdm120"}}}}})
    assert "farm.yaml: endpoints.gw2.units.1: unknown key(s) auto; allowed: model, health" in \
        refused({"endpoints": {"gw2": {"type": "tcp", "units": {1: {
            "model": "eastron_sdm120", "auto": True}}}}})
    assert "farm.yaml: faults[0]: power_off needs a tcp or rtu_over_tcp endpoint" in refused(
        {**CONFIG, "faults": [{"at": 1, "endpoint": "bus1", "power_off": "5s"}]})
    assert "farm.yaml: faults[0]: zone: 3 does not apply to a ebike_charger_10p" in refused(
        {**CONFIG, "faults": [{"at": 1, "endpoint": "gw2", "unit": 1, "zone": 3,
                               "flag": "fire"}]})


async def test_scheduled_faults_happen_and_are_undone() -> None:
    async with ModbusFarm.from_config(CONFIG) as farm:
        charger = farm.unit("gw2", 1)
        panel = farm.unit("gw2", 2)
        assert isinstance(charger, ChargingStation) and isinstance(panel, FireAlarmGateway)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3
        while not charger.alarms["smoke"]:
            assert loop.time() < deadline, "the smoke alarm was never raised"
            await asyncio.sleep(0.01)
        assert panel.zones[3]["fire"]
        while charger.alarms["smoke"]:
            assert loop.time() < deadline, "the smoke alarm was never cleared"
            await asyncio.sleep(0.01)
        assert panel.zones[3]["fire"], "a fault without duration stays"


async def test_real_clients_read_every_kind_of_endpoint() -> None:
    async with ModbusFarm.from_config(CONFIG) as farm:
        gw2, gw3, bus = farm.endpoint("gw2"), farm.endpoint("gw3"), farm.endpoint("bus1")
        assert isinstance(gw2, TcpEndpoint) and isinstance(gw3, TcpEndpoint)
        assert isinstance(bus, SerialBus)
        tcp = AsyncModbusTcpClient("127.0.0.1", port=gw2.port, timeout=0.3, retries=0)
        rtu_tcp = AsyncModbusTcpClient("127.0.0.1", port=gw3.port, framer=FramerType.RTU,
                                       timeout=0.3, retries=0)
        serial = AsyncModbusSerialClient(bus.client_port, timeout=0.3, retries=0)
        for client in (tcp, rtu_tcp, serial):
            assert await client.connect()
        try:
            station = await tcp.read_holding_registers(0x0100, count=8, device_id=1)
            assert station.registers == [0] * 8
            meter = await rtu_tcp.read_input_registers(0x0000, count=2, device_id=2)
            assert not meter.isError() and len(meter.registers) == 2
            with pytest.raises(ModbusIOException):
                await rtu_tcp.read_holding_registers(0x0014, count=1, device_id=4)  # dead
            busy = await serial.read_holding_registers(0x2006, count=2, device_id=5)
            assert busy.isError() and busy.exception_code == 6
        finally:
            for client in (tcp, rtu_tcp, serial):
                client.close()


async def test_a_tcp_endpoint_power_cycles_on_the_same_port() -> None:
    endpoint = TcpEndpoint({1: ChargingStation()})
    await endpoint.start()
    port = endpoint.port
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.3, retries=0,
                                  reconnect_delay=0)
    try:
        assert await client.connect()
        await endpoint.power_cycle(0.05)
        assert endpoint.port == port and endpoint.running
        assert not client.connected, "the power cut dropped the connection"
        assert await client.connect()
        assert (await client.read_holding_registers(0, count=1, device_id=1)).registers == [0]
    finally:
        client.close()
        await endpoint.stop()


def test_the_cli_example_is_a_valid_description(tmp_path: Path) -> None:
    from simulators.modbus.cli import _MODBUS_EXAMPLE

    path = tmp_path / "farm.yaml"
    path.write_text(_MODBUS_EXAMPLE, encoding="utf-8")
    farm = ModbusFarm.from_file(path)
    assert sorted(farm.endpoints) == ["bus1", "gw2", "gw3"]
    assert len(farm.faults) == 4
