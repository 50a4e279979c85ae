"""Query parameters that need more than a type: ISO 8601 durations and aware timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

_DURATION_RE: Final = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$")


class ParamError(ValueError):
    """A query parameter the API cannot use; the message says what to send instead."""


def parse_window(value: str | None, default: timedelta) -> timedelta:
    """`PT24H`, `P7D`, `P1DT12H`, `PT90M` or a number of seconds; must be positive."""
    if value is None or value == "":
        return default
    text = value.strip().upper()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        window = timedelta(seconds=float(text))
    else:
        m = _DURATION_RE.match(text)
        if not m or text in ("P", "PT") or text.endswith("T"):
            if re.match(r"^P(\d+Y|\d+M)", text):
                raise ParamError(f"window {value!r}: years and months have no fixed length; "
                                 "give days, e.g. P30D")
            raise ParamError(f"window {value!r} is not an ISO 8601 duration such as PT24H or "
                             "P7D, nor a number of seconds")
        parts = {k: float(v) for k, v in m.groupdict().items() if v is not None}
        window = timedelta(**parts)
    if window <= timedelta(0):
        raise ParamError(f"window {value!r} must be longer than zero")
    return window


def parse_as_of(value: str | None, name: str = "as_of") -> datetime:
    """An RFC 3339 time with a zone (`2026-11-23T08:00:00Z`); now when absent. `name` is
    the parameter's name in messages."""
    if value is None or value == "":
        return datetime.now(UTC)
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ParamError(f"{name} {value!r} is not a time such as "
                         "2026-11-23T08:00:00Z") from None
    if t.tzinfo is None:
        raise ParamError(f"{name} {value!r} has no timezone; add Z (UTC) or an offset like "
                         "+08:00")
    return t.astimezone(UTC)
