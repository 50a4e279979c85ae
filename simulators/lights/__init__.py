"""Simulated MQTT street-light controllers: a fleet, its fault schedules and run-time control."""

from simulators.lights.control import (
    DEFAULT_PREFIX,
    ControlCommand,
    control_topic,
    parse_control,
    send_control,
)
from simulators.lights.faults import FaultTimeline, FaultWindow, load_faults, random_faults
from simulators.lights.fleet import Fleet
from simulators.lights.model import FLAGS, Light, LightSpec, make_lights, parse_command

__all__ = [
    "DEFAULT_PREFIX", "FLAGS", "ControlCommand", "FaultTimeline", "FaultWindow", "Fleet",
    "Light", "LightSpec", "control_topic", "load_faults", "make_lights", "parse_command",
    "parse_control", "random_faults", "send_control",
]
