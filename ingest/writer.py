"""Write a batch of received messages to PostgreSQL in one transaction.

De-duplication is by `(community, gateway, seq)` in `received_envelopes`: an envelope the
broker redelivers (ingest crashed after commit, before its PUBACK reached the broker) is
recognised and its items are not written twice. That table keeps recent keys only: an
envelope at or below its gateway's `seq_floor` is a duplicate by definition (migration
0012 says why that is safe; `ingest.maintenance` raises the floor).

Latest values (device state, last seen, latest probe, latest reading per metric, latest
condition) and the rollups are written in the same transaction (`ingest.latest_values`).

Events of severity alarm or critical become alarms in the same transaction
(`ingest.alarms`), so an alarm is stored exactly when its event is.

A rejected message is one `dead_letters` row whatever it contains (`ingest.dead_letters`):
a whole-message fault with its code, or a valid envelope's rejected items summarised.

A probe's picture thumbnail is taken out of its data and kept apart, the newest few per
camera (`ingest.probe_pictures`).

Only what the register lets a gateway report is written (`ingest.register`): a message
from a gateway the community does not list is refused whole, an item for a device
registered to another gateway or to none is rejected like a malformed one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Final

import asyncpg

from ingest.alarms import concerns_alarms, record_alarms
from ingest.data_versions import bump_data_versions
from ingest.dead_letters import (
    ITEMS_REJECTED,
    InternalError,
    details_json,
    storable,
    summarise_rejections,
)
from ingest.latest_values import DeviceSeen, LatestValues, store_latest_values
from ingest.messages import Received
from ingest.probe_pictures import ProbePictures, store_pictures
from ingest.register import screen
from telemetry import DeviceState, Envelope, Event, ItemRejection, Probe, Reading

_SEEN_STATES: Final = (DeviceState.ONLINE, DeviceState.DEGRADED)  # the device answered


@dataclass(slots=True)
class WriteResult:
    """What one `write_batch` call did. `envelopes` counts fresh (not duplicate) envelopes."""

    messages: int = 0
    envelopes: int = 0
    duplicates: int = 0
    readings: int = 0
    events: int = 0
    states: int = 0
    probes: int = 0
    statuses: int = 0
    rejected_items: int = 0
    dead_letters: int = 0
    alarms_opened: int = 0
    alarms_cleared: int = 0
    #: dead letters by their code (`malformed`, `items_rejected`, `unknown_gateway`, …)
    dead_letter_codes: Counter[str] = field(default_factory=Counter)

    def add(self, other: WriteResult) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


async def write_batch(conn: asyncpg.Connection, messages: Sequence[Received]) -> WriteResult:
    """Store `messages` atomically; return counts.

    Raises when the database fails or refuses a value, and on any fault of this code with
    an odd message; the consumer then writes the batch message by message and sets aside
    the one that fails (`ingest.isolation`).

    Items the register does not let their gateway report are dead letters, not data: the
    register is what makes a figure the devices' own (`ingest.register`). Their payload
    stays on the dead-letter row, so items of a device registered late can be replayed.
    """
    result = WriteResult(messages=len(messages))
    messages = await screen(conn, messages)
    envelopes: list[tuple[Received, Envelope, tuple[ItemRejection, ...]]] = []
    keys_in_batch: set[tuple[str, str, int]] = set()
    for msg in messages:
        if msg.decoded is None:
            continue
        env = msg.decoded.envelope
        key = (env.community, env.gateway, env.seq)
        if key in keys_in_batch:
            result.duplicates += 1
            continue
        keys_in_batch.add(key)
        envelopes.append((msg, env, msg.decoded.rejected))

    async with conn.transaction():
        fresh = await _claim_envelopes(conn, envelopes)
        result.duplicates += len(envelopes) - len(fresh)
        result.envelopes = len(fresh)
        dead: list[tuple[Any, ...]] = []
        alarm_events: list[tuple[str, str, Event]] = []
        urgent = await _write_items(conn, fresh, result, dead, alarm_events)
        await _write_statuses(conn, messages, result)
        for msg in messages:
            if msg.error is not None:
                t = msg.parsed_topic
                error = msg.error
                details = error.details if isinstance(error, InternalError) else None
                dead.append(_dead_letter(msg, t.community if t else None,
                                         t.gateway if t else None, None, error.code,
                                         str(error), None, details))
        if dead:
            await conn.copy_records_to_table(
                "dead_letters", records=dead,
                columns=["received_at", "topic", "community", "gateway", "seq", "code",
                         "reason", "payload", "item_index", "details"])
        result.dead_letters = len(dead)
        result.dead_letter_codes = Counter(row[5] for row in dead)
        # The evaluator recomputes the communities whose data changed (ingest.data_versions).
        statuses = {m.status.community for m in messages if m.status is not None}
        await bump_data_versions(conn, {e.community for _, e, _ in fresh} | statuses,
                                 urgent | statuses)
        # Last: the alarm step holds a lock until commit, so it should be short.
        alarms = await record_alarms(conn, alarm_events)
        result.alarms_opened, result.alarms_cleared = alarms.opened, alarms.cleared
    return result


def depends_on_arrival_order(messages: Sequence[Received]) -> bool:
    """Whether what `messages` store could depend on batches before or after them being
    committed first: true for gateway births and wills (the last one to arrive wins, see
    `_write_statuses`) and for events that open or clear alarms (a clearing event clears
    only an alarm already stored). Everything else a batch writes is ordered by the times
    it carries, or is history rows and counts, so batches without these may be committed
    at once by several writers (`ingest.commit_order`)."""
    for msg in messages:
        if msg.status is not None:
            return True
        if msg.decoded is not None:
            items = msg.decoded.envelope.items
            if Event in map(type, items) and any(
                    isinstance(item, Event) and concerns_alarms(item) for item in items):
                return True
    return False


async def _claim_envelopes(
    conn: asyncpg.Connection,
    envelopes: list[tuple[Received, Envelope, tuple[ItemRejection, ...]]],
) -> list[tuple[Received, Envelope, tuple[ItemRejection, ...]]]:
    """Record the envelopes; return those not seen before (the de-duplication step)."""
    if not envelopes:
        return []
    rows = await conn.fetch(
        """INSERT INTO received_envelopes
               (community, gateway, seq, sent_at, received_at, items, rejected)
           SELECT u.* FROM unnest($1::text[], $2::text[], $3::int8[], $4::timestamptz[],
                                  $5::timestamptz[], $6::int4[], $7::int4[])
                AS u(community, gateway, seq, sent_at, received_at, items, rejected)
           LEFT JOIN gateways g USING (community, gateway)
           WHERE g.seq_floor IS NULL OR u.seq > g.seq_floor
           ON CONFLICT DO NOTHING
           RETURNING community, gateway, seq""",
        [e.community for _, e, _ in envelopes], [e.gateway for _, e, _ in envelopes],
        [e.seq for _, e, _ in envelopes], [e.sent_at for _, e, _ in envelopes],
        [m.received_at for m, _, _ in envelopes], [len(e.items) for _, e, _ in envelopes],
        [len(r) for _, _, r in envelopes])
    if len(rows) == len(envelopes):
        return envelopes  # none seen before: the usual case, no need to match them up
    new = {(r["community"], r["gateway"], r["seq"]) for r in rows}
    return [x for x in envelopes if (x[1].community, x[1].gateway, x[1].seq) in new]


async def _write_items(conn: asyncpg.Connection,
                       fresh: list[tuple[Received, Envelope, tuple[ItemRejection, ...]]],
                       result: WriteResult, dead: list[tuple[Any, ...]],
                       alarm_events: list[tuple[str, str, Event]]) -> set[str]:
    """Store the items of `fresh`; return the communities that got state changes or
    events (what the indicator evaluator recomputes for first)."""
    readings: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    states: list[tuple[Any, ...]] = []
    probes: list[tuple[Any, ...]] = []
    pictures = ProbePictures()
    latest = LatestValues()
    devices = latest.devices
    # (community, gateway) -> (newest sent_at, highest seq)
    gateways: dict[tuple[str, str], tuple[datetime, int]] = {}
    for msg, env, rejected in fresh:
        c, g = env.community, env.gateway
        gkey = (c, g)
        known = gateways.get(gkey)
        if known is None:
            gateways[gkey] = (env.sent_at, env.seq)
        else:
            gateways[gkey] = (max(known[0], env.sent_at), max(known[1], env.seq))
        for item in env.items:
            seen = devices.get((c, item.device))
            if seen is None:
                seen = devices[(c, item.device)] = DeviceSeen(g)
            seen.gateway = g
            if isinstance(item, Reading):
                readings.append((item.time, c, g, item.device, item.metric, item.value))
                t: datetime | None = item.time
            elif isinstance(item, Event):
                events.append((item.time, c, g, item.device, item.type, item.severity.value,
                               item.active, json.dumps(item.data, ensure_ascii=False)))
                if concerns_alarms(item):
                    alarm_events.append((c, g, item))
                latest.condition(c, item)
                t = item.time
            elif isinstance(item, Probe):
                item = pictures.take(c, g, item)
                probes.append((item.time, c, g, item.device, item.ok, item.reason,
                               json.dumps(item.data, ensure_ascii=False)))
                if seen.probe is None or item.time > seen.probe.time:
                    seen.probe = item
                t = item.time
            else:
                states.append((item.since, c, g, item.device, item.state.value, item.reason))
                if seen.state is None or item.since >= seen.state.since:
                    seen.state = item
                if seen.earliest_change is None or item.since < seen.earliest_change:
                    seen.earliest_change = item.since
                t = item.since if item.state in _SEEN_STATES else None
            if t is not None and (seen.last_seen is None or t > seen.last_seen):
                seen.last_seen = t
        if rejected:
            reason, details = summarise_rejections(rejected, len(env.items) + len(rejected))
            dead.append(_dead_letter(msg, c, g, env.seq, ITEMS_REJECTED, reason,
                                     rejected[0].index, details))
        result.rejected_items += len(rejected)

    for table, records, columns in (
        ("readings", readings, ["time", "community", "gateway", "device", "metric", "value"]),
        ("events", events, ["time", "community", "gateway", "device", "type", "severity",
                            "active", "data"]),
        ("device_state_changes", states, ["since", "community", "gateway", "device", "state",
                                          "reason"]),
        ("probes", probes, ["time", "community", "gateway", "device", "ok", "reason", "data"]),
    ):
        if records:
            await conn.copy_records_to_table(table, records=records, columns=columns)
    await store_pictures(conn, pictures.rows)
    latest.fold_readings(readings)
    result.readings, result.events = len(readings), len(events)
    result.states, result.probes = len(states), len(probes)
    await store_latest_values(conn, latest, gateways)
    return {r[1] for r in states} | {r[1] for r in events}


def _dead_letter(msg: Received, community: str | None, gateway: str | None, seq: int | None,
                 code: str, reason: str, item_index: int | None,
                 details: dict[str, Any] | None) -> tuple[Any, ...]:
    """One `dead_letters` row. The payload is the message as received (bytea takes any
    bytes); text goes through `storable`, so the row itself can always be written.
    `item_index` is the first rejected item's index for `items_rejected`, else null."""
    return (msg.received_at, storable(msg.topic), community, gateway, seq, code,
            storable(reason), msg.payload, item_index, details_json(details))


async def _write_statuses(conn: asyncpg.Connection, messages: Sequence[Received],
                          result: WriteResult) -> None:
    """Apply birth / last-will messages in arrival order (the last one per gateway wins).

    Arrival order, not the payload time: a last will carries the time the gateway
    connected, which is older than the birth message it follows.
    """
    latest: dict[tuple[str, str], Received] = {}
    for msg in messages:
        if msg.status is not None:
            latest[(msg.status.community, msg.status.gateway)] = msg
            result.statuses += 1
    if not latest:
        return
    keys = sorted(latest)
    statuses = [latest[k] for k in keys]
    # Every birth and will in arrival order: gateway-offline time for windowed availability.
    flips = [m for m in messages if m.status is not None]
    await conn.execute(
        """INSERT INTO gateway_status_changes (community, gateway, at, online)
           SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bool[])""",
        [m.status.community for m in flips if m.status],
        [m.status.gateway for m in flips if m.status], [m.received_at for m in flips],
        [m.status.online for m in flips if m.status])
    await conn.execute(
        """INSERT INTO gateways AS g (community, gateway, online, since, reported_at, version)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::timestamptz[],
                                $5::timestamptz[], $6::text[])
           ON CONFLICT (community, gateway) DO UPDATE SET
               since = CASE WHEN g.online IS DISTINCT FROM EXCLUDED.online
                            THEN EXCLUDED.since ELSE g.since END,
               online = EXCLUDED.online,
               reported_at = EXCLUDED.reported_at,
               version = coalesce(EXCLUDED.version, g.version)""",
        [k[0] for k in keys], [k[1] for k in keys],
        [m.status.online for m in statuses if m.status],
        [m.received_at for m in statuses], [m.status.time for m in statuses if m.status],
        [m.status.version for m in statuses if m.status])
