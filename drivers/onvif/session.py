"""One camera's ONVIF conversation: connect (clock offset, services, device information,
media profile, snapshot URI), read its clock again, check the credentials, fetch a snapshot.

Every request is bounded by the driver's `timeout`. The clock offset is measured from
GetSystemDateAndTime (which cameras answer without authentication) and handed to the
ONVIF client, which then dates every WS-Security UsernameToken on the camera's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
import zeep.exceptions
from onvif import ONVIFCamera
from yarl import URL

from drivers.onvif.failures import ProbeFailure, classify
from drivers.onvif.httpauth import Challenge, SnapshotLogin, parse_challenges
from drivers.onvif.picture import Check
from drivers.onvif.settings import Camera, CameraAddress

T = TypeVar("T")

#: A measured offset further than this from the one the client signs with means the
#: camera's clock was set (or jumped): reconnect so tokens follow it.
OFFSET_DRIFT_S = 2.0
MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024


class OnvifClient(ONVIFCamera):  # type: ignore[misc]  # the library is untyped
    """ONVIFCamera that talks to the device service at the configured URL.

    The library builds the device-service URL as host:port/onvif/device_service; some
    cameras (and proxies) serve it elsewhere, and the config gives the full URL.
    """

    def __init__(self, address: CameraAddress, user: str, passwd: str) -> None:
        # no_cache: the shared WSDL cache is an SQLite file in the user's cache folder,
        # which a service account may not be able to write; the WSDLs are local anyway.
        super().__init__(address.host, address.port, user, passwd, no_cache=True,
                         adjust_time=True)
        self.device_url = address.url

    def get_definition(self, name: str, port_type: str | None = None) -> tuple[str, str, str]:
        xaddr, wsdl, binding = super().get_definition(name, port_type)
        return (self.device_url if name == "devicemgmt" else xaddr), wsdl, binding


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The snapshot URL's last answer. For a 401: `scheme` is the scheme (basic, digest) the
    refused request answered, None when the camera asked for none we speak (`offered`)."""

    status: int
    body: bytes
    latency_ms: float
    scheme: str | None = None
    offered: str = ""


def _camera_time(answer: Any) -> datetime | None:
    """UTC time from a GetSystemDateAndTime answer, or None when it gives none."""
    try:
        utc = answer.UTCDateTime
        return datetime(utc.Date.Year, utc.Date.Month, utc.Date.Day, utc.Time.Hour,
                        utc.Time.Minute, utc.Time.Second, tzinfo=UTC)
    except (AttributeError, TypeError, ValueError):
        return None


class CameraLink:
    """The driver's connection to one camera; reconnects lazily after any SOAP failure."""

    def __init__(self, camera: Camera, timeout: float, http: aiohttp.ClientSession) -> None:
        self.camera = camera
        self.timeout = timeout
        self.where = f"{camera.address.host}:{camera.address.port}"
        self._http = http
        # One per camera: it remembers the scheme and challenge the snapshot asked for, so
        # later snapshots authenticate in one round trip instead of two.
        self.login = SnapshotLogin(camera.username, camera.password)
        self._client: OnvifClient | None = None
        #: the camera's clock minus ours in seconds, as last measured (None: never read)
        self.offset: float | None = None
        #: GetDeviceInformation as last read
        self.info: dict[str, Any] = {}
        self.profile_token: str | None = None
        self.snapshot_uri: str | None = None
        #: times the clock offset was measured
        self.clock_reads = 0
        #: sessions opened so far (connect = clock, services, device info, media)
        self.connects = 0

    @property
    def connected(self) -> bool:
        return self._client is not None

    @property
    def applied_offset(self) -> float | None:
        """The offset the client dates its tokens with (None: not connected / not read)."""
        diff = self._client.dt_diff if self._client is not None else None
        return diff.total_seconds() if diff is not None else None

    async def _call(self, step: str, request: Callable[[], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.timeout):
                return await request()
        except Exception as exc:
            raise classify(exc, step, self.where, self.timeout) from exc

    # ------------------------------------------------------------ session

    async def connect(self) -> None:
        """Open a session: read the clock, find the services, check the credentials with
        GetDeviceInformation, then find the snapshot URI. Raises ProbeFailure."""
        await self.close()
        client = OnvifClient(self.camera.address, self.camera.username, self.camera.password)
        self._client = client
        self.connects += 1
        try:
            # update_xaddrs reads GetSystemDateAndTime first and keeps the offset (dt_diff)
            # for every service it creates from then on.
            await self._call("GetSystemDateAndTime/GetServices", client.update_xaddrs)
        except ProbeFailure:
            self._note_offset(self.applied_offset)
            await self.close()
            raise
        self._note_offset(self.applied_offset)
        try:
            await self.check_credentials()
            await self.refresh_media()
        except ProbeFailure:
            await self.close()
            raise

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            # Closing only releases local sockets; never let it hide the real outcome.
            with contextlib.suppress(Exception):
                await client.close()

    def _require(self) -> OnvifClient:
        if self._client is None:
            raise ProbeFailure(Check.UNREACHABLE, f"not connected to {self.where}")
        return self._client

    # ------------------------------------------------------------ requests

    async def read_clock(self) -> float | None:
        """Measure the offset again (unauthenticated, as cameras allow). None when the
        camera would not say; the old value stays in `offset`."""
        client = self._require()
        service = await self._call("GetSystemDateAndTime", client.create_devicemgmt_service)
        sent = time.time()
        try:
            answer = await self._call("GetSystemDateAndTime",
                                      service.authless_GetSystemDateAndTime)
        except ProbeFailure as failure:
            if failure.check is not Check.AUTH and failure.check is not Check.HTTP_ERROR:
                raise
            try:
                answer = await self._call("GetSystemDateAndTime", service.GetSystemDateAndTime)
            except ProbeFailure as again:
                if again.check in (Check.TIMEOUT, Check.UNREACHABLE):
                    raise
                return None
        received = time.time()
        camera_now = _camera_time(answer)
        if camera_now is None:
            return None
        # The camera reports whole seconds: the true time is on average half a second
        # later; our side of the exchange is its midpoint.
        self._note_offset(camera_now.timestamp() + 0.5 - (sent + received) / 2)
        return self.offset

    def _note_offset(self, offset: float | None) -> None:
        if offset is not None:
            self.offset = offset
            self.clock_reads += 1

    def offset_drifted(self) -> bool:
        applied = self.applied_offset or 0.0
        return self.offset is not None and abs(self.offset - applied) > OFFSET_DRIFT_S

    async def check_credentials(self) -> dict[str, Any]:
        """GetDeviceInformation: an authenticated call, so it proves credentials and clock."""
        client = self._require()
        service = await self._call("GetDeviceInformation", client.create_devicemgmt_service)
        answer = await self._call("GetDeviceInformation", service.GetDeviceInformation)
        self.info = {k: getattr(answer, k, None) for k in
                     ("Manufacturer", "Model", "FirmwareVersion", "SerialNumber", "HardwareId")}
        return self.info

    async def refresh_media(self) -> str:
        """Find the first media profile and its snapshot URI (cached until a fetch fails)."""
        client = self._require()
        media = await self._call("GetProfiles", client.create_media_service)
        profiles = await self._call("GetProfiles", media.GetProfiles)
        tokens = [getattr(p, "token", None) for p in profiles or []]
        tokens = [t for t in tokens if t]
        if not tokens:
            raise ProbeFailure(Check.HTTP_ERROR, "camera has no media profile to take a "
                               "snapshot from; configure one on the camera")
        answer = await self._call("GetSnapshotUri",
                                  lambda: media.GetSnapshotUri({"ProfileToken": tokens[0]}))
        uri = getattr(answer, "Uri", None)
        if not isinstance(uri, str) or not uri.startswith(("http://", "https://")):
            raise ProbeFailure(Check.HTTP_ERROR, f"camera gave no usable snapshot URI for "
                               f"profile {tokens[0]} (got {uri!r})")
        self.profile_token, self.snapshot_uri = tokens[0], uri
        return uri

    def forget_snapshot_uri(self) -> None:
        self.snapshot_uri = None

    async def fetch_snapshot(self) -> Snapshot:
        """GET the snapshot URI in the HTTP scheme the camera asks for (Basic or Digest);
        any status comes back, the caller judges.

        A request sent with a remembered challenge that is refused is sent once more
        answering the new challenge: a 401 means wrong credentials only when it refuses an
        answer to a challenge of this same fetch (a remembered nonce may have expired).
        """
        uri = self.snapshot_uri
        if uri is None:
            raise ProbeFailure(Check.HTTP_ERROR, "no snapshot URI known")
        started = time.perf_counter()
        login = self.login
        try:
            target = URL(uri).raw_path_qs
            async with asyncio.timeout(self.timeout):
                status, body, challenges = await self._get(
                    uri, login.authorization("GET", target))
                offered = ""
                if status == 401:
                    retry = login.answer(challenges, "GET", target)
                    if retry is None:
                        offered = login.offered(challenges)
                    else:
                        status, body, _ = await self._get(uri, retry)
        except (ProbeFailure, zeep.exceptions.Error):
            raise
        except Exception as exc:
            raise classify(exc, "snapshot", self.where, self.timeout) from exc
        return Snapshot(status, body, (time.perf_counter() - started) * 1000,
                        None if offered else login.scheme, offered)

    async def _get(self, uri: str, authorization: str | None
                   ) -> tuple[int, bytes, list[Challenge]]:
        headers = {"Authorization": authorization} if authorization else {}
        async with self._http.get(uri, headers=headers,
                                  timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_SNAPSHOT_BYTES:
                    raise ProbeFailure(Check.NOT_JPEG, f"snapshot is larger than "
                                       f"{MAX_SNAPSHOT_BYTES // 2**20} MiB; not a picture")
            challenges = (parse_challenges(response.headers.getall("WWW-Authenticate", []))
                          if response.status == 401 else [])
            return response.status, bytes(body), challenges
