"""The thumbnails camera probes carry, kept apart from the probes themselves.

A probe's `data` may hold a small JPEG (`telemetry.thumbnails`). It must not go into the
`probes` history (kept for months, one row per probe) nor into the latest probe on
`device_status` (rewritten at every batch), so the writer takes it out of the item here
and this module stores it in `probe_pictures`, keeping only the newest `PICTURES_KEPT`
per camera. The latest picture of a camera is then one lookup of that table's primary key.

A thumbnail that breaks the contract (not base64, not a JPEG, too large) is left out and
the probe keeps its verdict, with `thumbnail_refused` saying why: a picture is evidence
for people, the verdict is what the indicators count.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Final

import asyncpg

from telemetry import Probe
from telemetry.thumbnails import THUMBNAIL_KEY, ThumbnailError, decode_thumbnail

#: Pictures kept per camera: the latest, and a few before it to compare with.
PICTURES_KEPT: Final = 6
_CHECK_CHARS: Final = 40

#: (community, device, time, gateway, ok, check, jpeg)
PictureRow = tuple[str, str, datetime, str, bool, str, bytes]


class ProbePictures:
    """The pictures of one batch, taken out of its probes as the writer goes."""

    def __init__(self) -> None:
        self.rows: list[PictureRow] = []

    def take(self, community: str, gateway: str, probe: Probe) -> Probe:
        """`probe` without its thumbnail (the same object when it carries none)."""
        if THUMBNAIL_KEY not in probe.data:
            return probe
        data = dict(probe.data)
        text = data.pop(THUMBNAIL_KEY)
        try:
            jpeg = decode_thumbnail(text)
        except ThumbnailError as exc:
            data["thumbnail_refused"] = str(exc)
        else:
            check = data.get("check", "")
            self.rows.append((community, probe.device, probe.time, gateway, probe.ok,
                              check[:_CHECK_CHARS] if isinstance(check, str) else "", jpeg))
        return dataclasses.replace(probe, data=data)


async def store_pictures(conn: asyncpg.Connection, rows: list[PictureRow],
                         kept: int = PICTURES_KEPT) -> None:
    """Insert `rows` and remove their cameras' pictures older than the newest `kept`
    (inside the writer's transaction)."""
    if not rows:
        return
    columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)]
    await conn.execute(
        """INSERT INTO probe_pictures (community, device, time, gateway, ok, check_name, jpeg)
           SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[],
                                $5::bool[], $6::text[], $7::bytea[])
           ON CONFLICT DO NOTHING""", *columns)
    cameras = sorted({(r[0], r[1]) for r in rows})
    await conn.execute(
        """DELETE FROM probe_pictures p
           USING (SELECT community, device, time,
                         row_number() OVER (PARTITION BY community, device
                                            ORDER BY time DESC) AS newer
                  FROM probe_pictures
                  WHERE (community, device) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                 ) old
           WHERE old.newer > $3 AND p.community = old.community AND p.device = old.device
             AND p.time = old.time""",
        [c for c, _ in cameras], [d for _, d in cameras], kept)
