"""One simulated camera: its clock, credentials, faults, pictures and events, and the
routing of its HTTP requests to the device, media, event and snapshot services."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

from simulators.onvif import device, media, pullpoint
from simulators.onvif.calls import Call
from simulators.onvif.events import EventHub
from simulators.onvif.httpd import Listener, Request, Response
from simulators.onvif.security import (
    BasicGuard,
    DigestGuard,
    NonceLedger,
    check_username_token,
)
from simulators.onvif.snapshot import Picture, corrupt
from simulators.onvif.soap import (
    CONTENT_TYPE,
    SoapFault,
    action_not_supported,
    envelope,
    fault_envelope,
    not_authorized,
    parse,
)
from simulators.onvif.spec import CameraSpec, Fault, fault_value

log = logging.getLogger(__name__)

PATHS = {"device": "/onvif/device_service", "media": "/onvif/media_service",
         "events": "/onvif/event_service"}
SUBSCRIPTION_PATH = "/onvif/subscription/"
SNAPSHOT_PATH = "/onvif/snapshot"
_SERVICES = {PATHS["device"]: ("device", device.OPERATIONS),
             PATHS["media"]: ("media", media.OPERATIONS),
             PATHS["events"]: ("events", pullpoint.OPERATIONS)}


class Camera:
    """A camera on its own port. Faults change its behaviour at once (`set_fault`)."""

    def __init__(self, spec: CameraSpec, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.spec = spec
        self.host = host
        self.uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"scg-sim-onvif:{spec.id}")
        self.faults: dict[Fault, float | bool | str] = {}
        self.events = EventHub(self.now)
        self.picture = Picture(spec.id)
        self.ledger = NonceLedger()
        self.digest = DigestGuard(realm=f"{spec.manufacturer} {spec.id}")
        self.basic = BasicGuard(realm=f"{spec.manufacturer} {spec.id}")
        self.listener = Listener(host, port, self.handle, name=f"camera {spec.id}")
        self.requests = 0          # HTTP requests received (all kinds), for tests and stats
        self.snapshot_refusals = 0  # snapshot requests answered 401
        self._frozen: bytes | None = None
        self._started = False
        self._opening: asyncio.Task[None] | None = None
        for fault, value in spec.faults.items():
            self.set_fault(fault, value)

    # --- identity and clock -------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def skew(self) -> float:
        return float(self.faults.get(Fault.CLOCK_SKEW, 0.0))

    def now(self) -> datetime:
        """The camera's own clock (UTC), off by the CLOCK_SKEW fault if any."""
        return datetime.now(UTC) + timedelta(seconds=self.skew)

    @property
    def password(self) -> str:
        """The password the camera checks; WRONG_PASSWORD means someone changed it."""
        if self.faults.get(Fault.WRONG_PASSWORD):
            return self.spec.password + "-changed-on-the-camera"
        return self.spec.password

    @property
    def snapshot_auth(self) -> str:
        """The HTTP scheme the snapshot asks for: the spec's, unless SNAPSHOT_AUTH says
        otherwise (someone changed the camera's web authentication)."""
        return str(self.faults.get(Fault.SNAPSHOT_AUTH, self.spec.snapshot_auth))

    def xaddr(self, service: str) -> str:
        return f"http://{self._netloc()}{PATHS[service]}"

    def subscription_url(self, sid: str) -> str:
        return f"http://{self._netloc()}{SUBSCRIPTION_PATH}{sid}"

    def snapshot_url(self, profile: str) -> str:
        return f"http://{self._netloc()}{SNAPSHOT_PATH}?profile={profile}"

    def _netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    # --- life and faults ----------------------------------------------------------------

    def start(self) -> asyncio.Task[None] | None:
        """Bind the port now; None when the camera starts UNREACHABLE (port reserved only
        if it was given; with port 0 one is picked and kept for later)."""
        self._started = True
        task = self.listener.open()
        if self.faults.get(Fault.UNREACHABLE):
            self.listener.close()
            return None
        self._opening = task
        return task

    def stop(self) -> None:
        self._started = False
        self.listener.close()
        self.events.drop_all()

    def set_fault(self, fault: Fault | str, value: object = True) -> None:
        """Set (`value` True or seconds) or clear (False / None) a fault, effective now."""
        new = fault_value(fault, value, where=f"camera {self.spec.id}")
        fault = Fault(fault)
        old = self.faults.get(fault)
        if new == old:
            return
        if new is None:
            del self.faults[fault]
        else:
            self.faults[fault] = new
        log.info("camera %s: %s %s", self.spec.id, fault.value,
                 "cleared" if new is None else f"set ({new})")
        if fault is Fault.UNREACHABLE and self._started:
            if new:
                self.listener.close()
            else:
                self._opening = self.listener.open()
        elif fault is Fault.EVENTS_STOP:
            # A camera whose event engine died loses its subscriptions, and one that comes
            # back has lost them too: either way the client must notice and subscribe again.
            self.events.drop_all()
            self.events.delivering = new is None
        elif fault is Fault.FROZEN and new is None:
            self._frozen = None

    # --- requests -----------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        self.requests += 1
        delay = self.faults.get(Fault.SLOW)
        if delay:
            await asyncio.sleep(float(delay))
        path = request.path
        if path == SNAPSHOT_PATH:
            return self._snapshot(request)
        resource = ""
        if path.startswith(SUBSCRIPTION_PATH):
            service, operations = "subscription", pullpoint.SUBSCRIPTION_OPERATIONS
            resource = path[len(SUBSCRIPTION_PATH):]
        elif path in _SERVICES:
            service, operations = _SERVICES[path]
        else:
            return Response(404, f"no service at {path}; the device service is at "
                                 f"{PATHS['device']}".encode())
        if request.method != "POST":
            return Response(405, b"SOAP services take POST", headers={"Allow": "POST"})
        try:
            soap = parse(request.body)
            if not (service == "device" and soap.operation in device.WITHOUT_AUTH):
                why = check_username_token(soap.header, username=self.spec.username,
                                           password=self.password, camera_now=self.now(),
                                           ledger=self.ledger)
                if why:
                    raise not_authorized(why)
            operation = operations.get(soap.operation)
            if operation is None:
                raise action_not_supported(soap.operation, service)
            body = await operation(Call(self, soap, resource))
        except SoapFault as fault:
            return Response(fault.http_status, fault_envelope(fault), CONTENT_TYPE)
        return Response(200, envelope(body), CONTENT_TYPE)

    def _snapshot(self, request: Request) -> Response:
        if request.method != "GET":
            return Response(405, b"the snapshot takes GET", headers={"Allow": "GET"})
        authorization = request.headers.get("authorization")
        if self.snapshot_auth == "basic":
            why = self.basic.check(authorization, username=self.spec.username,
                                   password=self.password)
            if why:
                self.snapshot_refusals += 1
                return Response(401, f"HTTP Basic authentication required: {why}".encode(),
                                headers={"WWW-Authenticate": self.basic.challenge()})
        else:
            why = self.digest.check(request.method, request.target, authorization,
                                    username=self.spec.username, password=self.password)
            if why:
                self.snapshot_refusals += 1
                return Response(401, f"HTTP Digest authentication required: {why}".encode(),
                                headers={"WWW-Authenticate": self.digest.challenge()})
        if self.faults.get(Fault.FROZEN):
            if self._frozen is None:
                self._frozen = self._draw()
            return Response(200, self._frozen, "image/jpeg")
        return Response(200, self._draw(), "image/jpeg")

    def _draw(self) -> bytes:
        mode = ("black" if self.faults.get(Fault.BLACK)
                else "blank" if self.faults.get(Fault.BLANK) else "normal")
        data = self.picture.jpeg(mode)
        return corrupt(data) if self.faults.get(Fault.CORRUPT_JPEG) else data
