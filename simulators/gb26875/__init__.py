"""A simulated GB 26875.3-2011 user information transmission device (用户信息传输装置) with
the fire alarm panels and detectors behind it: it dials a monitoring centre over TCP,
sends heartbeats, reports fire alarms, faults, shielding, resets and its own state on a
story or on command, and resends until the centre confirms. Its wire code is its own
(`wire.py`): it imports nothing from the driver it is tested against.
"""

from simulators.gb26875.actions import (
           ACTIONS,
           Action,
           Story,
           load_story,
           parse_action,
           parse_story,
           send_control,
)
from simulators.gb26875.config import Detector, PanelSpec, SimConfig, load_config, parse_config
from simulators.gb26875.device import TransmissionDeviceSim
from simulators.gb26875.model import DeviceModel

__all__ = ["ACTIONS", "Action", "Detector", "DeviceModel", "PanelSpec", "SimConfig", "Story",
           "TransmissionDeviceSim", "load_config", "load_story", "parse_action", "parse_config",
           "parse_story", "send_control"]
