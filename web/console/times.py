"""Time filters of the console's forms: a browser's date-time field sends a local time
without a zone (`2026-11-23T08:00`), which the console reads in its own zone
(SCG_TIMEZONE); an RFC 3339 time with a zone, as the API takes it, is read as well, so a
link from elsewhere keeps working. Refusals are ParamErrors naming the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final

from indicators.params import ParamError
from web.console.templating import console_zone
from web.params import YEAR_PATTERN, YEARS, optional_query, parse_time

#: What a date-time field (<input type="datetime-local">) sends.
_FIELD: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
FIELD_FORMAT: Final = "%Y-%m-%dT%H:%M"


def local_time_query(description: str, *, alias: str | None = None) -> Any:
    """A query parameter holding a local time of the console's zone, or RFC 3339."""
    return optional_query(
        f"{description}. A local time in the console's zone as a date-time field sends it "
        f"(2026-11-23T08:00), or an RFC 3339 time with zone; in the years {YEARS}",
        {"pattern": YEAR_PATTERN}, alias=alias)


def parse_local_time(value: str | None, name: str) -> datetime | None:
    """The time in `value` (UTC): a zone-less one is in the console's zone; None when
    absent or empty."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not _FIELD.match(text):
        return parse_time(text, name)
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise ParamError(f"{name} {value!r} is not a date and time such as 2026-11-23T08:00"
                         ) from None
    if not re.match(YEAR_PATTERN, text):
        raise ParamError(f"{name} {value!r} is out of range; give a time in the years {YEARS}")
    return naive.replace(tzinfo=console_zone()).astimezone(UTC)


def field_value(at: datetime | None) -> str:
    """`at` as a date-time field shows it (local, to the minute); empty for none."""
    return "" if at is None else at.astimezone(console_zone()).strftime(FIELD_FORMAT)
