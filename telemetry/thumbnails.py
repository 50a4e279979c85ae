"""The picture a camera probe may carry: a small JPEG of what the camera showed, so that an
operator sees the black or frozen picture an indicator counted, not just the word.

It travels inside the Probe item's `data` as base64 text under `THUMBNAIL_KEY` (item data
must be JSON), at most `THUMBNAIL_MAX_BYTES` of JPEG: small next to the 1 MiB envelope,
and a spool's byte cap and the uplink's envelope size count it like any other item text.
Ingest keeps it apart from the probe row (a history row must not grow by 27 KB), and
refuses one that is not such a JPEG without losing the probe's verdict.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Final

#: The key of the Probe data holding the thumbnail, base64 (RFC 4648, with padding).
THUMBNAIL_KEY: Final = "thumbnail_jpeg"
#: The largest thumbnail a gateway sends and ingest keeps, in bytes of JPEG.
THUMBNAIL_MAX_BYTES: Final = 20 * 1024

_JPEG_START: Final = b"\xff\xd8"


class ThumbnailError(ValueError):
    """The thumbnail text is not a JPEG of at most THUMBNAIL_MAX_BYTES in base64."""


def encode_thumbnail(jpeg: bytes) -> str:
    """`jpeg` as the text the Probe data carries; ValueError when it breaks the contract."""
    _check(jpeg)
    return base64.b64encode(jpeg).decode("ascii")


def decode_thumbnail(value: Any) -> bytes:
    """The JPEG of a Probe's thumbnail text; ThumbnailError says what is wrong with it."""
    if not isinstance(value, str):
        raise ThumbnailError(f"{THUMBNAIL_KEY} must be base64 text, got "
                             f"{type(value).__name__}")
    # base64 grows 4/3: refuse an oversize text before decoding it.
    if len(value) > 4 * ((THUMBNAIL_MAX_BYTES + 2) // 3):
        raise ThumbnailError(f"{THUMBNAIL_KEY} is {len(value)} characters of base64, more "
                             f"than a JPEG of {THUMBNAIL_MAX_BYTES} bytes needs")
    try:
        jpeg = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ThumbnailError(f"{THUMBNAIL_KEY} is not base64 ({exc})") from None
    _check(jpeg)
    return jpeg


def _check(jpeg: bytes) -> None:
    if not jpeg.startswith(_JPEG_START):
        raise ThumbnailError(f"{THUMBNAIL_KEY} is not a JPEG (starts with "
                             f"{jpeg[:4].hex(' ') or 'nothing'}, a JPEG starts with ff d8)")
    if len(jpeg) > THUMBNAIL_MAX_BYTES:
        raise ThumbnailError(f"{THUMBNAIL_KEY} is {len(jpeg)} bytes of JPEG, more than "
                             f"{THUMBNAIL_MAX_BYTES}")
