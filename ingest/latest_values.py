"""Latest values and rollups the writer keeps in the same transaction as the history rows,
so that no indicator scans history to find a latest value.

Every upsert here moves a value only forward in time (`WHERE EXCLUDED.time > …`), so
late, out-of-order and redelivered data never move a latest value backwards; and every
batch of keys is sorted first, so concurrent workers lock rows in one order and never
deadlock. What each table holds: migrations 0011 and 0013.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import asyncpg

from ingest.alarms import alarm_key
from telemetry import Event, Probe, StateChange

#: Energy counters end in `_kwh` (cumulative kWh); their first and last reading per local
#: day go to `energy_daily`.
ENERGY_SUFFIX: Final = "_kwh"
#: China Standard Time, no daylight saving: the local day of a Shandong meter.
LOCAL_OFFSET: Final = timedelta(hours=8)
_END_OF_TIME: Final = datetime.max.replace(tzinfo=UTC)  # no time falls on or after it


@dataclass(slots=True)
class DeviceSeen:
    """What one batch says about one device."""

    gateway: str
    last_seen: datetime | None = None
    state: StateChange | None = None
    earliest_change: datetime | None = None  # of the batch's state changes
    probe: Probe | None = None


@dataclass(slots=True)
class LatestValues:
    """The latest values one batch carries, reduced per key as items are added."""

    devices: dict[tuple[str, str], DeviceSeen] = field(default_factory=dict)
    # (community, device, metric) -> the latest reading record
    readings: dict[tuple[str, str, str], tuple[Any, ...]] = field(default_factory=dict)
    conditions: dict[tuple[str, str, str, str], Event] = field(default_factory=dict)
    _energy_days: dict[tuple[str, str, str, date], list[Any]] = field(default_factory=dict)

    def fold_readings(self, records: list[tuple[Any, ...]]) -> None:
        """Reduce reading records `(time, community, gateway, device, metric, value)` to
        the latest per (device, metric) and the first / last per energy counter and local
        day. One tight pass each: at 100 readings a message this runs for every reading."""
        latest = self.readings
        get = latest.get
        for rec in records:
            key = (rec[1], rec[3], rec[4])
            known = get(key)
            if known is None or rec[0] > known[0]:
                latest[key] = rec
        days = self._energy_days
        dget = days.get
        # The local day of the reading before: most readings of a batch fall on it, and two
        # comparisons cost less than working the day out of each time.
        day, day_starts, day_ends = date.min, _END_OF_TIME, _END_OF_TIME
        for rec in records:
            metric = rec[4]
            if not metric.endswith(ENERGY_SUFFIX):
                continue
            t, value = rec[0], rec[5]
            if not day_starts <= t < day_ends:
                day = (t + LOCAL_OFFSET).date()
                day_starts = datetime.combine(day, time(0), UTC) - LOCAL_OFFSET
                day_ends = day_starts + timedelta(days=1)
            key4 = (rec[1], rec[3], metric, day)
            agg = dget(key4)
            if agg is None:
                days[key4] = [t, value, t, value, 1]
            else:
                if t < agg[0]:
                    agg[0], agg[1] = t, value
                if t > agg[2]:
                    agg[2], agg[3] = t, value
                agg[4] += 1

    @property
    def energy(self) -> dict[tuple[str, str, str, datetime], list[Any]]:
        """(community, device, metric, start of the local day) -> [first time, first
        value, last time, last value, readings]."""
        starts = {day: datetime.combine(day, time(0), UTC) - LOCAL_OFFSET
                  for day in {key[3] for key in self._energy_days}}  # a day or two a batch
        return {(c, d, m, starts[day]): agg for (c, d, m, day), agg in self._energy_days.items()}

    def condition(self, community: str, item: Event) -> None:
        if item.active is None:
            return
        key = (community, item.device, item.type, alarm_key(item.data))
        known = self.conditions.get(key)
        if known is None or item.time >= known.time:
            self.conditions[key] = item


#: One statement, one round trip per batch: every round trip costs the event loop a wake-up
#: and a turn at the GIL against paho's thread, which at thousands of small messages a
#: second is dearer than the upserts themselves. Parts with no rows get empty arrays.
#: PostgreSQL runs the parts in the reverse of their order here, so `gateways` comes
#: first: the rows every batch of a gateway updates are locked last, and a second writer
#: upserts its devices while the first one commits.
_UPSERT_LATEST: Final = """
WITH gateways AS (
    INSERT INTO gateways AS g (community, gateway, last_envelope, seq_high_water)
    SELECT * FROM unnest($26::text[], $27::text[], $28::timestamptz[], $29::int8[])
    ON CONFLICT (community, gateway) DO UPDATE
    SET last_envelope = GREATEST(g.last_envelope, EXCLUDED.last_envelope),
        seq_high_water = GREATEST(g.seq_high_water, EXCLUDED.seq_high_water)
    RETURNING 1),
status AS (
    INSERT INTO device_status AS s
        (community, device, gateway, state, since, reason, last_seen, probe_time, probe_ok,
         probe_reason, probe_data)
    SELECT c, d, g, st, si, coalesce(r, ''), ls, pt, po, pr, pd::jsonb
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY
         AS u(c, d, g, ls, i)
    LEFT JOIN unnest($5::int8[], $6::text[], $7::timestamptz[], $8::text[],
                     $9::timestamptz[], $10::bool[], $11::text[], $12::text[])
         AS f(i, st, si, r, pt, po, pr, pd) USING (i)
    ORDER BY i  -- rows locked in the order they were sorted in, whatever the join did
    ON CONFLICT (community, device) DO UPDATE SET
        gateway = EXCLUDED.gateway,
        state = CASE WHEN EXCLUDED.since >= s.since OR s.since IS NULL
                     THEN coalesce(EXCLUDED.state, s.state) ELSE s.state END,
        reason = CASE WHEN EXCLUDED.since >= s.since OR s.since IS NULL
                      THEN CASE WHEN EXCLUDED.state IS NULL THEN s.reason
                                ELSE EXCLUDED.reason END
                      ELSE s.reason END,
        since = CASE WHEN EXCLUDED.since >= s.since OR s.since IS NULL
                     THEN coalesce(EXCLUDED.since, s.since) ELSE s.since END,
        last_seen = GREATEST(s.last_seen, EXCLUDED.last_seen),
        probe_ok = CASE WHEN EXCLUDED.probe_time > s.probe_time OR s.probe_time IS NULL
                        THEN coalesce(EXCLUDED.probe_ok, s.probe_ok) ELSE s.probe_ok END,
        probe_reason = CASE WHEN EXCLUDED.probe_time > s.probe_time OR s.probe_time IS NULL
                            THEN coalesce(EXCLUDED.probe_reason, s.probe_reason)
                            ELSE s.probe_reason END,
        probe_data = CASE WHEN EXCLUDED.probe_time > s.probe_time OR s.probe_time IS NULL
                          THEN coalesce(EXCLUDED.probe_data, s.probe_data)
                          ELSE s.probe_data END,
        probe_time = GREATEST(s.probe_time, EXCLUDED.probe_time),
        updated_at = now()
    RETURNING 1),
readings AS (
    INSERT INTO reading_latest AS r (community, device, metric, gateway, time, value)
    SELECT * FROM unnest($13::text[], $14::text[], $15::text[], $16::text[],
                         $17::timestamptz[], $18::float8[])
    ON CONFLICT (community, device, metric) DO UPDATE SET
        gateway = EXCLUDED.gateway, time = EXCLUDED.time, value = EXCLUDED.value
    WHERE EXCLUDED.time > r.time
    RETURNING 1),
conditions AS (
    INSERT INTO condition_latest AS c (community, device, type, key, time, active, data)
    SELECT c, d, t, k, ti, a, da::jsonb
    FROM unnest($19::text[], $20::text[], $21::text[], $22::text[], $23::timestamptz[],
                $24::bool[], $25::text[]) AS u(c, d, t, k, ti, a, da)
    ON CONFLICT (community, device, type, key) DO UPDATE SET
        time = EXCLUDED.time, active = EXCLUDED.active, data = EXCLUDED.data
    WHERE EXCLUDED.time >= c.time
    RETURNING 1)
SELECT scg_rollup_energy($30, $31, $32, $33, $34, $35, $36, $37, $38)
WHERE cardinality($30::text[]) > 0
"""


async def store_latest_values(conn: asyncpg.Connection, latest: LatestValues,
                              gateways: dict[tuple[str, str], tuple[datetime, int]]) -> None:
    """Upsert everything `latest` holds, and each gateway's newest envelope time and
    highest seq (`gateways`), in one statement; then rebuild the state intervals of the
    devices whose state changed. Keys are sorted: one lock order for every writer."""
    keys = sorted(latest.devices)
    seen = [latest.devices[k] for k in keys]
    # Most devices only sent readings: their rows need a last-seen time, nothing more.
    # The few with a state or a probe are passed apart, by position (1-based).
    told = [(i, s) for i, s in enumerate(seen, 1) if s.state or s.probe]
    rkeys = sorted(latest.readings)
    rows = [latest.readings[k] for k in rkeys]
    ckeys = sorted(latest.conditions)
    events = [latest.conditions[k] for k in ckeys]
    gkeys = sorted(gateways)
    energy = latest.energy
    ekeys = sorted(energy)
    aggs = [energy[k] for k in ekeys]
    await conn.execute(
        _UPSERT_LATEST,
        [k[0] for k in keys], [k[1] for k in keys], [s.gateway for s in seen],
        [s.last_seen for s in seen],
        [i for i, _ in told],
        [s.state.state.value if s.state else None for _, s in told],
        [s.state.since if s.state else None for _, s in told],
        [s.state.reason if s.state else None for _, s in told],
        [s.probe.time if s.probe else None for _, s in told],
        [s.probe.ok if s.probe else None for _, s in told],
        [s.probe.reason if s.probe else None for _, s in told],
        [json.dumps(s.probe.data, ensure_ascii=False) if s.probe else None
         for _, s in told],
        [k[0] for k in rkeys], [k[1] for k in rkeys], [k[2] for k in rkeys],
        [r[2] for r in rows], [r[0] for r in rows], [r[5] for r in rows],
        [k[0] for k in ckeys], [k[1] for k in ckeys], [k[2] for k in ckeys],
        [k[3] for k in ckeys], [e.time for e in events], [e.active for e in events],
        [json.dumps(e.data, ensure_ascii=False) for e in events],
        [k[0] for k in gkeys], [k[1] for k in gkeys], [gateways[k][0] for k in gkeys],
        [gateways[k][1] for k in gkeys],
        [k[0] for k in ekeys], [k[1] for k in ekeys], [k[2] for k in ekeys],
        [k[3] for k in ekeys], [a[0] for a in aggs], [a[1] for a in aggs],
        [a[2] for a in aggs], [a[3] for a in aggs], [a[4] for a in aggs])
    changed = sorted(k for k, s in latest.devices.items() if s.earliest_change is not None)
    if changed:
        await conn.execute(
            "SELECT scg_rebuild_state_intervals($1, $2, $3)",
            [k[0] for k in changed], [k[1] for k in changed],
            [latest.devices[k].earliest_change for k in changed])
