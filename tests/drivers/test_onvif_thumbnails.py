"""Camera probes carry a small picture: at most 20 KB of JPEG, sent when the picture check's
verdict changes and otherwise once an hour, so the centre can show the black or frozen
picture an indicator counted; a black camera of the simulator farm ends up in the
`probe_pictures` table through the real driver and the real writer."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import numpy as np
import pytest
from ingest_support import envelope, msg
from onvif_farm import CameraSink, devices_for, eventually
from onvif_support import flat, scene
from PIL import Image

from drivers.base import DriverConfigError
from drivers.onvif import OnvifDriver
from drivers.onvif.picture import Check
from drivers.onvif.probe import CameraProber
from drivers.onvif.settings import parse_cameras, parse_settings
from drivers.onvif.thumbnail import ThumbnailSchedule, make_thumbnail
from ingest.writer import write_batch
from simulators.onvif import CameraFarm, CameraSpec, Fault
from telemetry.thumbnails import THUMBNAIL_KEY, THUMBNAIL_MAX_BYTES, decode_thumbnail


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def noise(width: int, height: int) -> bytes:
    """The hardest picture to make small: random colour noise at quality 95."""
    rng = np.random.default_rng(7)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), np.uint8), "RGB") \
        .save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.mark.parametrize("picture", [scene(), flat(3.0), noise(640, 360), noise(2560, 1440)],
                         ids=["scene", "black", "noise-640", "noise-2560"])
def test_a_thumbnail_is_a_small_jpeg_of_the_picture(picture: bytes) -> None:
    thumbnail = make_thumbnail(picture)
    assert thumbnail is not None and thumbnail.startswith(b"\xff\xd8")
    assert len(thumbnail) <= THUMBNAIL_MAX_BYTES
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert image.format == "JPEG" and max(image.size) <= 320


def test_no_thumbnail_of_a_picture_that_does_not_decode() -> None:
    assert make_thumbnail(b"\xff\xd8\xff\xe0 broken") is None
    assert make_thumbnail(b"") is None


def test_the_schedule_sends_on_a_change_of_verdict_else_once_per_period() -> None:
    clock = FakeClock()
    schedule = ThumbnailSchedule(3600, clock)
    sent: list[tuple[float, str]] = []

    def probe(check: Check) -> None:
        if schedule.due(check):
            schedule.sent(check)
            sent.append((clock.now - 1000, str(check)))
        clock.now += 60

    for _ in range(120):  # two hours of a good camera probed every minute
        probe(Check.OK)
    assert sent == [(0, "ok"), (3600, "ok")]
    sent.clear()
    for check in [Check.BLACK] * 5 + [Check.FROZEN] * 3 + [Check.OK] * 2:
        probe(check)
    assert [c for _, c in sent] == ["black", "frozen", "ok"]  # each change, once
    for check in (Check.TIMEOUT, Check.AUTH, Check.CORRUPT, Check.NOT_JPEG):
        assert not schedule.due(check)  # no picture to show


def test_thumbnail_settings_are_checked() -> None:
    assert parse_settings({}).thumbnails is True
    assert parse_settings({}).thumbnail_every == 3600
    assert parse_settings({"thumbnails": False, "thumbnail_every": "30m"}).thumbnail_every == 1800
    with pytest.raises(DriverConfigError, match="'thumbnails': expected true or false"):
        parse_settings({"thumbnails": "yes"})
    with pytest.raises(DriverConfigError, match="'thumbnail_every': expected a duration"):
        parse_settings({"thumbnail_every": "hourly"})


async def probed(farm: CameraFarm, clock: Callable[[], float], cameras: list[str],
                 probes: int, settings: dict[str, object] | None = None) -> CameraSink:
    """Run the driver on `cameras` until each was probed `probes` times."""
    driver = OnvifDriver(
        parse_settings({"timeout": "1s", "events": False, **(settings or {})}),
        parse_cameras(devices_for(farm, 0.05, ids=cameras)),
        prober_factory=functools.partial(CameraProber, clock=clock))
    sink = CameraSink()
    task = asyncio.create_task(driver.run(sink))
    try:
        await eventually(lambda: all(len(sink.probes(c)) >= probes for c in cameras),
                         f"{probes} probes of {cameras}", within=20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return sink


@pytest.mark.integration
async def test_a_black_camera_sends_its_picture_and_a_healthy_one_once_an_hour(
        loaded: str) -> None:
    clock = FakeClock()
    specs = [CameraSpec("cam-01", faults={Fault.BLACK: True}), CameraSpec("cam-ok")]
    async with CameraFarm(specs) as farm:
        sink = await probed(farm, clock, ["cam-01", "cam-ok"], 6)
        black = sink.probes("cam-01")
        with_picture = [p for p in black if THUMBNAIL_KEY in p.data]
        assert [p.data["check"] for p in with_picture] == ["black"]  # the first, then none
        jpeg = decode_thumbnail(with_picture[0].data[THUMBNAIL_KEY])
        assert len(jpeg) <= THUMBNAIL_MAX_BYTES
        good = sink.probes("cam-ok")
        assert [THUMBNAIL_KEY in p.data for p in good][:6] == [True] + [False] * 5
        clock.now += 3600  # an hour later: one more, then none again
        sink = await probed(farm, clock, ["cam-ok"], 4)
        # A new driver (a restarted gateway) sends at its first probe: then the hour.
        assert [THUMBNAIL_KEY in p.data for p in sink.probes("cam-ok")][:4] == \
            [True, False, False, False]
        off = await probed(farm, clock, ["cam-01"], 2, {"thumbnails": False})
        assert not any(THUMBNAIL_KEY in p.data for p in off.probes("cam-01"))
    # Through the writer, into the table: the picture the indicator counted as black.
    conn = await asyncpg.connect(loaded)
    try:
        result = await write_batch(conn, [msg(envelope(1, black), now=datetime.now(UTC))])
        assert result.probes == len(black)
        row = await conn.fetchrow("SELECT check_name, ok, length(jpeg) AS size, jpeg "
                                  "FROM probe_pictures WHERE device = 'cam-01'")
    finally:
        await conn.close()
    assert (row["check_name"], row["ok"]) == ("black", False)
    assert row["size"] <= THUMBNAIL_MAX_BYTES and bytes(row["jpeg"]) == jpeg
    with Image.open(io.BytesIO(jpeg)) as image:
        assert np.asarray(image.convert("L")).mean() < 30
