"""The simulated camera's device and media services, driven by the real onvif-zeep-async
client: identity, services, profiles, URIs, and the auth / clock / reachability faults."""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
import httpx
import pytest
import zeep.exceptions
from onvif import ONVIFCamera

from simulators.onvif import CameraFarm, CameraSpec, Fault

MakeClient = Callable[..., Awaitable[ONVIFCamera]]
TER = "http://www.onvif.org/ver10/error"


@pytest.fixture
async def farm() -> AsyncIterator[CameraFarm]:
    specs = [CameraSpec("cam-001"), CameraSpec("cam-002", manufacturer="Hik", model="DS-2CD",
                                                serial="SN42", password="s3cret")]
    async with CameraFarm(specs) as f:
        yield f


@pytest.fixture
async def client(farm: CameraFarm) -> AsyncIterator[MakeClient]:
    made: list[ONVIFCamera] = []

    async def make(cam_id: str = "cam-001", *, password: str = "admin123",
                   adjust_time: bool = True) -> ONVIFCamera:
        cam = ONVIFCamera("127.0.0.1", farm.camera(cam_id).port, "admin", password,
                          adjust_time=adjust_time)
        made.append(cam)
        return cam

    yield make
    for cam in made:
        await cam.close()


def assert_not_authorized(fault: zeep.exceptions.Fault) -> None:
    assert [(q.namespace, q.localname) for q in fault.subcodes] == [(TER, "NotAuthorized")]
    assert fault.code is not None and fault.code.endswith("Sender")


async def test_device_information_services_and_capabilities(
        farm: CameraFarm, client: MakeClient) -> None:
    cam = await client("cam-002", password="s3cret")
    await cam.update_xaddrs()
    port = farm.camera("cam-002").port
    base = f"http://127.0.0.1:{port}/onvif"
    assert cam.xaddrs == {"http://www.onvif.org/ver10/device/wsdl": f"{base}/device_service",
                          "http://www.onvif.org/ver10/media/wsdl": f"{base}/media_service",
                          "http://www.onvif.org/ver10/events/wsdl": f"{base}/event_service"}
    assert farm.device_url("cam-002") == f"{base}/device_service"
    info = await (await cam.create_devicemgmt_service()).GetDeviceInformation()
    assert (info.Manufacturer, info.Model, info.SerialNumber) == ("Hik", "DS-2CD", "SN42")
    caps = await cam.get_capabilities()
    assert caps is not None
    assert caps["Events"]["WSPullPointSupport"] is True
    assert caps["Media"]["XAddr"] == f"{base}/media_service"


async def test_profiles_stream_and_snapshot_uris(farm: CameraFarm, client: MakeClient) -> None:
    cam = await client()
    await cam.update_xaddrs()
    media = await cam.create_media_service()
    profiles = await media.GetProfiles()
    assert [(p.token, p.VideoEncoderConfiguration.Resolution.Width,
             p.VideoEncoderConfiguration.Encoding) for p in profiles] == [
        ("Profile_1", 1920, "H264"), ("Profile_2", 640, "H264")]
    stream = await media.GetStreamUri({"ProfileToken": "Profile_2", "StreamSetup": {
        "Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}})
    assert stream.Uri == "rtsp://127.0.0.1:554/cam-001/substream"
    port = farm.camera("cam-001").port
    assert await cam.get_snapshot_uri("Profile_1") == \
        f"http://127.0.0.1:{port}/onvif/snapshot?profile=Profile_1"
    with pytest.raises(zeep.exceptions.Fault) as err:
        await media.GetSnapshotUri({"ProfileToken": "nope"})
    assert "no media profile 'nope'" in err.value.message


async def test_system_date_and_time_needs_no_credentials(farm: CameraFarm,
                                                         client: MakeClient) -> None:
    cam = await client(password="not-the-password", adjust_time=False)
    devicemgmt = await cam.create_devicemgmt_service()
    answer = await devicemgmt.authless_GetSystemDateAndTime()
    utc = answer.UTCDateTime
    camera_time = datetime(utc.Date.Year, utc.Date.Month, utc.Date.Day, utc.Time.Hour,
                           utc.Time.Minute, utc.Time.Second, tzinfo=UTC)
    assert abs((camera_time - datetime.now(UTC)).total_seconds()) < 2
    assert answer.TimeZone.TZ == "CST-8"
    assert (answer.LocalDateTime.Time.Hour - utc.Time.Hour) % 24 == 8


async def test_wrong_password_is_refused_with_not_authorized_then_recovers(
        farm: CameraFarm, client: MakeClient) -> None:
    cam = await client()
    farm.set_fault("cam-001", Fault.WRONG_PASSWORD)
    with pytest.raises(zeep.exceptions.Fault) as err:
        await cam.update_xaddrs()
    assert_not_authorized(err.value)
    assert "wrong user name or password" in err.value.message

    farm.set_fault("cam-001", Fault.WRONG_PASSWORD, False)
    await cam.update_xaddrs()
    info = await (await cam.create_devicemgmt_service()).GetDeviceInformation()
    assert info.Model == "SC-200"


async def test_a_client_with_the_wrong_password_is_not_authorized(client: MakeClient) -> None:
    cam = await client(password="guess")
    with pytest.raises(zeep.exceptions.Fault) as err:
        await cam.update_xaddrs()
    assert_not_authorized(err.value)


@pytest.mark.parametrize("skew", [120, -120])
async def test_clock_skew_fails_a_client_that_does_not_adjust_and_not_one_that_does(
        farm: CameraFarm, client: MakeClient, skew: int) -> None:
    farm.set_fault("cam-001", Fault.CLOCK_SKEW, skew)

    naive = await client(adjust_time=False)
    with pytest.raises(zeep.exceptions.Fault) as err:
        await naive.update_xaddrs()
    assert_not_authorized(err.value)
    assert "from the camera clock" in err.value.message

    adjusting = await client(adjust_time=True)
    await adjusting.update_xaddrs()   # reads GetSystemDateAndTime first, sets dt_diff
    assert adjusting.dt_diff is not None
    assert abs(adjusting.dt_diff.total_seconds() - skew) < 2
    profiles = await (await adjusting.create_media_service()).GetProfiles()
    assert len(profiles) == 2


async def test_unreachable_refuses_connections_and_comes_back(farm: CameraFarm,
                                                            client: MakeClient) -> None:
    cam = await client()
    await cam.update_xaddrs()            # leaves a kept-alive connection in the client's pool
    port = farm.camera("cam-001").port
    farm.set_fault("cam-001", Fault.UNREACHABLE)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    devicemgmt = await cam.create_devicemgmt_service()
    # The kept-alive connection was reset: the first call may fail on it (ClientOSError)
    # before the client notices; from then on every connect is refused.
    with pytest.raises(aiohttp.ClientOSError):
        await devicemgmt.GetDeviceInformation()
    with pytest.raises(aiohttp.ClientConnectorError) as err:
        await devicemgmt.GetDeviceInformation()
    assert err.value.os_error.errno == errno.ECONNREFUSED
    assert farm.camera("cam-002").listener.listening   # the others are untouched

    farm.set_fault("cam-001", Fault.UNREACHABLE, None)
    info = await (await cam.create_devicemgmt_service()).GetDeviceInformation()
    assert info.Manufacturer == "SimCam" and farm.camera("cam-001").port == port


async def test_slow_camera_delays_every_answer(farm: CameraFarm, client: MakeClient) -> None:
    farm.set_fault("cam-001", Fault.SLOW, 0.4)
    cam = await client()
    devicemgmt = await cam.create_devicemgmt_service()
    began = time.perf_counter()
    await devicemgmt.authless_GetSystemDateAndTime()
    assert time.perf_counter() - began >= 0.4
    farm.set_fault("cam-001", Fault.SLOW, 5)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await devicemgmt.authless_GetSystemDateAndTime()
    farm.clear_faults("cam-001")
    began = time.perf_counter()
    await devicemgmt.authless_GetSystemDateAndTime()
    assert time.perf_counter() - began < 0.4


async def test_unknown_operation_and_plain_http_answers(farm: CameraFarm) -> None:
    url = farm.device_url("cam-001")
    async with httpx.AsyncClient() as http:
        bad = await http.post(url, content=b"<not-xml")
        assert bad.status_code == 400 and b"well-formed" in bad.content
        get = await http.get(url)
        assert get.status_code == 405
        missing = await http.get(url.replace("device_service", "nothing"))
        assert missing.status_code == 404 and b"/onvif/device_service" in missing.content


def test_bad_fault_values_are_refused_with_the_expected_form() -> None:
    f = CameraFarm([CameraSpec("cam-001")])
    with pytest.raises(ValueError, match="clock_skew needs a number of seconds"):
        f.set_fault("cam-001", Fault.CLOCK_SKEW, True)
    with pytest.raises(ValueError, match="unknown fault 'smoke'"):
        f.set_fault("cam-001", "smoke")
    with pytest.raises(KeyError, match="no camera 'cam-404'"):
        f.set_fault("cam-404", Fault.BLACK)
    with pytest.raises(ValueError, match="repeated: cam-001"):
        CameraFarm([CameraSpec("cam-001"), CameraSpec("cam-001")])
