"""A camera probe's thumbnail is stored apart from the probe: the probe row and the latest
probe keep the verdict without 27 KB of base64, the picture goes to `probe_pictures`,
only the newest few per camera stay, and a thumbnail that breaks the contract is left out
with the reason while the verdict is kept."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import asyncpg
import numpy as np
import pytest
from ingest_support import T0, envelope, msg
from PIL import Image

from ingest.probe_pictures import PICTURES_KEPT
from ingest.writer import write_batch
from telemetry import Probe
from telemetry.thumbnails import THUMBNAIL_KEY, THUMBNAIL_MAX_BYTES, encode_thumbnail

pytestmark = pytest.mark.integration


def small_jpeg(level: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((90, 160), level, np.uint8), "L").save(out, "JPEG")
    return out.getvalue()


def probe(n: int, thumbnail: str | None, check: str = "black") -> Probe:
    data: dict[str, object] = {"check": check, "mean": 3.0}
    if thumbnail is not None:
        data[THUMBNAIL_KEY] = thumbnail
    return Probe("cam-01", T0 + timedelta(minutes=n), check == "ok", check, data)


async def test_the_picture_is_kept_apart_from_the_probe_and_its_latest_value(
        conn: asyncpg.Connection) -> None:
    jpeg = small_jpeg(5)
    result = await write_batch(conn, [msg(envelope(1, [probe(0, encode_thumbnail(jpeg))]))])
    assert result.probes == 1
    row = await conn.fetchrow("SELECT data FROM probes WHERE device = 'cam-01'")
    assert json.loads(row["data"]) == {"check": "black", "mean": 3.0}
    latest = await conn.fetchval("SELECT probe_data FROM device_status WHERE device = 'cam-01'")
    assert THUMBNAIL_KEY not in json.loads(latest)
    picture = await conn.fetchrow("SELECT * FROM probe_pictures")
    assert (picture["community"], picture["device"], picture["gateway"]) == (
        "demo", "cam-01", "demo-gw1")
    assert (picture["time"], picture["ok"], picture["check_name"]) == (T0, False, "black")
    assert bytes(picture["jpeg"]) == jpeg


async def test_only_the_newest_pictures_of_a_camera_are_kept(conn: asyncpg.Connection) -> None:
    pictures = [encode_thumbnail(small_jpeg(10 * n)) for n in range(PICTURES_KEPT + 3)]
    # Out of order and over two batches: what stays is the newest by probe time.
    order = list(range(len(pictures)))[::-1]
    await write_batch(conn, [msg(envelope(1, [probe(n, pictures[n]) for n in order[:4]]))])
    await write_batch(conn, [msg(envelope(2, [probe(n, pictures[n]) for n in order[4:]]))])
    times = [r["time"] for r in await conn.fetch(
        "SELECT time FROM probe_pictures ORDER BY time DESC")]
    newest = len(pictures) - 1
    assert times == [T0 + timedelta(minutes=newest - k) for k in range(PICTURES_KEPT)]
    assert await conn.fetchval("SELECT count(*) FROM probes") == len(pictures)


@pytest.mark.parametrize(("thumbnail", "why"), [
    ("not base64!", "is not base64"),
    (base64.b64encode(b"GIF89a....").decode(), "is not a JPEG (starts with 47 49 46 38"),
    (base64.b64encode(b"\xff\xd8" + bytes(THUMBNAIL_MAX_BYTES)).decode(),
     "characters of base64, more than a JPEG of 20480 bytes needs"),
])
async def test_a_thumbnail_breaking_the_contract_is_left_out_and_the_verdict_kept(
        conn: asyncpg.Connection, thumbnail: str, why: str) -> None:
    result = await write_batch(conn, [msg(envelope(1, [probe(0, thumbnail)]))])
    assert (result.probes, result.dead_letters) == (1, 0)
    data = json.loads(await conn.fetchval("SELECT data FROM probes"))
    assert THUMBNAIL_KEY not in data
    assert why in data["thumbnail_refused"]
    assert await conn.fetchval("SELECT count(*) FROM probe_pictures") == 0
