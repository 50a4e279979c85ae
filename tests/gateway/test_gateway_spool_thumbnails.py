"""Probes carrying picture thumbnails (about 27 KB of base64 each) through the spool: its
byte count includes them, and envelopes stay within the 1 MiB ingest accepts however many
cameras failed at once."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.spool import Spool
from telemetry import DEFAULT_LIMITS, Probe, decode, encode_raw_items
from telemetry.thumbnails import THUMBNAIL_KEY, THUMBNAIL_MAX_BYTES, encode_thumbnail

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def big_probe(n: int) -> Probe:
    jpeg = b"\xff\xd8" + os.urandom(THUMBNAIL_MAX_BYTES - 2)  # the largest allowed
    return Probe(f"cam-{n:03d}", T0 + timedelta(seconds=n), False, "picture black",
                 {"check": "black", THUMBNAIL_KEY: encode_thumbnail(jpeg)})


def test_thumbnails_count_in_the_spool_and_envelopes_stay_within_the_limit(
        tmp_path: Path) -> None:
    cameras = 120  # every camera of a community failing at once
    with Spool(tmp_path / "spool.sqlite", 64 * 2**20) as spool:
        for n in range(cameras):
            spool.put(big_probe(n))
        spool.flush()
        assert spool.stats().bytes > cameras * THUMBNAIL_MAX_BYTES * 4 // 3
        sent = 0
        while (batch := spool.next_batch(500)) is not None:
            payload = encode_raw_items("demo", "demo-gw1", batch.seq, T0, batch.bodies)
            assert len(payload) <= DEFAULT_LIMITS.max_bytes
            decoded = decode(payload, now=T0 + timedelta(hours=1))
            assert decoded.rejected == ()
            sent += len(decoded.envelope.items)
            spool.ack(batch.seq)
        assert sent == cameras
        assert spool.stats().items == 0 and spool.stats().bytes == 0
