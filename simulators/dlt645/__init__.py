"""Simulated DL/T 645-2007 household meters: many meters on one shared bus with live values
(energy rising with the load), reached through a TCP transparent gateway or a serial
pseudo-terminal, with faults per meter (silent, garbage, abnormal reply, slow).
"""

from simulators.dlt645.bus import MeterBus, make_meters
from simulators.dlt645.faults import Fault, FaultEntry, Garbage, load_faults, parse_faults
from simulators.dlt645.meter import MeterSpec, SimMeter, garble
from simulators.dlt645.ports import PtyPair, SerialPort, TcpGateway
from simulators.dlt645.wire import Request, RequestReader

__all__ = [
    "Fault", "FaultEntry", "Garbage", "MeterBus", "MeterSpec", "PtyPair", "Request",
    "RequestReader", "SerialPort", "SimMeter", "TcpGateway", "garble", "load_faults",
    "make_meters", "parse_faults",
]
