"""Query parameters the routes share (times, windows, fixed choices), documented in the
OpenAPI document as precisely as the checks behind them, and read without ever failing
with anything but a ParamError (422) that names the parameter and the fix."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fastapi import Query

from indicators.params import ParamError, parse_as_of, parse_window

#: Times are written with a year from 1970 to 9998: arithmetic on them (a window before, a
#: week before) then stays within Python's years 1..9999. The pattern says so in the OpenAPI
#: document; the bounds check it in UTC, with a day's slack for any zone offset.
YEARS: Final = "1970 to 9998"
YEAR_PATTERN: Final = r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9])-"
EARLIEST: Final = datetime(1969, 12, 31, tzinfo=UTC)
LATEST: Final = datetime(9999, 1, 2, tzinfo=UTC)
LONGEST_WINDOW: Final = timedelta(days=3660)

_LOWER_RFC3339: Final = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt][0-9:.]+([Zz]|[+-]\d{2}:\d{2})$")


# Every optional filter takes an empty value as absent (an HTML form sends its empty
# fields), and the OpenAPI document says so: the value, or an empty string.
_EMPTY: Final = {"type": "string", "maxLength": 0}


def optional_query(description: str, schema: dict[str, Any], *,
                   alias: str | None = None) -> Any:
    """An optional query parameter: a string matching `schema`, or empty (= absent)."""
    return Query(alias=alias, description=f"{description}; empty counts as absent",
                 json_schema_extra={"anyOf": [{"type": "string", **schema}, _EMPTY]})


def time_query(description: str, *, alias: str | None = None) -> Any:
    """A query parameter holding an RFC 3339 time (documented with format date-time)."""
    return optional_query(
        f"{description}. RFC 3339 time with zone, e.g. 2026-11-23T08:00:00Z, in the years "
        f"{YEARS}", {"format": "date-time", "pattern": YEAR_PATTERN}, alias=alias)


def choice_query(description: str, choices: Sequence[str]) -> Any:
    """An optional query parameter taking one of `choices` (documented as an enum)."""
    return optional_query(f"{description}: one of {', '.join(choices)}",
                          {"enum": list(choices)})


def text_query(description: str) -> Any:
    """An optional query parameter taking any text."""
    return optional_query(description, {"minLength": 1})


def check_choice(value: str | None, choices: Sequence[str], what: str) -> str | None:
    """`value`, None when absent or empty, or ParamError unless it is one of `choices`;
    `what` names the parameter and its meaning, e.g. "state {value!r} is not an alarm
    state"."""
    if not value:
        return None
    if value not in choices:
        raise ParamError(f"{what}; use one of {', '.join(choices)}")
    return value


def parse_time(value: str | None, name: str) -> datetime | None:
    """The time in `value` (UTC), or None when it is absent or empty."""
    if value is None or not value.strip():
        return None
    out_of_range = ParamError(f"{name} {value!r} is out of range; give a time in the years "
                              f"{YEARS}, e.g. 2026-11-23T08:00:00Z")
    try:
        try:
            at = parse_as_of(value, name)
        except ParamError:
            # RFC 3339 allows a lower-case t and z; Python's parser does not.
            if not _LOWER_RFC3339.match(value):
                raise
            at = parse_as_of(value.upper(), name)
    except OverflowError:  # its zone moves it out of Python's years 1..9999
        raise out_of_range from None
    if not (EARLIEST <= at < LATEST and re.match(YEAR_PATTERN, value)):
        raise out_of_range
    return at


def parse_span(value: str | None, default: timedelta | None = None) -> timedelta | None:
    """The `window` parameter: `default` when absent or empty, else a positive duration of
    at most 3660 days."""
    if value is None or not value.strip():
        return default
    too_long = ParamError(f"window {value!r} is longer than {LONGEST_WINDOW.days} days; "
                          "give a shorter one, e.g. P30D")
    try:
        span = parse_window(value, timedelta(0))
    except OverflowError:
        raise too_long from None
    if span > LONGEST_WINDOW:
        raise too_long
    return span
