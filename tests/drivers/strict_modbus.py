"""A strict Modbus TCP server for driver tests, independent of simulators/modbus: pymodbus's
own server (`pymodbus.simulator.SimDevice`) holding only the registers the manufacturers'
public maps list, so that a read touching any other address answers exception 02 ILLEGAL
DATA ADDRESS, as strict meters do. Values are fixed, encoded here from engineering values.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

#: An address no profile reads, holding one value: pymodbus wants every table non-empty.
_FAR = 65000


def f32(value: float) -> list[int]:
    raw = struct.pack(">f", value)
    return [int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:], "big")]


def i32(value: int) -> list[int]:
    raw = struct.pack(">i", value)
    return [int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:], "big")]


@dataclass(frozen=True)
class Meter:
    """A meter's documented registers: `table` is "ir" (function 4) or "hr" (function 3);
    `registers` maps a start address to its words. `expected` is what the driver should
    read with the shipped profile."""

    table: str
    registers: Mapping[int, list[int]]
    expected: Mapping[str, float]

    def without(self, addresses: Iterable[int]) -> Meter:
        """The same meter with some documented registers absent (older firmware)."""
        gone = set(addresses)
        return Meter(self.table, {a: w for a, w in self.registers.items() if a not in gone},
                     self.expected)


def _device(unit: int, meter: Meter) -> SimDevice:
    blocks = [SimData(a, values=list(w), datatype=DataType.REGISTERS)
              for a, w in sorted(meter.registers.items())]
    spare = [SimData(_FAR, values=[0], datatype=DataType.REGISTERS)]
    bits = [SimData(_FAR, values=False, datatype=DataType.BITS)]
    hr, ir = (blocks, spare) if meter.table == "hr" else (spare, blocks)
    return SimDevice(unit, simdata=(bits, list(bits), hr, ir))


@contextlib.asynccontextmanager
async def strict_server(meters: Mapping[int, Meter]) -> AsyncIterator[int]:
    """pymodbus's TCP server on a free loopback port with a unit per meter; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    server = ModbusTcpServer([_device(u, m) for u, m in meters.items()],
                             address=("127.0.0.1", port))
    task = asyncio.create_task(server.serve_forever())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while True:  # listening once a connect succeeds
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.02)
                continue
            writer.close()
            break
        yield port
    finally:
        await server.shutdown()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# ---------------------------------------------------------------- the five meters

def sdm120() -> Meter:
    """Eastron SDM120 protocol, 3X: V, A, W, VA, VAr, PF, phase angle, Hz, kWh."""
    regs = {0x0000: f32(230.1), 0x0006: f32(5.25), 0x000C: f32(1207.5), 0x0012: f32(1208.0),
            0x0018: f32(34.7), 0x001E: f32(0.99), 0x0024: f32(0.0), 0x0046: f32(50.02),
            0x0048: f32(1234.5), 0x004A: f32(1.5), 0x004C: f32(10.0), 0x004E: f32(0.0),
            0x0156: f32(1236.0)}
    return Meter("ir", regs, {"voltage_v": 230.1, "current_a": 5.25, "power_w": 1207.5,
                              "frequency_hz": 50.02, "energy_import_kwh": 1234.5,
                              "energy_export_kwh": 1.5, "energy_total_kwh": 1236.0})


def sdm630() -> Meter:
    """Eastron SDM630 protocol, 3X: 30001..30041 per phase, then the parameters the map
    lists (nothing at 30045, 30051, 30055, 30059, 30065, 30069)."""
    regs: dict[int, list[int]] = {}
    per_phase = [(0x0000, (229.5, 230.1, 231.0)), (0x0006, (4.0, 5.0, 6.3)),
                 (0x000C, (900.0, 1100.0, 1400.0)), (0x0012, (918.0, 1150.5, 1455.3)),
                 (0x0018, (90.0, 120.0, 150.0)), (0x001E, (0.98, 0.96, 0.96)),
                 (0x0024, (0.0, 0.0, 0.0))]
    for start, values in per_phase:
        for n, value in enumerate(values):
            regs[start + 2 * n] = f32(value)
    for address, value in ((0x002A, 230.2), (0x002E, 5.1), (0x0030, 15.3), (0x0034, 3400.0),
                           (0x0038, 3523.8), (0x003C, 360.0), (0x003E, 0.965),
                           (0x0042, 0.0), (0x0046, 49.97), (0x0048, 8765.4),
                           (0x004A, 12.5), (0x004C, 100.0), (0x004E, 0.0)):
        regs[address] = f32(value)
    return Meter("ir", regs, {
        "voltage_l1_v": 229.5, "voltage_l2_v": 230.1, "voltage_l3_v": 231.0,
        "current_l1_a": 4.0, "current_l2_a": 5.0, "current_l3_a": 6.3, "power_l1_w": 900.0,
        "power_l2_w": 1100.0, "power_l3_w": 1400.0, "voltage_v": 230.2, "current_a": 5.1,
        "power_w": 3400.0, "frequency_hz": 49.97, "energy_import_kwh": 8765.4,
        "energy_export_kwh": 12.5})


def ddsu666() -> Meter:
    """CHINT DDSU666 as Tasmota reads it, function 04: U, I, P kW, Q kvar, PF, F, kWh."""
    regs = {0x2000: f32(229.8), 0x2002: f32(3.5), 0x2004: f32(0.8043), 0x2006: f32(0.1),
            0x200A: f32(0.99), 0x200E: f32(49.98), 0x4000: f32(4321.5), 0x400A: f32(2.25)}
    return Meter("ir", regs, {"voltage_v": 229.8, "current_a": 3.5, "power_w": 804.3,
                              "frequency_hz": 49.98, "energy_import_kwh": 4321.5,
                              "energy_export_kwh": 2.25})


def dtsu666() -> Meter:
    """CHINT DTSU666 manual, Table 11, function 03: scaled float32."""
    regs = {0x2000: f32(3983.7), 0x2002: f32(3990.6), 0x2004: f32(3976.8),
            0x2006: f32(2300.0), 0x2008: f32(2290.0), 0x200A: f32(2310.0),
            0x200C: f32(4125.0), 0x200E: f32(5000.0), 0x2010: f32(5875.0),
            0x2012: f32(34007.0), 0x2014: f32(9005.0), 0x2016: f32(11000.0),
            0x2018: f32(14002.0), 0x201A: f32(1000.0), 0x201C: f32(300.0),
            0x201E: f32(300.0), 0x2020: f32(400.0), 0x202A: f32(990.0),
            0x202C: f32(990.0), 0x202E: f32(990.0), 0x2030: f32(990.0), 0x2044: f32(5001.0),
            0x401E: f32(5678.25), 0x4028: f32(3.75)}
    return Meter("hr", regs, {
        "voltage_l1_v": 230.0, "voltage_l2_v": 229.0, "voltage_l3_v": 231.0,
        "current_l1_a": 4.125, "current_l2_a": 5.0, "current_l3_a": 5.875,
        "power_w": 3400.7, "power_l1_w": 900.5, "power_l2_w": 1100.0, "power_l3_w": 1400.2,
        "frequency_hz": 50.01, "energy_import_kwh": 5678.25, "energy_export_kwh": 3.75,
        "voltage_v": 230.0, "current_a": 5.0})


def adw300() -> Meter:
    """Acrel ADW300 as its public map (evcc's template) lists it, function 03."""
    regs = {0x0014: [2301], 0x0015: [2299], 0x0016: [2312], 0x001A: [412], 0x001B: [505],
            0x001C: [631], 0x001E: i32(950), 0x0020: i32(1160), 0x0022: i32(-120),
            0x0024: i32(1990), 0x003E: i32(987654), 0x0040: i32(50)}
    return Meter("hr", regs, {
        "voltage_l1_v": 230.1, "voltage_l2_v": 229.9, "voltage_l3_v": 231.2,
        "current_l1_a": 4.12, "current_l2_a": 5.05, "current_l3_a": 6.31,
        "power_l1_w": 950.0, "power_l2_w": 1160.0, "power_l3_w": -120.0, "power_w": 1990.0,
        "energy_import_kwh": 9876.54, "energy_export_kwh": 0.5, "voltage_v": 230.4,
        "current_a": 5.16})


METERS = {"eastron_sdm120": sdm120, "eastron_sdm630": sdm630, "chint_ddsu666": ddsu666,
          "chint_dtsu666": dtsu666, "acrel_adw300": adw300}
