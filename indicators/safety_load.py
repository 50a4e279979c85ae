"""Load the safety facts as of a time and run the safety indicators: e-bikes in
elevators, high-rise throw detection, access control, perimeter detection and the
elderly emergency call.

Effective states are rebuilt as of `as_of` (see `states`). What alarms show is read from
the alarm list (`alarms`), by the time each was raised; an acknowledgement counts only
if it happened by `as_of`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from indicators.elderly import (
    COVERAGE,
    RESPONSE_RATE,
    SOS_EVENT,
    SOS_WINDOW,
    SosDeviceFact,
    SosPress,
    elderly_sos_coverage,
    elderly_sos_response_rate,
)
from indicators.elevator import (
    DETECTED,
    EBIKE_WINDOW,
    LOCKOUT,
    DetectorAlarm,
    EbikeDetectorFact,
    ElevatorFact,
    LockoutFact,
    ebike_elevator_compounds,
)
from indicators.elevator import INDICATOR_ID as EBIKE
from indicators.field_load import load_buildings, load_compounds
from indicators.model import DEFAULT_WINDOW, IndicatorResult
from indicators.security import (
    ACCESS_CONTROL,
    PERIMETER,
    SiteDeviceFact,
    access_control_compounds,
    perimeter_compounds,
)
from indicators.states import EffectiveState, load_effective_states
from indicators.throw import INDICATOR_ID as THROW
from indicators.throw import ThrowCameraFact, highrise_throw_coverage

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
Record = Any

#: In docs/indicators.md order.
SAFETY_INDICATORS: Final = (EBIKE, THROW, ACCESS_CONTROL, PERIMETER, RESPONSE_RATE,
                            COVERAGE)
SAFETY_KINDS: Final = ("elevator", "ebike_detector", "elevator_controller", "throw_camera",
                       "access_gate", "perimeter_detector", "sos_button")


def _data(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):  # asyncpg returns jsonb as text unless a codec is set
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


async def load_safety_devices(conn: Connection, community: str, as_of: datetime
                              ) -> tuple[list[Record], dict[str, EffectiveState]]:
    rows = await conn.fetch(
        """SELECT id, kind, gateway, protocol, compound, building, elevator, resident,
                  subjects, watch_from, watch_to
           FROM devices WHERE community = $1 AND kind = ANY($2) ORDER BY id""",
        community, list(SAFETY_KINDS))
    states = await load_effective_states(conn, community, rows, as_of)
    return list(rows), states


async def load_ebike_facts(conn: Connection, community: str, rows: list[Record],
                           states: dict[str, EffectiveState], as_of: datetime,
                           window: timedelta
                           ) -> tuple[list[ElevatorFact], list[EbikeDetectorFact],
                                      list[LockoutFact]]:
    """Elevators, their detectors with the alarms that show them, and the lock-outs."""
    elevator_of = {r["id"]: r["elevator"] for r in rows if r["elevator"] is not None}
    detector_ids = {r["id"] for r in rows if r["kind"] == "ebike_detector"}
    shown: dict[str, list[DetectorAlarm]] = {}
    for r in await conn.fetch(
            """SELECT DISTINCT ON (device) device, raised_at FROM alarms
               WHERE community = $1 AND type = $2 AND raised_at >= $3 AND raised_at <= $4
               ORDER BY device, raised_at DESC""",
            community, DETECTED, as_of - window, as_of):
        shown.setdefault(r["device"], []).append(DetectorAlarm(DETECTED, r["raised_at"]))
    lockouts: list[LockoutFact] = []
    for r in await conn.fetch(
            """SELECT device, raised_at, data FROM alarms
               WHERE community = $1 AND type = $2 AND raised_at >= $3 AND raised_at <= $4
               ORDER BY raised_at""", community, LOCKOUT, as_of - window, as_of):
        data = _data(r["data"])
        detector = data.get("detector")
        if not isinstance(detector, str):
            detector = r["device"] if r["device"] in detector_ids else None
        if detector is not None:
            shown.setdefault(detector, []).append(DetectorAlarm(LOCKOUT, r["raised_at"]))
        lift = elevator_of.get(detector or "") or elevator_of.get(r["device"])
        lockouts.append(LockoutFact(r["raised_at"], lift, _number(data.get("latency_ms"))))
    elevators = [ElevatorFact(r["id"], r["compound"], r["building"])
                 for r in rows if r["kind"] == "elevator"]
    detectors = [EbikeDetectorFact(r["id"], r["elevator"], states[r["id"]],
                                   tuple(shown.get(r["id"], ())))
                 for r in rows if r["kind"] == "ebike_detector"]
    return elevators, detectors, lockouts


async def load_sos_presses(conn: Connection, community: str, as_of: datetime,
                           window: timedelta) -> list[SosPress]:
    """Every `sos_pressed` alarm raised in the window, registered device or not."""
    return [SosPress(r["id"], r["device"], r["raised_at"], r["acknowledged_at"],
                     r["acknowledged_by"], r["resident"])
            for r in await conn.fetch(
                """SELECT a.id, a.device, a.raised_at, a.acknowledged_at, a.acknowledged_by,
                          d.resident
                   FROM alarms a
                   LEFT JOIN devices d ON d.community = a.community AND d.id = a.device
                   WHERE a.community = $1 AND a.type = $2 AND a.raised_at >= $3
                     AND a.raised_at <= $4
                   ORDER BY a.raised_at, a.id""", community, SOS_EVENT, as_of - window,
                as_of)]


def _site(rows: list[Record], states: dict[str, EffectiveState],
          kind: str) -> list[SiteDeviceFact]:
    return [SiteDeviceFact(r["id"], r["compound"], states[r["id"]], tuple(r["subjects"]))
            for r in rows if r["kind"] == kind]


async def safety_indicators(conn: Connection, community: str, as_of: datetime,
                            window: timedelta | None) -> list[IndicatorResult]:
    """The six safety indicators in SAFETY_INDICATORS order. A window of None gives each
    its default: 7 days for e-bike alarms and SOS responses, 24 h (a label) otherwise."""
    live = window or DEFAULT_WINDOW
    compounds = await load_compounds(conn, community)
    buildings = await load_buildings(conn, community)
    lone_elderly = await conn.fetchval("SELECT lone_elderly FROM communities WHERE id = $1",
                                       community)
    rows, states = await load_safety_devices(conn, community, as_of)
    ebike_window = window or EBIKE_WINDOW
    elevators, detectors, lockouts = await load_ebike_facts(conn, community, rows, states,
                                                            as_of, ebike_window)
    sos_window = window or SOS_WINDOW
    presses = await load_sos_presses(conn, community, as_of, sos_window)
    cameras = [ThrowCameraFact(r["id"], r["building"],
                               None if r["watch_from"] is None
                               else (r["watch_from"], r["watch_to"]), states[r["id"]])
               for r in rows if r["kind"] == "throw_camera"]
    buttons = [SosDeviceFact(r["id"], r["resident"], states[r["id"]])
               for r in rows if r["kind"] == "sos_button"]
    return [
        ebike_elevator_compounds(compounds, elevators, detectors, lockouts, as_of,
                                 ebike_window),
        highrise_throw_coverage(buildings, cameras, as_of, live),
        access_control_compounds(compounds, _site(rows, states, "access_gate"), as_of, live),
        perimeter_compounds(compounds, _site(rows, states, "perimeter_detector"), as_of,
                            live),
        elderly_sos_response_rate(presses, as_of, sos_window, lone_elderly=lone_elderly),
        elderly_sos_coverage(lone_elderly, buttons, as_of, live),
    ]
