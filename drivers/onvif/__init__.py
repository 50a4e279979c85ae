"""ONVIF cameras (Profile S): picture probes, clock-corrected authentication and PullPoint
events; `create(settings, devices)` gives the gateway a ready-to-run driver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drivers.base import DeviceSpec
from drivers.onvif.driver import OnvifDriver
from drivers.onvif.picture import Check, Verdict, inspect_picture
from drivers.onvif.probe import CameraProber, ProbeResult
from drivers.onvif.settings import Camera, Checks, OnvifSettings, parse_cameras, parse_settings

__all__ = ["Camera", "CameraProber", "Check", "Checks", "OnvifDriver", "OnvifSettings",
           "ProbeResult", "Verdict", "create", "inspect_picture"]


def create(settings: Mapping[str, Any] | None, devices: Sequence[DeviceSpec]) -> OnvifDriver:
    """Validate the settings and every camera; DriverConfigError says what to fix."""
    return OnvifDriver(parse_settings(settings), parse_cameras(devices))
