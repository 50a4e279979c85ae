"""Simulated Modbus devices (meters, e-bike charging stations, fire-alarm gateways, lighting
controllers) behind Modbus TCP, RTU-over-TCP and RS-485 (socat pseudo-terminal) endpoints,
with run-time control: kill / revive a unit, exception answers, garbage, alarms, sessions,
power cycles. Register maps are written here as the devices implement them.
"""

from simulators.modbus.charger import END_REASONS, ChargingStation, Port
from simulators.modbus.device import Health, SimDevice
from simulators.modbus.farm import MODELS, Fault, ModbusFarm
from simulators.modbus.fire import FireAlarmGateway
from simulators.modbus.lighting import LightController
from simulators.modbus.meters import (
    AcrelAdw300,
    ChintDdsu666,
    ChintDtsu666,
    EastronSdm120,
    EastronSdm630,
    Meter,
)
from simulators.modbus.server import Endpoint, SerialBus, TcpEndpoint, UnitMap

__all__ = [
    "END_REASONS", "MODELS", "AcrelAdw300", "ChargingStation", "ChintDdsu666", "ChintDtsu666",
    "EastronSdm120", "EastronSdm630", "Endpoint", "Fault", "FireAlarmGateway", "Health",
    "LightController", "Meter", "ModbusFarm", "Port", "SerialBus", "SimDevice", "TcpEndpoint",
    "UnitMap",
]
