"""Rates worked out exactly from the parts a text gives, and whether a stated rate can be
their rounding: truncated or rounded half up to the decimals shown, or to a whole percent.
Nothing here rounds before comparing: a/b is kept as a fraction."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from acceptance.claims.figures import Bound, number


def percent_of(part: Decimal, whole: Decimal) -> Fraction:
    """part / whole in percent, exactly (whole must not be zero)."""
    return Fraction(part) * 100 / Fraction(whole)


def _at(value: Fraction, places: int, *, half_up: bool) -> Decimal:
    scaled = value * 10 ** places + (Fraction(1, 2) if half_up else 0)
    return Decimal(math.floor(scaled)).scaleb(-places)


def roundings(value: Fraction, places: int) -> set[Decimal]:
    """What a careful writer could print for `value` percent: truncated or rounded half up
    to `places` decimals, or to a whole percent."""
    return {_at(value, p, half_up=h) for p in {places, 0} for h in (False, True)}


def agrees(value: Fraction, stated: Decimal, places: int, bound: Bound) -> bool:
    """Whether `stated` (with its bound: 90%, 90%以上, 不超过90%, 约90%) is a fair way to
    write `value`."""
    written = roundings(value, places)
    if bound == "exact":
        return stated in written
    if bound == "at_least":
        return max(written) >= stated
    if bound == "at_most":
        return min(written) <= stated
    return abs(value - Fraction(stated)) <= Fraction(3, 2)   # about: within 1.5 points


def shown(value: Fraction, places: int = 0) -> str:
    """`60.0` — the exact rate at one decimal more than stated, rounded down as the report
    writes rates (`acceptance.phrasing.tenths`: 79.96 % is 79.9 %, never 80 %)."""
    return format(_at(value, places + 1, half_up=False), "f")


class Neighbours(NamedTuple):
    """The counts whose rates come closest below and above an impossible stated rate."""

    below: tuple[int, Fraction] | None
    above: tuple[int, Fraction] | None


def impossible(stated: Decimal, places: int, whole: int) -> Neighbours | None:
    """None when some k of `whole` items gives `stated` (truncated or half up to the
    decimals shown); else the nearest k on either side."""
    if whole <= 0:
        return None
    guess = math.floor(Fraction(stated) * whole / 100)
    near = range(max(guess - 1, 0), min(guess + 2, whole) + 1)
    for k in near:
        value = Fraction(k * 100, whole)
        if stated in {_at(value, places, half_up=False), _at(value, places, half_up=True)}:
            return None
    exact = Fraction(stated) * whole / 100
    below, above = math.ceil(exact) - 1, math.floor(exact) + 1
    return Neighbours(
        (below, Fraction(below * 100, whole)) if 0 <= below <= whole else None,
        (above, Fraction(above * 100, whole)) if 0 <= above <= whole else None)


def division(part: Decimal, whole: Decimal, places: int) -> str:
    """`1.2 ÷ 2 = 60.0%`."""
    return f"{number(part)} ÷ {number(whole)} = {shown(percent_of(part, whole), places)}%"
