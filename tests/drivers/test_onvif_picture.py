"""The picture check of INDICATORS.md over JPEG bytes: black, white, blank, frozen, broken."""

from __future__ import annotations

import io

import numpy as np
import pytest
from onvif_support import flat, jpeg, scene
from PIL import Image

from drivers.onvif import Check, Checks, inspect_picture

CHECKS = Checks()


def test_a_busy_scene_passes_with_its_statistics() -> None:
    data = scene()
    verdict = inspect_picture(data, CHECKS)
    assert verdict.check is Check.OK and verdict.ok and verdict.reason == ""
    assert (verdict.data["width"], verdict.data["height"]) == (640, 360)
    assert 90 < verdict.data["mean"] < 160
    assert verdict.data["std"] > 30
    assert verdict.data["bytes"] == len(data)
    assert len(verdict.data["sha256"]) == 64


def test_a_dark_picture_is_black_with_its_mean_in_the_reason() -> None:
    verdict = inspect_picture(flat(3, noise=2), CHECKS)
    assert verdict.check is Check.BLACK
    assert verdict.data["mean"] < 30
    assert verdict.reason == f"picture black (mean grey {verdict.data['mean']:.1f} < 30)"


def test_a_bright_picture_is_white() -> None:
    verdict = inspect_picture(flat(245, noise=2), CHECKS)
    assert verdict.check is Check.WHITE
    assert verdict.reason.startswith("picture white (mean grey 24")
    assert verdict.reason.endswith("> 225)")


def test_a_uniform_mid_grey_picture_is_blank() -> None:
    verdict = inspect_picture(flat(128), CHECKS)
    assert verdict.check is Check.BLANK
    assert verdict.data["std"] < 1
    assert verdict.reason.startswith("picture blank (grey std ")


def test_black_wins_over_blank_for_a_uniform_black_picture() -> None:
    assert inspect_picture(flat(0), CHECKS).check is Check.BLACK


def test_the_same_jpeg_as_the_previous_probe_is_frozen() -> None:
    data = scene()
    first = inspect_picture(data, CHECKS)
    again = inspect_picture(data, CHECKS, first.data["sha256"])
    assert again.check is Check.FROZEN
    assert "identical to the previous probe" in again.reason
    other = inspect_picture(scene(seed=2), CHECKS, first.data["sha256"])
    assert other.check is Check.OK


def test_thresholds_come_from_the_settings() -> None:
    dim = flat(50, noise=8)
    assert inspect_picture(dim, CHECKS).check is Check.OK
    assert inspect_picture(dim, Checks(black_below=60)).check is Check.BLACK
    assert inspect_picture(dim, Checks(blank_std_below=20)).check is Check.BLANK


@pytest.mark.parametrize("body", [b"", b"<html>login</html>", b"GIF89a......"])
def test_bytes_that_do_not_start_like_a_jpeg_are_not_jpeg(body: bytes) -> None:
    verdict = inspect_picture(body, CHECKS)
    assert verdict.check is Check.NOT_JPEG
    assert verdict.data["bytes"] == len(body)
    assert "mean" not in verdict.data


def test_a_png_is_not_a_jpeg() -> None:
    out = io.BytesIO()
    Image.new("L", (32, 32), 128).save(out, "PNG")
    assert inspect_picture(out.getvalue(), CHECKS).check is Check.NOT_JPEG


@pytest.mark.parametrize("cut", [40, 400, 2000])
def test_a_truncated_jpeg_is_corrupt(cut: int) -> None:
    verdict = inspect_picture(scene()[:cut], CHECKS)
    assert verdict.check is Check.CORRUPT
    assert verdict.reason.startswith("snapshot JPEG does not decode")
    assert "mean" not in verdict.data


def test_jpeg_markers_followed_by_garbage_are_corrupt() -> None:
    body = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20
    assert inspect_picture(body, CHECKS).check is Check.CORRUPT


def test_a_large_picture_reports_its_full_size() -> None:
    rng = np.random.default_rng(3)
    big = jpeg(rng.normal(120, 40, (1080, 1920)))
    verdict = inspect_picture(big, CHECKS)
    assert verdict.check is Check.OK
    assert (verdict.data["width"], verdict.data["height"]) == (1920, 1080)
    assert 110 < verdict.data["mean"] < 130
