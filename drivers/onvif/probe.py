"""One picture probe of one camera, start to finish: make sure the ONVIF session is good
(clock, credentials), fetch the snapshot, judge the picture; the result carries the Probe
item's data (with a thumbnail of the picture when one is due, `drivers.onvif.thumbnail`)
and the observation's outcome and reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp

from drivers.base import Outcome
from drivers.onvif.failures import NotAuthorized, ProbeFailure, auth_reason
from drivers.onvif.httpauth import SCHEME_NAMES
from drivers.onvif.picture import Check, inspect_picture
from drivers.onvif.session import CameraLink, Snapshot
from drivers.onvif.settings import Camera, OnvifSettings
from drivers.onvif.thumbnail import ThumbnailSchedule, make_thumbnail
from telemetry import Probe, Reading
from telemetry.thumbnails import THUMBNAIL_KEY, encode_thumbnail


@dataclass(frozen=True, slots=True)
class ProbeResult:
    device: str
    time: datetime
    check: Check
    reason: str
    data: dict[str, Any] = field(default_factory=dict)
    clock_offset_s: float | None = None  # measured during this probe
    latency_ms: float | None = None      # of the snapshot request, when one was answered

    @property
    def ok(self) -> bool:
        return self.check is Check.OK

    @property
    def outcome(self) -> Outcome:
        if self.check is Check.OK:
            return Outcome.OK
        if self.check in (Check.TIMEOUT, Check.UNREACHABLE):
            return Outcome.FAILED
        return Outcome.DEGRADED

    def items(self) -> list[Probe | Reading]:
        """The Probe item and the readings this probe produced."""
        out: list[Probe | Reading] = [Probe(self.device, self.time, self.ok, self.reason,
                                            {"check": str(self.check), **self.data})]
        if self.clock_offset_s is not None:
            out.append(Reading(self.device, "clock_offset_s", self.time,
                               round(self.clock_offset_s, 2)))
        if self.latency_ms is not None:
            out.append(Reading(self.device, "probe_latency_ms", self.time,
                               round(self.latency_ms, 1)))
        return out


class Prober(Protocol):
    """What the driver's scheduler needs of a camera prober (tests give it fakes)."""

    async def probe(self) -> ProbeResult: ...

    async def close(self) -> None: ...


class CameraProber:
    """Probes one camera again and again; keeps its session, the previous JPEG's hash and
    when it last sent a thumbnail (`clock`: monotonic seconds, for that schedule)."""

    def __init__(self, camera: Camera, settings: OnvifSettings,
                 http: aiohttp.ClientSession, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.camera = camera
        self.settings = settings
        self.link = CameraLink(camera, settings.timeout, http)
        self.previous_sha256: str | None = None
        self.thumbnails = ThumbnailSchedule(settings.thumbnail_every, clock) \
            if settings.thumbnails else None
        self._clock_reads = 0

    async def probe(self) -> ProbeResult:
        """Never raises for anything the camera does; bugs propagate."""
        started = datetime.now(UTC)
        self._clock_reads = self.link.clock_reads
        try:
            await self._session_ready()
            snapshot = await self._snapshot()
        except NotAuthorized:
            reason = await self._explain_refusal()
            await self.link.close()
            return self._result(started, Check.AUTH, reason, None)
        except ProbeFailure as failure:
            answered = failure.snapshot if isinstance(failure, _SnapshotFailure) else None
            return self._result(started, failure.check, failure.reason, answered)
        # Decoding a JPEG is CPU work: keep it off the event loop so other cameras' I/O
        # goes on while it runs.
        verdict = await asyncio.to_thread(inspect_picture, snapshot.body, self.settings.checks,
                                          self.previous_sha256)
        self.previous_sha256 = verdict.data["sha256"]
        data = verdict.data
        if self.thumbnails is not None and self.thumbnails.due(verdict.check):
            thumbnail = await asyncio.to_thread(make_thumbnail, snapshot.body)
            if thumbnail is not None:
                data = {**data, THUMBNAIL_KEY: encode_thumbnail(thumbnail)}
                self.thumbnails.sent(verdict.check)
        return self._result(started, verdict.check, verdict.reason, snapshot, data)

    async def close(self) -> None:
        await self.link.close()

    def _result(self, started: datetime, check: Check, reason: str,
                snapshot: Snapshot | None, data: dict[str, Any] | None = None) -> ProbeResult:
        values = dict(data or {})
        if snapshot is not None:
            values["latency_ms"] = round(snapshot.latency_ms, 1)
            values.setdefault("bytes", len(snapshot.body))
        return ProbeResult(self.camera.id, started, check, reason, values,
                           self.link.offset if self.link.clock_reads > self._clock_reads
                           else None,
                           snapshot.latency_ms if snapshot is not None else None)

    async def _session_ready(self) -> None:
        link = self.link
        try:
            if not link.connected:
                await link.connect()
                return
            await link.read_clock()
            if link.offset_drifted():
                # The camera's clock moved since we connected: sign with the new offset.
                await link.connect()
            else:
                await link.check_credentials()
        except NotAuthorized:
            raise
        except ProbeFailure:
            await link.close()  # start afresh next time: the camera may have rebooted
            raise

    async def _snapshot(self) -> Snapshot:
        link = self.link
        if link.snapshot_uri is None:
            try:
                await link.refresh_media()
            except ProbeFailure:
                await link.close()
                raise
        try:
            snapshot = await link.fetch_snapshot()
        except ProbeFailure as failure:
            if failure.check is not Check.TIMEOUT:
                link.forget_snapshot_uri()  # ask for it again next time
            raise
        if snapshot.status == 401:
            if snapshot.scheme is None:
                raise _SnapshotFailure(Check.HTTP_ERROR, f"the snapshot answered HTTP 401 "
                                       f"asking for {snapshot.offered}, which the gateway "
                                       "cannot answer (it speaks HTTP Basic and Digest with "
                                       "MD5 or SHA-256); set the camera's web authentication "
                                       "to Digest or Basic", snapshot)
            who = f"user {self.camera.username!r}"
            raise _SnapshotFailure(Check.AUTH, "wrong credentials: camera refused the snapshot "
                                   f"with HTTP 401 under {SCHEME_NAMES[snapshot.scheme]} "
                                   f"({who}) although ONVIF accepted them; check "
                                   f"options.username/password of {self.camera.id}", snapshot)
        if not 200 <= snapshot.status < 300:
            link.forget_snapshot_uri()
            raise _SnapshotFailure(Check.HTTP_ERROR, f"snapshot answered HTTP "
                                   f"{snapshot.status} at {link.snapshot_uri or 'its URI'}; the "
                                   "URI is asked for again next probe", snapshot)
        return snapshot

    async def _explain_refusal(self) -> str:
        """Tell wrong credentials from a clock we could not correct for: HTTP Basic or
        Digest on the snapshot carries no timestamp, so if it accepts the same credentials
        the password is right and the clock is to blame."""
        login_ok: bool | None = None
        scheme: str | None = None
        if self.link.snapshot_uri is not None:
            try:
                snapshot = await self.link.fetch_snapshot()
            except ProbeFailure:
                snapshot = None
            if snapshot is not None and snapshot.status == 401 and snapshot.scheme:
                login_ok, scheme = False, SCHEME_NAMES[snapshot.scheme]
            elif snapshot is not None and 200 <= snapshot.status < 300:
                login_ok = True
        return auth_reason(self.camera.id, self.camera.username, self.link.offset, login_ok,
                           scheme)


class _SnapshotFailure(ProbeFailure):
    """A snapshot answered, but not with a picture; keeps the answer for the Probe data."""

    def __init__(self, check: Check, reason: str, snapshot: Snapshot) -> None:
        super().__init__(check, reason)
        self.snapshot = snapshot
