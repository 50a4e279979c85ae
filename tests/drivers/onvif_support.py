"""Pictures for the ONVIF driver tests, made with Pillow in memory."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def jpeg(grey: np.ndarray, quality: int = 85) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").convert("RGB") \
        .save(out, "JPEG", quality=quality)
    return out.getvalue()


def scene(width: int = 640, height: int = 360, seed: int = 1) -> bytes:
    """A busy picture: a gradient, a bright bar and noise (mean ~ 120, std ~ 60)."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 255, width)[None, :].repeat(height, 0)
    x[:, (seed * 37) % width:(seed * 37) % width + 40] = 250
    return jpeg(x + rng.normal(0, 10, (height, width)))


def flat(level: float, width: int = 320, height: int = 180, noise: float = 0.0) -> bytes:
    rng = np.random.default_rng(0)
    return jpeg(np.full((height, width), level) + rng.normal(0, noise, (height, width)))
