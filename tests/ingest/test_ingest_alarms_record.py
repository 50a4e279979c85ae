"""Alarms raised by stored events, through the real writer on a migrated database:
conditions open and clear, momentary events open one alarm each, redelivery opens none."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from ingest_support import envelope, msg
from safety_support import AS_OF, COMMUNITY, GW1, ev, load_community, press, write

from ingest.writer import write_batch
from telemetry import Severity
from web.alarms.query import changes_after, list_alarms

pytestmark = pytest.mark.asyncio

T = AS_OF - timedelta(hours=2)


@pytest.fixture
async def safe(conn: asyncpg.Connection) -> asyncpg.Connection:
    await load_community(conn)
    return conn


async def alarms(conn: asyncpg.Connection, **filters: object) -> list[dict[str, object]]:
    return await list_alarms(conn, COMMUNITY, **filters)  # type: ignore[arg-type]


async def test_a_condition_opens_an_alarm_and_its_clearing_marks_it_cleared(
        safe: asyncpg.Connection) -> None:
    result = await write(safe, ev("hz-n", "fire_lane_blocked", T, active=True, value=1.0))
    assert (result.events, result.alarms_opened) == (1, 1)
    [alarm] = await alarms(safe)
    assert {k: alarm[k] for k in ("device", "device_kind", "compound", "type", "key",
                                  "severity", "momentary", "active", "state",
                                  "raised_at", "cleared_at")} == {
        "device": "hz-n", "device_kind": "fire_hazard_sensor", "compound": "north",
        "type": "fire_lane_blocked", "key": "", "severity": "alarm", "momentary": False,
        "active": True, "state": "open", "raised_at": "2026-11-24T06:00:00Z",
        "cleared_at": None}
    cleared = await write(safe, ev("hz-n", "fire_lane_blocked", T + timedelta(minutes=3),
                                   active=False, value=0.0))
    assert cleared.alarms_cleared == 1
    [alarm] = await alarms(safe)
    assert (alarm["active"], alarm["cleared_at"], alarm["state"]) == (
        False, "2026-11-24T06:03:00Z", "open")  # clearing does not close: staff do
    changes = await changes_after(safe, 0)
    assert [(c["change"], c["at"]) for c in changes] == [
        ("opened", "2026-11-24T06:00:00Z"), ("cleared", "2026-11-24T06:03:00Z")]


async def test_a_condition_raised_again_while_up_adds_nothing_and_after_clearing_opens_anew(
        safe: asyncpg.Connection) -> None:
    await write(safe, ev("hz-n", "fire_door_open", T, active=True))
    again = await write(safe, ev("hz-n", "fire_door_open", T + timedelta(minutes=1),
                                 active=True))  # a gateway restart repeats what is up
    assert again.alarms_opened == 0
    assert len(await alarms(safe)) == 1
    # open, clear and open again inside one envelope: two alarms, in time order
    result = await write(safe,
                         ev("hz-n", "fire_door_open", T + timedelta(minutes=9), active=True),
                         ev("hz-n", "fire_door_open", T + timedelta(minutes=5), active=False))
    assert (result.alarms_cleared, result.alarms_opened) == (1, 1)
    got = await alarms(safe)
    assert [(a["raised_at"], a["active"]) for a in got] == [
        ("2026-11-24T06:09:00Z", True), ("2026-11-24T06:00:00Z", False)]


async def test_conditions_are_told_apart_by_zone_and_port(safe: asyncpg.Connection) -> None:
    await write(safe,
                ev("fp-n", "zone_fire", T, active=True, severity=Severity.CRITICAL, zone=1),
                ev("fp-n", "zone_fire", T, active=True, severity=Severity.CRITICAL, zone=2),
                ev("fp-n", "port_fault", T, active=True, port=1))  # a registered device
    await write(safe, ev("fp-n", "zone_fire", T + timedelta(minutes=2), active=False,
                         severity=Severity.CRITICAL, zone="1"))  # the zone sent as text
    got = {(a["device"], a["key"]): a["active"] for a in await alarms(safe)}
    assert got == {("fp-n", "zone=1"): False, ("fp-n", "zone=2"): True,
                   ("fp-n", "port=1"): True}


async def test_each_momentary_event_opens_its_own_alarm(safe: asyncpg.Connection) -> None:
    result = await write(safe, press("sos-1", T), press("sos-1", T + timedelta(seconds=30)),
                         ev("cam-n1", "object_thrown", T, floor=12),
                         ev("cam-n1", "ebike_detected", T, confidence=0.91))
    assert result.alarms_opened == 4
    got = await alarms(safe, type_="sos_pressed")
    assert [(a["device"], a["severity"], a["momentary"], a["active"]) for a in got] == [
        ("sos-1", "critical", True, None)] * 2
    [thrown] = await alarms(safe, type_="object_thrown")
    assert thrown["data"] == {"floor": 12}


async def test_a_redelivered_envelope_or_a_resent_event_never_opens_a_second_alarm(
        safe: asyncpg.Connection) -> None:
    payload = envelope(900, [press("sos-2", T)], community=COMMUNITY, gateway=GW1,
                       sent_at=AS_OF)
    first = await write_batch(safe, [msg(payload, community=COMMUNITY, gateway=GW1,
                                         now=AS_OF)])
    redelivered = await write_batch(safe, [msg(payload, community=COMMUNITY, gateway=GW1,
                                               now=AS_OF)])
    assert (first.alarms_opened, redelivered.duplicates, redelivered.alarms_opened) == (
        1, 1, 0)
    # The same press again under a new seq (a spool that lost its PUBACK record).
    resent = await write(safe, press("sos-2", T), seq=901)
    assert (resent.events, resent.alarms_opened) == (1, 0)
    assert len(await alarms(safe, type_="sos_pressed")) == 1
    assert [c["change"] for c in await changes_after(safe, 0)] == ["opened"]


async def test_info_and_warning_events_raise_no_alarm_nor_does_an_unregistered_device(
        safe: asyncpg.Connection) -> None:
    result = await write(
        safe,
        ev("gate-n-p", "gate_pass", T, severity=Severity.INFO, direction="in",
           subject="person", credential="face"),
        ev("cam-n1", "ebike_left", T, severity=Severity.INFO),
        ev("fp-n", "zone_disabled", T, active=True, severity=Severity.WARNING, zone=1),
        ev("fp-n", "zone_disabled", T + timedelta(minutes=1), active=False,
           severity=Severity.WARNING, zone=1),
        ev("stray-9", "manhole_open", T, active=True))
    assert (result.events, result.alarms_opened, result.alarms_cleared) == (4, 0, 0)
    assert (result.rejected_items, result.dead_letters) == (1, 1)
    assert await alarms(safe) == []
    reason = await safe.fetchval("SELECT reason FROM dead_letters")
    assert "unknown_device: device 'stray-9' is not in community" in reason


async def test_alarm_list_filters_by_state_type_and_time_newest_first(
        safe: asyncpg.Connection) -> None:
    await write(safe, press("sos-1", T - timedelta(days=2)), press("sos-1", T),
                ev("per-n", "perimeter_intrusion", T + timedelta(minutes=1), active=True))
    assert [a["type"] for a in await alarms(safe)] == [
        "perimeter_intrusion", "sos_pressed", "sos_pressed"]
    since = await alarms(safe, since=T - timedelta(hours=1))
    assert [a["raised_at"] for a in since] == ["2026-11-24T06:01:00Z",
                                               "2026-11-24T06:00:00Z"]
    assert await alarms(safe, state="acknowledged") == []
    assert len(await alarms(safe, type_="sos_pressed", state="open")) == 2
