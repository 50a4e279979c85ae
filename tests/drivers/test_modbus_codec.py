"""Decoding of every point type and word order, and rounding to what the register carries."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.modbus.codec import decode, encode, engineering


@pytest.mark.parametrize(("type_", "words", "order", "value"), [
    ("u16", [0xFFFF], "big", 65535),
    ("i16", [0xFFFF], "big", -1),
    ("i16", [0x8000], "big", -32768),
    ("u32", [0x1234, 0x5678], "big", 0x12345678),
    ("u32", [0x5678, 0x1234], "little", 0x12345678),
    ("i32", [0xFFFF, 0xFFFE], "big", -2),
    ("i32", [0xFFFE, 0xFFFF], "little", -2),
    ("f32", [0x3FC0, 0x0000], "big", 1.5),
    ("f32", [0x0000, 0x3FC0], "little", 1.5),
    ("f32", [0x4366, 0x1999], "big", 230.0999908447265625),
    ("f32", [0xC2F6, 0xE979], "big", -123.45600128173828),
])
def test_decode_every_type_and_word_order(type_: str, words: list[int], order: str,
                                          value: float) -> None:
    assert decode(type_, words, order) == value
    assert encode(type_, value, order) == words


def test_nan_decodes_as_nan_for_the_poller_to_refuse() -> None:
    assert math.isnan(decode("f32", [0x7FC0, 0x0000]))


def test_word_count_must_match_the_type() -> None:
    with pytest.raises(ValueError, match="u32 needs 2 registers, got 1"):
        decode("u32", [1])


def test_values_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match=r"70000 does not fit in u16 \(0 .. 65535\)"):
        encode("u16", 70000)
    with pytest.raises(ValueError, match="is not a whole number"):
        encode("i32", 1.5)


@pytest.mark.parametrize(("type_", "raw", "scale", "value"), [
    ("u16", 2301, 0.1, 230.1),
    ("u32", 123456, 0.01, 1234.56),
    ("i16", -123, 0.1, -12.3),
    ("f32", 230.0999908447265625, 1.0, 230.1),
    ("f32", 2301.0, 0.1, 230.1),
    ("f32", 1.2074999809265137, 1000.0, 1207.5),
    ("u16", 7, 1000.0, 7000.0),
])
def test_engineering_values_keep_the_registers_precision(type_: str, raw: float, scale: float,
                                                         value: float) -> None:
    assert engineering(type_, raw, scale) == value


@given(st.integers(-(2**31), 2**31 - 1), st.sampled_from(["big", "little"]))
def test_i32_round_trips(value: int, order: str) -> None:
    assert decode("i32", encode("i32", value, order), order) == value


@given(st.floats(width=32, allow_nan=False, allow_infinity=False),
       st.sampled_from(["big", "little"]))
def test_f32_round_trips(value: float, order: str) -> None:
    assert decode("f32", encode("f32", value, order), order) == value
