"""A farm of simulated ONVIF cameras in one asyncio process: one port per camera, an
optional WS-Discovery responder, and faults set at start, on a schedule or at run time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from urllib.parse import quote

from simulators.onvif.camera import Camera
from simulators.onvif.discovery import DiscoveryResponder, Target
from simulators.onvif.events import TOPICS
from simulators.onvif.spec import CameraSpec, Fault, FaultEntry

log = logging.getLogger(__name__)


class CameraFarm:
    """Cameras on `host`, camera i on `base_port + i` (0: ports picked by the system).

    `discovery_port` None runs no WS-Discovery responder; 0 picks a free UDP port.
    `schedule` sets and clears faults at given seconds after start.
    """

    def __init__(self, specs: Sequence[CameraSpec], host: str = "127.0.0.1", *,
                 base_port: int = 0, discovery_port: int | None = None,
                 discovery_max_delay: float = 0.5,
                 schedule: Iterable[FaultEntry] = ()) -> None:
        ids = [s.id for s in specs]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"camera ids must be unique; repeated: {', '.join(dupes)}")
        if base_port and not 0 < base_port <= 65536 - len(specs):
            raise ValueError(f"base port {base_port} leaves no room for {len(specs)} cameras "
                             f"(ports must stay <= 65535)")
        entries = list(schedule)
        strangers = sorted({e.camera for e in entries} - set(ids))
        if strangers:
            raise ValueError(f"fault schedule names cameras that are not in this farm: "
                             f"{', '.join(strangers)}")
        self.host = host
        self.cameras: dict[str, Camera] = {
            s.id: Camera(s, host=host, port=base_port + i if base_port else 0)
            for i, s in enumerate(specs)}
        self._schedule = entries
        self._timers: list[asyncio.TimerHandle] = []
        self.discovery: DiscoveryResponder | None = None
        if discovery_port is not None:
            self.discovery = DiscoveryResponder(self._targets, host=host, port=discovery_port,
                                                max_delay=discovery_max_delay)
        self.started_in: float | None = None   # seconds start() took

    # --- life ---------------------------------------------------------------------------

    async def start(self) -> None:
        began = time.perf_counter()
        loop = asyncio.get_running_loop()
        for entry in self._schedule:
            if entry.at == 0:
                self.cameras[entry.camera].set_fault(entry.fault, entry.value)
        tasks = []
        try:
            for cam in self.cameras.values():
                task = cam.start()
                if task is not None:
                    tasks.append(task)
            await asyncio.gather(*tasks)
            if self.discovery is not None:
                await self.discovery.start()
        except BaseException:
            await self.stop()
            raise
        for entry in self._schedule:
            if entry.at > 0:
                self._timers.append(loop.call_later(entry.at, self._apply, entry, True))
            if entry.duration is not None:
                self._timers.append(loop.call_later(entry.at + entry.duration, self._apply,
                                                    entry, False))
        self.started_in = time.perf_counter() - began
        log.info("camera farm: %d cameras on %s in %.2f s", len(self.cameras), self.host,
                 self.started_in)

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self.discovery is not None:
            self.discovery.stop()
        for cam in self.cameras.values():
            cam.stop()
        await asyncio.gather(*(cam.listener.wait_closed() for cam in self.cameras.values()))

    async def __aenter__(self) -> CameraFarm:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    # --- addresses ----------------------------------------------------------------------

    def camera(self, cam_id: str) -> Camera:
        try:
            return self.cameras[cam_id]
        except KeyError:
            raise KeyError(f"no camera {cam_id!r} in this farm "
                           f"({_span(list(self.cameras))})") from None

    def device_url(self, cam_id: str) -> str:
        """http://HOST:PORT/onvif/device_service of the camera."""
        return self.camera(cam_id).xaddr("device")

    def urls(self) -> dict[str, str]:
        return {cid: cam.xaddr("device") for cid, cam in self.cameras.items()}

    # --- run-time steering --------------------------------------------------------------

    def set_fault(self, cam_id: str, fault: Fault | str, value: object = True) -> None:
        """Set a fault now (True, or seconds for CLOCK_SKEW / SLOW); False or None clears."""
        self.camera(cam_id).set_fault(fault, value)

    def clear_faults(self, cam_id: str) -> None:
        cam = self.camera(cam_id)
        for fault in list(cam.faults):
            cam.set_fault(fault, None)

    def raise_event(self, cam_id: str, kind: str, active: bool) -> None:
        """Raise (True) or end (False) "tamper", "motion" or "video_loss" on a camera."""
        if kind not in TOPICS:
            raise ValueError(f"unknown camera event {kind!r}; known: {', '.join(TOPICS)}")
        self.camera(cam_id).events.raise_event(kind, active)

    def _apply(self, entry: FaultEntry, on: bool) -> None:
        self.cameras[entry.camera].set_fault(entry.fault, entry.value if on else None)

    def _targets(self) -> list[Target]:
        out = []
        for cam in self.cameras.values():
            if not cam.listener.listening:
                continue  # an unreachable camera does not answer probes either
            spec = cam.spec
            out.append(Target(
                endpoint=f"urn:uuid:{cam.uuid}",
                scopes=("onvif://www.onvif.org/type/video_encoder",
                        "onvif://www.onvif.org/Profile/Streaming",
                        f"onvif://www.onvif.org/hardware/{quote(spec.model)}",
                        f"onvif://www.onvif.org/name/{quote(spec.manufacturer)}_{quote(spec.id)}"),
                xaddrs=(cam.xaddr("device"),)))
        return out


def _span(ids: list[str]) -> str:
    if not ids:
        return "no cameras"
    return f"{len(ids)} cameras {ids[0]} … {ids[-1]}"
