"""Builders for the alarm and safety tests: a community with safety devices in every
state, items to write through the real writer, an API with a settable clock."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
from auth_support import ADMIN, user_headers
from fastapi import FastAPI
from ingest_support import T0, envelope, msg, status_msg

from ingest.writer import WriteResult, write_batch
from inventory import import_inventory, parse_inventory
from telemetry import DeviceState, Event, Item, Severity, StateChange
from web import create_app
from web.deps import get_clock

COMMUNITY = "safe"
GW1 = "safe-gw1"  # stays online
GW2 = "safe-gw2"  # its last will arrives: its devices are unknown
AS_OF = T0 + timedelta(days=1)

# Compounds: north passes everything; south has offline devices; east has devices behind
# the offline gateway; centre lacks devices; west is not closed. Buildings: n1 (26 floors)
# and s1 (20) are high-rise for both tiers, n2 (15), e1 (18) and w1 (12) for growth only,
# n3 (8) for neither; s2 is an office tower.
INVENTORY = """\
community: {id: safe, name: 安全社区, district: "370102", lone_elderly: 4}
compounds:
  - {id: north, closed: true, ebikes: true}
  - {id: south, closed: true}
  - {id: east, closed: true}
  - {id: centre, closed: true, elevators: false}
  - {id: west, closed: false}
buildings:
  - {id: n1, compound: north, floors: 26}
  - {id: n2, compound: north, floors: 15}
  - {id: n3, compound: north, floors: 8}
  - {id: s1, compound: south, floors: 20}
  - {id: s2, compound: south, floors: 33, residential: false}
  - {id: e1, compound: east, floors: 18}
  - {id: w1, compound: west, floors: 12}
devices:
  - {id: lift-n1, kind: elevator, building: n1}
  - {id: lift-n2, kind: elevator, building: n2}
  - {id: lift-s1, kind: elevator, building: s1}
  - {id: lift-e1, kind: elevator, building: e1}
  - {id: lift-w1, kind: elevator, building: w1}
  - {id: cam-n1, kind: ebike_detector, elevator: lift-n1, gateway: safe-gw1, protocol: mqtt}
  - {id: cam-n2, kind: ebike_detector, elevator: lift-n2, gateway: safe-gw1, protocol: mqtt}
  - {id: ctl-n2, kind: elevator_controller, elevator: lift-n2, gateway: safe-gw1,
     protocol: mqtt}
  - {id: cam-s1, kind: ebike_detector, elevator: lift-s1, gateway: safe-gw1, protocol: mqtt}
  - {id: cam-w1, kind: ebike_detector, elevator: lift-w1, gateway: safe-gw2, protocol: mqtt}
  - {id: tc-n1a, kind: throw_camera, building: n1, floors: [3, 14], gateway: safe-gw1,
     protocol: mqtt}
  - {id: tc-n1b, kind: throw_camera, building: n1, floors: [12, 26], gateway: safe-gw1,
     protocol: mqtt}
  - {id: tc-n2, kind: throw_camera, building: n2, floors: [3, 15], gateway: safe-gw1,
     protocol: mqtt}
  - {id: tc-n3, kind: throw_camera, building: n3, floors: [3, 8], gateway: safe-gw1,
     protocol: mqtt}
  - {id: tc-s1, kind: throw_camera, building: s1, floors: [5, 20], gateway: safe-gw1,
     protocol: mqtt}
  - {id: tc-e1, kind: throw_camera, building: e1, floors: [1, 18], gateway: safe-gw2,
     protocol: mqtt}
  - {id: gate-n-p, kind: access_gate, compound: north, subjects: [person],
     gateway: safe-gw1, protocol: mqtt}
  - {id: gate-n-v, kind: access_gate, compound: north, subjects: [vehicle],
     gateway: safe-gw1, protocol: mqtt}
  - {id: gate-s, kind: access_gate, compound: south, subjects: [person, vehicle],
     gateway: safe-gw1, protocol: mqtt}
  - {id: gate-e-p, kind: access_gate, compound: east, subjects: [person],
     gateway: safe-gw1, protocol: mqtt}
  - {id: gate-e-v, kind: access_gate, compound: east, subjects: [vehicle],
     gateway: safe-gw2, protocol: mqtt}
  - {id: gate-c-p, kind: access_gate, compound: centre, subjects: [person],
     gateway: safe-gw1, protocol: mqtt}
  - {id: gate-w, kind: access_gate, compound: west, subjects: [person, vehicle],
     gateway: safe-gw1, protocol: mqtt}
  - {id: per-n, kind: perimeter_detector, compound: north, gateway: safe-gw1, protocol: mqtt}
  - {id: per-s, kind: perimeter_detector, compound: south, gateway: safe-gw1, protocol: mqtt}
  - {id: per-e, kind: perimeter_detector, compound: east, gateway: safe-gw2, protocol: mqtt}
  - {id: hz-n, kind: fire_hazard_sensor, compound: north,
     hazards: [fire_lane, hydrant, fire_door], gateway: safe-gw1, protocol: mqtt}
  - {id: fp-n, kind: fire_panel, building: n1, hazards: [electrical], gateway: safe-gw1,
     protocol: modbus, address: bus1/1, zones: [{zone: 1, area: public}]}
  - {id: sos-1, kind: sos_button, resident: r1, gateway: safe-gw1, protocol: mqtt}
  - {id: sos-2, kind: sos_button, resident: r2, gateway: safe-gw1, protocol: mqtt}
  - {id: sos-3, kind: sos_button, resident: r3, gateway: safe-gw2, protocol: mqtt}
  - {id: mh-1, kind: manhole_cover, compound: north, gateway: safe-gw1, protocol: mqtt}
"""
OFFLINE = ("tc-n2", "gate-s", "per-s", "sos-2")
BEHIND_GW2 = ("cam-w1", "tc-e1", "gate-e-v", "per-e", "sos-3")

_seq = itertools.count(1)


def ev(device: str, type_: str, at: datetime, *, active: bool | None = None,
       severity: Severity = Severity.ALARM, **data: Any) -> Event:
    return Event(device, type_, severity, at, active, data)


def press(device: str, at: datetime) -> Event:
    return ev(device, "sos_pressed", at, severity=Severity.CRITICAL)


async def write(conn: asyncpg.Connection, *items: Item, gateway: str = GW1,
                seq: int | None = None, now: datetime = AS_OF) -> WriteResult:
    """Write `items` as one envelope through the real writer (a fresh seq unless given)."""
    number = next(_seq) if seq is None else seq
    return await write_batch(conn, [msg(envelope(number, items, community=COMMUNITY,
                                                 gateway=gateway, sent_at=now),
                                        community=COMMUNITY, gateway=gateway, now=now)])


async def load_community(conn: asyncpg.Connection) -> None:
    """Import the inventory and bring every device to its state: offline ones, the rest
    online, then GW2's last will."""
    await import_inventory(conn, parse_inventory(INVENTORY, "safe.yaml"))
    inv = parse_inventory(INVENTORY, "safe.yaml")
    since = AS_OF - timedelta(days=10)
    states: dict[str, list[Item]] = {GW1: [], GW2: []}
    for device in inv.devices:
        if device.protocol is None:
            continue
        st = DeviceState.OFFLINE if device.id in OFFLINE else DeviceState.ONLINE
        states[device.gateway or GW1].append(StateChange(device.id, st, since,
                                                         "no answer" if st.value ==
                                                         "offline" else ""))
    await write(conn, *states[GW1], now=since)
    await write(conn, *states[GW2], gateway=GW2, now=since)
    await write_batch(conn, [status_msg(False, community=COMMUNITY, gateway=GW2,
                                        t=since)])


class Clock:
    """The server clock of the API under test: set `now` to move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def api(dsn: str, clock: Clock, *, user: str = ADMIN
              ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The API with its clock at `clock`, and a client signed in as `user` (an admin, made
    if missing)."""
    app = create_app(dsn)
    app.dependency_overrides[get_clock] = lambda: clock
    headers = await user_headers(dsn, user)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scg",
                                     headers=headers) as client:
            yield app, client


def by_id(results: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in results}
