"""What a SOAP operation sees: one authenticated call, and the face of the camera it may
use (clock, identity, addresses, events). The services (`device`, `media`, `pullpoint`)
are written against this face, and `camera.Camera` provides it, so the services need not
know the camera's HTTP plumbing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from simulators.onvif.events import EventHub
from simulators.onvif.soap import SoapRequest
from simulators.onvif.spec import CameraSpec


class CameraFace(Protocol):
    """The parts of a simulated camera its operations answer from."""

    spec: CameraSpec
    host: str
    events: EventHub

    @property
    def skew(self) -> float: ...

    def now(self) -> datetime: ...

    def xaddr(self, service: str) -> str: ...

    def subscription_url(self, sid: str) -> str: ...

    def snapshot_url(self, profile: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated SOAP call: the camera, the parsed request, and the resource the
    path names (a subscription id for subscription endpoints, else "")."""

    camera: CameraFace
    request: SoapRequest
    resource: str = ""


Operation = Callable[[Call], Awaitable[str]]
