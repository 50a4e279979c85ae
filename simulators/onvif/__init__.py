"""Simulated ONVIF Profile S cameras over HTTP / SOAP 1.2: device, media and PullPoint event
services with WS-Security digest auth, an HTTP-Digest snapshot, faults that real cameras
show (unreachable, wrong password, clock skew, slow, black / blank / frozen / corrupt
pictures, events that stop), and a WS-Discovery responder. Hundreds run in one process.
"""

from simulators.onvif.camera import Camera
from simulators.onvif.discovery import DiscoveryResponder, parse_probe, probe_message
from simulators.onvif.events import TOPICS
from simulators.onvif.farm import CameraFarm
from simulators.onvif.spec import (
    CameraSpec,
    Fault,
    FaultEntry,
    load_faults,
    make_cameras,
    parse_faults,
)

__all__ = [
    "TOPICS", "Camera", "CameraFarm", "CameraSpec", "DiscoveryResponder", "Fault",
    "FaultEntry", "load_faults", "make_cameras", "parse_faults", "parse_probe",
    "probe_message",
]
