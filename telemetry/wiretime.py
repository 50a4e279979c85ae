"""Times on the wire: RFC 3339 in UTC with milliseconds, read strictly.

Every item carries at least one time, so `parse_time` runs for nearly every value ingest
stores; it takes the common form (`...Z`, already UTC) without converting it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telemetry.jsonbound import json_type, show


def format_time(t: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and a `Z`, e.g. 2026-11-23T08:00:00.123Z.

    Written field by field: `strftime("%Y")` drops the leading zeros of years before 1000
    on glibc, which would make a time the decoder accepted unreadable when sent again.
    """
    if t.tzinfo is None:
        raise ValueError(f"time {t!r} has no timezone; wire times must be timezone-aware")
    t = t.astimezone(UTC)
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
            f"{t.second:02d}.{t.microsecond // 1000:03d}Z")


def parse_time(value: Any, what: str) -> datetime:
    """Parse an RFC 3339 time that carries a zone; raise ValueError naming `what`."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be an RFC 3339 string, got {json_type(value)}")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{what} {show(value)} is not an RFC 3339 time (e.g. 2026-11-23T08:00:00Z)"
        ) from None
    if t.tzinfo is UTC:
        return t  # "Z" or "+00:00", as format_time writes: nothing to convert
    if t.tzinfo is None:
        raise ValueError(f"{what} {show(value)} has no timezone offset; add 'Z' or '+08:00'")
    try:
        return t.astimezone(UTC)
    except OverflowError:
        # e.g. 0001-01-01T00:00:00+01:00: a valid local time whose UTC instant is in year 0.
        raise ValueError(f"{what} {show(value)} falls outside years 1-9999 once converted to "
                         "UTC; check the device clock") from None
