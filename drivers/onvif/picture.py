"""The picture check of INDICATORS.md (Video) as a pure function over one snapshot's bytes:
is it a JPEG, does it decode, is it black, white, blank, or the same as the last one.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from PIL import Image

from drivers.onvif.settings import Checks

# Statistics are taken on a picture decoded at reduced size (JPEG decoders scale by 1/2,
# 1/4, 1/8 almost for free): the mean is unchanged and the spread of a real scene is
# dominated by large shapes, so the verdict is the same at a fraction of the CPU.
_STATS_SIZE = (640, 360)


class Check(StrEnum):
    """The `check` of a probe: `ok`, or the first thing that went wrong."""

    OK = "ok"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    AUTH = "auth"
    HTTP_ERROR = "http_error"
    NOT_JPEG = "not_jpeg"
    CORRUPT = "corrupt"
    BLACK = "black"
    WHITE = "white"
    BLANK = "blank"
    FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the picture check found; `data` holds the Probe data keys it can fill."""

    check: Check
    reason: str
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.check is Check.OK


def inspect_picture(jpeg: bytes, checks: Checks, previous_sha256: str | None = None) -> Verdict:
    """Judge one snapshot. `previous_sha256` is the hash of the previous probe's JPEG."""
    sha = hashlib.sha256(jpeg).hexdigest()
    data: dict[str, Any] = {"bytes": len(jpeg), "sha256": sha}
    if not jpeg.startswith(b"\xff\xd8"):
        head = jpeg[:8].hex(" ") if jpeg else "nothing"
        return Verdict(Check.NOT_JPEG, f"snapshot is not a JPEG (starts with {head}, a JPEG "
                       "starts with ff d8)", data)
    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            if image.format != "JPEG":
                return Verdict(Check.NOT_JPEG, f"snapshot is a {image.format} image, not a "
                               "JPEG", data)
            width, height = image.size
            image.draft("L", _STATS_SIZE)
            grey = np.asarray(image.convert("L"), dtype=np.float32)
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        return Verdict(Check.CORRUPT, f"snapshot JPEG does not decode ({exc})", data)
    mean, std = float(grey.mean()), float(grey.std())
    data.update(width=width, height=height, mean=round(mean, 2), std=round(std, 2))
    if mean < checks.black_below:
        return Verdict(Check.BLACK, f"picture black (mean grey {mean:.1f} < "
                       f"{checks.black_below:g})", data)
    if mean > checks.white_above:
        return Verdict(Check.WHITE, f"picture white (mean grey {mean:.1f} > "
                       f"{checks.white_above:g})", data)
    if std < checks.blank_std_below:
        return Verdict(Check.BLANK, f"picture blank (grey std {std:.1f} < "
                       f"{checks.blank_std_below:g})", data)
    if previous_sha256 is not None and sha == previous_sha256:
        return Verdict(Check.FROZEN, f"picture frozen (JPEG identical to the previous probe's, "
                       f"sha256 {sha[:12]}…)", data)
    return Verdict(Check.OK, "", data)
