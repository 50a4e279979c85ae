"""Snapshots behind HTTP Digest, fetched with the real onvif-zeep-async client (and httpx),
decoded with Pillow: live, black, blank, frozen and corrupt pictures."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from onvif import ONVIFCamera
from onvif.exceptions import ONVIFAuthError
from PIL import Image

from simulators.onvif import CameraFarm, CameraSpec, Fault


@pytest.fixture
async def farm() -> AsyncIterator[CameraFarm]:
    async with CameraFarm([CameraSpec("cam-001"), CameraSpec("cam-002")]) as f:
        yield f


@pytest.fixture
async def cam(farm: CameraFarm) -> AsyncIterator[ONVIFCamera]:
    client = ONVIFCamera("127.0.0.1", farm.camera("cam-001").port, "admin", "admin123",
                         adjust_time=True)
    await client.update_xaddrs()
    yield client
    await client.close()


def grey(jpeg: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as image:
        return np.asarray(image.convert("L"), dtype=np.float64)


async def snapshot(cam: ONVIFCamera) -> bytes:
    data = await cam.get_snapshot("Profile_1")
    assert data is not None
    return data


async def test_live_pictures_are_jpegs_that_change_on_every_fetch(cam: ONVIFCamera) -> None:
    first, second = await snapshot(cam), await snapshot(cam)
    assert first[:3] == b"\xff\xd8\xff" and first != second
    a, b = grey(first), grey(second)
    assert a.shape == (360, 640)
    assert 30 < a.mean() < 225 and a.std() > 5
    assert np.abs(a - b).mean() > 1


async def test_black_picture_is_dark(farm: CameraFarm, cam: ONVIFCamera) -> None:
    farm.set_fault("cam-001", Fault.BLACK)
    assert grey(await snapshot(cam)).mean() < 30
    farm.set_fault("cam-001", Fault.BLACK, False)
    assert grey(await snapshot(cam)).mean() > 30


async def test_blank_picture_is_uniform(farm: CameraFarm, cam: ONVIFCamera) -> None:
    farm.set_fault("cam-001", Fault.BLANK)
    picture = grey(await snapshot(cam))
    assert picture.std() < 5 and 100 < picture.mean() < 160


async def test_frozen_picture_is_byte_identical_until_cleared(farm: CameraFarm,
                                                               cam: ONVIFCamera) -> None:
    farm.set_fault("cam-001", Fault.FROZEN)
    frozen = [await snapshot(cam) for _ in range(3)]
    assert frozen[0] == frozen[1] == frozen[2]
    assert grey(frozen[0]).std() > 5              # a normal-looking picture, just stuck
    farm.set_fault("cam-001", Fault.FROZEN, None)
    assert await snapshot(cam) != frozen[0]


async def test_corrupt_picture_looks_like_a_jpeg_but_does_not_decode(
        farm: CameraFarm, cam: ONVIFCamera) -> None:
    farm.set_fault("cam-001", Fault.CORRUPT_JPEG)
    data = await snapshot(cam)
    assert data[:3] == b"\xff\xd8\xff" and len(data) > 500
    with pytest.raises(OSError, match="truncated"):
        grey(data)


async def test_wrong_password_makes_the_snapshot_answer_401(farm: CameraFarm,
                                                            cam: ONVIFCamera) -> None:
    await snapshot(cam)     # the client has the snapshot URI cached now
    farm.set_fault("cam-001", Fault.WRONG_PASSWORD)
    with pytest.raises(ONVIFAuthError):
        await cam.get_snapshot("Profile_1")
    farm.clear_faults("cam-001")
    assert (await snapshot(cam))[:3] == b"\xff\xd8\xff"


async def test_snapshot_url_challenges_with_digest_and_accepts_httpx_digest(
        farm: CameraFarm) -> None:
    url = farm.camera("cam-002").snapshot_url("Profile_1")
    async with httpx.AsyncClient() as http:
        bare = await http.get(url)
        assert bare.status_code == 401
        challenge = bare.headers["www-authenticate"]
        assert challenge.startswith("Digest ") and 'qop="auth"' in challenge
        assert "algorithm=MD5" in challenge and "nonce=" in challenge
        wrong = await http.get(url, auth=httpx.DigestAuth("admin", "nope"))
        assert wrong.status_code == 401
        good = await http.get(url, auth=httpx.DigestAuth("admin", "admin123"))
        assert good.status_code == 200 and good.headers["content-type"] == "image/jpeg"
        assert grey(good.content).shape == (360, 640)
