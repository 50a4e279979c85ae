"""The gateway-side ONVIF driver: probes every camera's picture once per period with at most
`concurrency` probes in flight, keeps each camera's event subscription alive, and reports
Probe items, readings, events and one observation per probe.

Each camera runs in its own task: a camera that hangs holds one probe slot for at most its
timeout, and a camera that fails (or a bug while handling one) touches no other camera.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import onvif
from onvif import SERVICES, ONVIFService

from drivers.base import DeviceSpec, Observation, Outcome, Sink
from drivers.onvif.probe import CameraProber, Prober, ProbeResult
from drivers.onvif.pullpoint import EventSubscription
from drivers.onvif.settings import Camera, OnvifSettings
from drivers.onvif.topics import ConditionEdges, Notification

log = logging.getLogger(__name__)

_FAULT_WORDS = {"tamper": "tamper alarm (view blocked, moved or sprayed)",
                "video_loss": "video loss (no signal from the sensor)"}
_FUTURE_SLACK = timedelta(seconds=5)


class _CameraState:
    """What the driver remembers about one camera between probes and notifications."""

    __slots__ = ("bad", "camera", "last", "prober", "subscription")

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self.prober: Prober | None = None
        self.subscription: EventSubscription | None = None
        self.last: ProbeResult | None = None
        self.bad: str | None = None  # the reason last logged, while the camera is bad


ProberFactory = Callable[[Camera, OnvifSettings, aiohttp.ClientSession], Prober]


class OnvifDriver:
    name = "onvif"

    def __init__(self, settings: OnvifSettings, cameras: Sequence[Camera], *,
                 prober_factory: ProberFactory = CameraProber) -> None:
        self.settings = settings
        self._prober_factory = prober_factory
        self.cameras = list(cameras)
        self._states = {c.id: _CameraState(c) for c in self.cameras}
        if settings.events:
            for state in self._states.values():
                state.subscription = EventSubscription(
                    state.camera, settings, functools.partial(self._notified, state))
        self._edges = ConditionEdges()
        self._sink: Sink | None = None
        #: probes completed, per camera id
        self.probes: dict[str, int] = dict.fromkeys(self._states, 0)

    def devices(self) -> list[DeviceSpec]:
        return [c.spec for c in self.cameras]

    def subscription(self, device: str) -> EventSubscription | None:
        """The event subscription of `device` while the driver runs (None without events)."""
        return self._states[device].subscription

    def prober(self, device: str) -> Prober | None:
        return self._states[device].prober

    # ------------------------------------------------------------ running

    async def run(self, sink: Sink) -> None:
        """Probe and listen until cancelled."""
        self._sink = sink
        await _load_service_descriptions()
        # ssl=False: cameras ship self-signed certificates (the ONVIF client does not verify
        # them either); Digest keeps the password off the wire regardless. No pool limit:
        # the probe slots bound the connections.
        connector = aiohttp.TCPConnector(limit=0, ssl=False)
        async with aiohttp.ClientSession(connector=connector) as http:
            slots = asyncio.Semaphore(self.settings.concurrency)
            log.info("onvif driver: %d cameras, %d probes in flight at most, timeout %g s, "
                     "events %s", len(self.cameras), self.settings.concurrency,
                     self.settings.timeout, "on" if self.settings.events else "off")
            async with asyncio.TaskGroup() as tasks:
                for state in self._states.values():
                    state.prober = self._prober_factory(state.camera, self.settings, http)
                    tasks.create_task(self._probe_forever(state, slots, sink),
                                      name=f"probe {state.camera.id}")
                    if state.subscription is not None:
                        tasks.create_task(self._listen_forever(state),
                                          name=f"events {state.camera.id}")

    async def _probe_forever(self, state: _CameraState, slots: asyncio.Semaphore,
                             sink: Sink) -> None:
        loop = asyncio.get_running_loop()
        prober = state.prober
        assert prober is not None
        period = state.camera.period
        due = loop.time()
        try:
            while True:
                await asyncio.sleep(max(0.0, due - loop.time()))
                due = loop.time() + period  # the next probe counts from this one's start
                async with slots:
                    try:
                        result = await prober.probe()
                    except Exception:
                        # Our bug, not the camera's: say so once, keep probing; the gateway
                        # counts the missed period against the camera meanwhile.
                        if state.bad != "driver error":
                            log.exception("camera %s: the probe failed inside the driver; "
                                          "retrying every period", state.camera.id)
                        state.bad = "driver error"
                        continue
                self.probes[state.camera.id] += 1
                self.report(state, result, sink)
        finally:
            await prober.close()

    async def _listen_forever(self, state: _CameraState) -> None:
        assert state.subscription is not None
        logged = False
        while True:
            try:
                await state.subscription.run()
            except Exception:
                # Our bug, not the camera's: once with the traceback, then quietly.
                if not logged:
                    log.exception("camera %s: the event subscription failed inside the "
                                  "driver; starting it again every %g s", state.camera.id,
                                  self.settings.timeout)
                logged = True
                await asyncio.sleep(self.settings.timeout)

    # ------------------------------------------------------------ reporting

    def report(self, state: _CameraState, result: ProbeResult, sink: Sink) -> None:
        """Emit a probe's items and the camera's observation. Public for tests and bench."""
        state.last = result
        for item in result.items():
            sink.emit(item)
        self._observe(state, sink)

    def _notified(self, state: _CameraState, notes: list[Notification], offset: float) -> None:
        sink = self._sink
        if sink is None:
            return
        now = datetime.now(UTC)
        changed = False
        for note in notes:
            when = now
            if note.time is not None:
                # The camera stamps events on its own clock; put them on ours.
                when = note.time - timedelta(seconds=offset)
                if when > now + _FUTURE_SLACK:
                    when = now
            event = self._edges.update(state.camera.id, note, when)
            if event is not None:
                sink.emit(event)
                changed = changed or note.condition in _FAULT_WORDS
        if changed and state.last is not None:
            self._observe(state, sink)

    def _observe(self, state: _CameraState, sink: Sink) -> None:
        outcome, reason, kind = self._judge(state)
        sink.observe(Observation(state.camera.id, outcome, reason))
        cam = state.camera.id
        if outcome is Outcome.OK:
            if state.bad is not None:
                log.info("camera %s is good again", cam)
                state.bad = None
        elif state.bad != kind:
            # Once when it goes bad, and once more if the kind of trouble changes.
            log.warning("camera %s %s: %s (logged once until it changes)", cam,
                        "failed" if outcome is Outcome.FAILED else "degraded", reason)
            state.bad = kind

    def verdict(self, device: str) -> tuple[Outcome, str]:
        """The camera's outcome and reason from its last probe and its open alarms."""
        outcome, reason, _ = self._judge(self._states[device])
        return outcome, reason

    def _judge(self, state: _CameraState) -> tuple[Outcome, str, str]:
        last = state.last
        if last is None:
            return Outcome.FAILED, "not probed yet", "unprobed"
        if last.outcome is not Outcome.OK:
            return last.outcome, last.reason, str(last.check)
        faults = self._edges.open_faults(state.camera.id)
        if faults:
            words = "; ".join(f"{_FAULT_WORDS[kind]} open since "
                              f"{since.isoformat(timespec='seconds')}"
                              for kind, since in faults)
            return Outcome.DEGRADED, words, "+".join(kind for kind, _ in faults)
        offset = last.clock_offset_s
        limit = self.settings.max_clock_skew
        if offset is not None and abs(offset) > limit:
            ahead = "ahead of" if offset > 0 else "behind"
            return (Outcome.DEGRADED,
                    f"camera clock {abs(offset):.0f} s {ahead} the gateway's (more than the "
                    f"{limit:g} s allowed): its recordings and events carry wrong times; set "
                    "the camera's clock (NTP)", "clock")
        return Outcome.OK, "", "ok"


async def _load_service_descriptions() -> None:
    """Parse the ONVIF WSDLs once, before any camera's timeout is running: the first
    parse takes a noticeable fraction of a second and must not count against a camera."""
    wsdl_dir = Path(onvif.__file__).parent / "wsdl"  # the WSDLs the library ships
    for name in ("devicemgmt", "media", "events"):
        spec = SERVICES[name]
        service = ONVIFService("http://127.0.0.1:9/", None, None,
                               str(wsdl_dir / spec["wsdl"]), no_cache=True,
                               binding_name=f"{{{spec['ns']}}}{spec['binding']}")
        await service.setup()
        await service.close()
