"""Simulated safety devices over MQTT: e-bike detector cameras and elevator controllers,
SOS buttons, fire-hazard sensors, perimeter detectors, access gates, throw-detection
cameras and manhole covers, one fleet per process on one connection, steered from Python,
over `scg-sim/safety/_control`, or by a scripted story.

The fleet (and with it aiomqtt) is imported on first use, so that `scg --help` and the
devices / story checks stay light.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulators.safety.actions import (
    ACTIONS,
    CONTROL_TOPIC,
    Action,
    Story,
    StoryStep,
    load_story,
    parse_action,
    parse_control,
    parse_story,
    send_control,
)
from simulators.safety.config import DevicesFile, load_devices, parse_devices
from simulators.safety.model import HAZARDS, KINDS, HoldRecord, SafetySpec, make_device

#: the demo community's safety devices and a ten-minute story for them (replayed)
DEMO_DEVICES = Path(__file__).parent / "demo_devices.yaml"
DEMO_STORY = Path(__file__).parent / "demo_story.yaml"

if TYPE_CHECKING:
    from simulators.safety.fleet import SafetyFleet

__all__ = [
    "ACTIONS", "CONTROL_TOPIC", "DEMO_DEVICES", "DEMO_STORY", "HAZARDS", "KINDS", "Action",
    "DevicesFile", "HoldRecord", "SafetyFleet", "SafetySpec", "Story", "StoryStep",
    "load_devices", "load_story",
    "make_device", "parse_action", "parse_control", "parse_devices", "parse_story",
    "send_control",
]


def __getattr__(name: str) -> Any:
    if name == "SafetyFleet":
        from simulators.safety.fleet import SafetyFleet

        return SafetyFleet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
