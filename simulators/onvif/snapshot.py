"""Snapshots drawn on the fly: a live scene that changes on every fetch (a moving bar, a
clock and sensor noise), and the bad pictures platforms miss: black, blank, corrupt."""

from __future__ import annotations

import functools
import io
import time
import zlib
from datetime import UTC, datetime

import numpy as np
from PIL import Image, ImageDraw

WIDTH, HEIGHT = 640, 360


class Picture:
    """One camera's image source. `jpeg(mode)` draws a new frame each call."""

    def __init__(self, label: str, *, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.label, self.width, self.height = label, width, height
        self._rng = np.random.default_rng(zlib.crc32(label.encode()))
        # Cameras differ by a tint of the shared scene; only the bar, the clock and the
        # noise move. Nothing picture-sized is kept per camera, so a farm of hundreds
        # stays small.
        self._tint = self._rng.uniform(-25, 25, size=3).astype(np.float32)
        self._frames = 0

    def jpeg(self, mode: str = "normal") -> bytes:
        """A JPEG in `mode`: normal (mean grey mid-range, changes every call), black (mean
        grey < 30), blank (uniform mid-grey, std < 5)."""
        self._frames += 1
        if mode == "black":
            noise = self._rng.integers(0, 6, size=(self.height, self.width, 1), dtype=np.uint8)
            return _encode(np.repeat(noise + 4, 3, axis=2))
        if mode == "blank":
            return _encode(np.full((self.height, self.width, 3), 128, dtype=np.uint8))
        if mode != "normal":
            raise ValueError(f"picture mode {mode!r} is not normal, black or blank")
        frame = _scene(self.width, self.height) + self._tint
        bar = int((time.monotonic() * 120 + self._frames * 37) % self.width)
        frame[:, max(0, bar - 20):bar + 20, :] = 235.0
        frame += self._rng.normal(0.0, 6.0, size=(self.height, self.width, 1)) \
            .astype(np.float32)
        image = Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8), "RGB")
        draw = ImageDraw.Draw(image)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        draw.rectangle((8, 8, 8 + 7 * 40, 40), fill=(20, 20, 20))
        draw.text((14, 12), f"{self.label}  #{self._frames}", fill=(250, 250, 250))
        draw.text((14, 25), f"{stamp} UTC", fill=(250, 250, 250))
        return _encode_image(image)


@functools.cache
def _scene(width: int, height: int) -> np.ndarray:
    """A sky-to-road gradient (height x width x 1), shared by every camera (read-only)."""
    y = np.linspace(60, 190, height, dtype=np.float32)[:, None]
    x = np.linspace(-20, 20, width, dtype=np.float32)[None, :]
    scene = (y + x)[:, :, None]
    scene.setflags(write=False)
    return scene


def corrupt(jpeg: bytes) -> bytes:
    """Bytes that start like a JPEG (SOI, headers intact) but are cut off mid-scan, the way
    a broken encoder or transfer leaves them: decoders fail with 'truncated'."""
    return jpeg[:max(700, len(jpeg) // 3)]


def _encode(pixels: np.ndarray) -> bytes:
    return _encode_image(Image.fromarray(pixels, "RGB"))


def _encode_image(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
