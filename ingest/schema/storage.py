"""Storage settings: how long each kind of history is kept, how it is partitioned or
chunked, when TimescaleDB compresses it, and how much de-duplication state is kept.

They live in the `settings` table under `storage.*`, so that `scg db maintain` (run by a
timer) applies what `scg db migrate` or an earlier maintain was told. A value given on
the command line (or in its environment variable) is stored and wins; a value never
given is the default here. Durations are written `400d`, `12h`, `30min`, `2w` or as a
PostgreSQL interval (`400 days`); `0` means keep forever.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any, Final

#: Partition lengths plain PostgreSQL can use (periods aligned in UTC).
PARTITION_UNITS: Final = ("day", "week", "month")

_UNITS: Final = {"s": 1, "sec": 1, "second": 1, "seconds": 1, "min": 60, "minute": 60,
                 "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600, "d": 86400,
                 "day": 86400, "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}
_DURATION: Final = re.compile(r"^\s*(\d+)\s*([a-z]+)?\s*$")


class SettingError(ValueError):
    """A storage setting is not valid; the message names it and the fix."""


def parse_duration(text: str, name: str) -> timedelta | None:
    """`400d` -> 400 days; `0` -> None (keep forever)."""
    m = _DURATION.match(text.lower())
    if not m or (m.group(2) is not None and m.group(2) not in _UNITS):
        raise SettingError(f"{name} {text!r} is not a duration: write a whole number with a "
                           "unit, e.g. 400d, 12h, 30min, 2w (or 0 to keep forever)")
    count = int(m.group(1))
    if count == 0:
        return None
    if m.group(2) is None:
        raise SettingError(f"{name} {text!r} has no unit: write e.g. {count}d or {count}h")
    return timedelta(seconds=count * _UNITS[m.group(2)])


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "0"
    seconds = int(value.total_seconds())
    for suffix, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{suffix}"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """Retention (None: keep forever), layout and de-duplication state. Sizing: README,
    "Ingest and API (central)", Storage."""

    #: Raw readings: a year plus a margin, for DB37/T 3890.3's year-on-year energy saving.
    readings_retention: timedelta | None = timedelta(days=400)
    probes_retention: timedelta | None = timedelta(days=400)
    #: Events and state changes are the assessor's evidence and small: kept by default.
    events_retention: timedelta | None = None
    state_retention: timedelta | None = None
    #: Hourly availability and daily energy: two years, for year-on-year comparison.
    rollup_retention: timedelta | None = timedelta(days=800)
    dead_letter_retention: timedelta | None = timedelta(days=30)
    #: Indicator history: every (hourly) recording for a month, then one a day — the
    #: first of each Beijing day — kept for ever. A recording carries every figure's
    #: devices (tens of KB per community); a month of hours covers a monthly review.
    hourly_history_retention: timedelta | None = timedelta(days=31)
    history_retention: timedelta | None = None
    #: Plain PostgreSQL: one partition per day, week or month; maintain keeps
    #: `partitions_ahead` future periods created.
    partition_interval: str = "month"
    partitions_ahead: int = 2
    #: TimescaleDB: chunk length of readings and probes (events and state changes use
    #: seven times that), and the age at which chunks are compressed.
    chunk_interval: timedelta = timedelta(days=1)
    compress_after: timedelta | None = timedelta(days=7)
    #: De-duplication keys kept per gateway: at least this many seqs below the high-water
    #: mark, and every key younger than dedup_min_age.
    dedup_window: int = 10_000
    dedup_min_age: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.partition_interval not in PARTITION_UNITS:
            raise SettingError(f"partition interval {self.partition_interval!r} is not one of "
                               f"{', '.join(PARTITION_UNITS)}")
        if self.partitions_ahead < 1:
            raise SettingError(f"partitions ahead is {self.partitions_ahead}; keep at least 1 "
                               "future partition, or inserts at the turn of a period go to the "
                               "default partition")
        if self.dedup_window < 1000:
            raise SettingError(f"de-duplication window {self.dedup_window} is too small: it must "
                               "cover every envelope in flight (use at least 1000)")
        if self.chunk_interval < timedelta(hours=1):
            raise SettingError(f"chunk interval {format_duration(self.chunk_interval)} is too "
                               "short: use at least 1h")

    def horizon_of(self, table: str) -> timedelta | None:
        """The retention of a time-series table (see migrate.TIME_SERIES)."""
        return {"readings": self.readings_retention, "probes": self.probes_retention,
                "events": self.events_retention, "device_state_changes": self.state_retention,
                "device_state_intervals": self.state_retention}[table]

    def chunk_interval_of(self, table: str) -> timedelta:
        return self.chunk_interval * (1 if table in ("readings", "probes") else 7)


#: setting key -> (field, kind)
_KEYS: Final = {
    "storage.retention.readings": ("readings_retention", "duration"),
    "storage.retention.probes": ("probes_retention", "duration"),
    "storage.retention.events": ("events_retention", "duration"),
    "storage.retention.state_changes": ("state_retention", "duration"),
    "storage.retention.rollups": ("rollup_retention", "duration"),
    "storage.retention.dead_letters": ("dead_letter_retention", "duration"),
    "storage.retention.hourly_history": ("hourly_history_retention", "duration"),
    "storage.retention.history": ("history_retention", "duration"),
    "storage.partition_interval": ("partition_interval", "text"),
    "storage.partitions_ahead": ("partitions_ahead", "int"),
    "storage.chunk_interval": ("chunk_interval", "duration!"),
    "storage.compress_after": ("compress_after", "duration"),
    "storage.dedup.window": ("dedup_window", "int"),
    "storage.dedup.min_age": ("dedup_min_age", "duration!"),
}
#: field -> setting key, for the command-line options.
KEY_OF: Final = {f: k for k, (f, _) in _KEYS.items()}


def _parse(key: str, kind: str, text: str) -> Any:
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise SettingError(f"{key} {text!r} is not a whole number") from None
    if kind == "text":
        return text.strip().lower()
    value = parse_duration(text, key)
    if kind == "duration!" and value is None:
        raise SettingError(f"{key} cannot be 0: give a duration, e.g. 1d")
    return value


def _text(value: Any) -> str:
    if value is None or isinstance(value, timedelta):
        return format_duration(value)
    return str(value)


def settings_from(stored: Mapping[str, str], given: Mapping[str, str]) -> StorageSettings:
    """Defaults, overridden by `stored` (settings rows), overridden by `given` (options);
    both map setting keys to text."""
    values: dict[str, Any] = {}
    for key, text in {**stored, **given}.items():
        if key in _KEYS:
            name, kind = _KEYS[key]
            values[name] = _parse(key, kind, text)
    return replace(StorageSettings(), **values)


def as_rows(settings: StorageSettings) -> dict[str, str]:
    return {KEY_OF[f.name]: _text(getattr(settings, f.name)) for f in fields(settings)}


async def load_settings(conn: Any, given: Mapping[str, str] | None = None) -> StorageSettings:
    """The storage settings in force, after storing those `given` (setting key -> text)."""
    rows = await conn.fetch("SELECT key, value FROM settings WHERE key LIKE 'storage.%'")
    settings = settings_from({r["key"]: r["value"] for r in rows}, given or {})
    if given:
        changed = {k: v for k, v in as_rows(settings).items() if k in given}
        await conn.executemany(
            """INSERT INTO settings (key, value) VALUES ($1, $2)
               ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
               WHERE settings.value IS DISTINCT FROM EXCLUDED.value""",
            sorted(changed.items()))
    return settings
