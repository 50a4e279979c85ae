"""Load meter, charging-station and fire facts as of a time, and run the field indicators:
energy collection, smart charging, fire-hazard detection and fire alarm coverage.

Effective states are rebuilt as of `as_of` (see `states`); a GB 26875 panel carries the
state of the transmission device it reports through. Open conditions are the latest
event with `active` set per device, type and — for zone conditions — `data.zone`, at or
before as_of. Only valid readings count: finite and not negative. Latest values come from
the tables the writer keeps (`latest_load`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from indicators.charging import (
    CHARGING_WINDOW,
    EVENT_TYPES,
    CompoundFact,
    StationEvent,
    StationFact,
    smart_charging_compounds,
)
from indicators.energy import (
    ENERGY_METRIC,
    ENERGY_WINDOW,
    MeterFact,
    energy_collection_rate,
)
from indicators.fire import (
    ZONE_CONDITIONS,
    BuildingFact,
    HazardDeviceFact,
    ZoneFact,
    fire_alarm_coverage,
    fire_hazard_compounds,
)
from indicators.latest_load import latest_conditions, latest_valid_readings
from indicators.model import DEFAULT_WINDOW, IndicatorResult
from indicators.states import EffectiveState, load_effective_states

Connection = Any  # asyncpg.Connection; asyncpg ships no type information


def _data(value: Any) -> Mapping[str, Any]:
    """An event's data: asyncpg returns jsonb as text unless a codec is set."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


async def load_meter_facts(conn: Connection, community: str,
                           as_of: datetime) -> tuple[int | None, list[MeterFact]]:
    """The declared household count and the community's meters, each with its latest
    valid `energy_import_kwh` reading at or before as_of."""
    households = await conn.fetchval("SELECT households FROM communities WHERE id = $1",
                                     community)
    rows = await conn.fetch(
        """SELECT id, gateway, protocol, household FROM devices
           WHERE community = $1 AND kind = 'meter' ORDER BY id""", community)
    states = await load_effective_states(conn, community, rows, as_of)
    last = await latest_valid_readings(conn, community, [r["id"] for r in rows],
                                       ENERGY_METRIC, as_of)
    return households, [
        MeterFact(id=r["id"], household=r["household"], remote=r["protocol"] is not None,
                  status=states[r["id"]], last_reading=last.get(r["id"]))
        for r in rows]


async def load_compounds(conn: Connection, community: str) -> list[CompoundFact]:
    return [CompoundFact(r["id"], r["ebikes"], r["name"], r["closed"], r["elevators"])
            for r in await conn.fetch("""SELECT id, name, ebikes, closed, elevators
                                         FROM compounds WHERE community = $1 ORDER BY id""",
                                      community)]


async def load_station_facts(conn: Connection, community: str, as_of: datetime,
                             window: timedelta) -> list[StationFact]:
    """The charging stations with the events that can show a function in the window:
    the latest one per station, type, stop reason, active flag and self-test result."""
    rows = await conn.fetch(
        """SELECT id, gateway, protocol, compound FROM devices
           WHERE community = $1 AND kind = 'charger' ORDER BY id""", community)
    states = await load_effective_states(conn, community, rows, as_of)
    events: dict[str, list[StationEvent]] = {}
    for r in await conn.fetch(
            """SELECT DISTINCT ON (device, type, data->>'reason', active,
                                   data->>'auto_power_off', data->>'timed_charging',
                                   data->>'fault_alarm')
                      device, type, time, active, data
               FROM events
               WHERE community = $1 AND device = ANY($2) AND type = ANY($3)
                 AND time >= $4 AND time <= $5
               ORDER BY device, type, data->>'reason', active, data->>'auto_power_off',
                        data->>'timed_charging', data->>'fault_alarm', time DESC""",
            community, [r["id"] for r in rows], list(EVENT_TYPES), as_of - window, as_of):
        events.setdefault(r["device"], []).append(
            StationEvent(r["type"], r["time"], _data(r["data"]), r["active"]))
    return [StationFact(r["id"], r["compound"], states[r["id"]],
                        tuple(events.get(r["id"], ()))) for r in rows]


async def load_buildings(conn: Connection, community: str) -> list[BuildingFact]:
    return [BuildingFact(r["id"], r["compound"], r["residential"], r["floors"]) for r in
            await conn.fetch("""SELECT id, compound, residential, floors FROM buildings
                                WHERE community = $1 ORDER BY id""", community)]


@dataclass(frozen=True, slots=True)
class FireFacts:
    compounds: list[str]
    buildings: list[BuildingFact]
    zones: list[ZoneFact]
    hazard_devices: list[HazardDeviceFact]


async def load_fire_facts(conn: Connection, community: str, as_of: datetime) -> FireFacts:
    compounds = [r["id"] for r in await conn.fetch(
        "SELECT id FROM compounds WHERE community = $1 ORDER BY id", community)]
    buildings = await load_buildings(conn, community)
    rows = await conn.fetch(
        """SELECT id, kind, gateway, protocol, address, compound, hazards FROM devices
           WHERE community = $1 AND (kind IN ('fire_panel', 'fire_transmission_device')
                                     OR cardinality(hazards) > 0)
           ORDER BY id""", community)
    states = await load_effective_states(conn, community, rows, as_of)
    panels = [r["id"] for r in rows if r["kind"] == "fire_panel"]
    via = transmission_devices(rows)
    open_conditions: dict[tuple[str, int], list[str]] = {}
    for r in await latest_conditions(conn, community, panels, list(ZONE_CONDITIONS), as_of):
        zone = _zone_number(r["zone"])
        if r["active"] and zone is not None:
            open_conditions.setdefault((r["device"], zone), []).append(r["type"])
    zones = [ZoneFact(panel=r["panel"], zone=r["zone"], building=r["building"],
                      public=r["area"] == "public",
                      panel_status=states.get(r["panel"], EffectiveState()),
                      open_conditions=tuple(sorted(open_conditions.get(
                          (r["panel"], r["zone"]), ()))),
                      via=via.get(r["panel"]),
                      via_status=states.get(via[r["panel"]]) if r["panel"] in via else None)
             for r in await conn.fetch(
                 """SELECT panel, zone, building, area FROM fire_zones
                    WHERE community = $1 ORDER BY panel, zone""", community)]
    hazard_devices = [HazardDeviceFact(r["id"], r["kind"], r["compound"],
                                       tuple(r["hazards"]), states[r["id"]])
                      for r in rows if r["hazards"]]
    return FireFacts(compounds, buildings, zones, hazard_devices)


def transmission_devices(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Panel id -> the GB 26875 transmission device it reports through, for the panels
    whose address is `DEVICE/SYSTEM_ADDRESS` naming a registered fire_transmission_device
    (the inventory checks that on import)."""
    boxes = {r["id"] for r in rows if r["kind"] == "fire_transmission_device"}
    out: dict[str, str] = {}
    for r in rows:
        if r["kind"] != "fire_panel" or r["protocol"] != "gb26875" or not r["address"]:
            continue
        device = str(r["address"]).rpartition("/")[0].strip()
        if device in boxes:
            out[r["id"]] = device
    return out


def _zone_number(text: str | None) -> int | None:
    """`data.zone` as the panel sent it (a number, or its digits as text)."""
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


async def energy_indicators(conn: Connection, community: str, as_of: datetime,
                            window: timedelta | None) -> list[IndicatorResult]:
    households, meters = await load_meter_facts(conn, community, as_of)
    return [energy_collection_rate(meters, households, as_of, window or ENERGY_WINDOW)]


async def charging_indicators(conn: Connection, community: str, as_of: datetime,
                              window: timedelta | None) -> list[IndicatorResult]:
    span = window or CHARGING_WINDOW
    compounds = await load_compounds(conn, community)
    stations = await load_station_facts(conn, community, as_of, span)
    return [smart_charging_compounds(compounds, stations, as_of, span)]


async def fire_indicators(conn: Connection, community: str, as_of: datetime,
                          window: timedelta | None) -> list[IndicatorResult]:
    """Fire-hazard detection then fire alarm coverage, in docs/indicators.md order."""
    facts = await load_fire_facts(conn, community, as_of)
    span = window or DEFAULT_WINDOW
    return [fire_hazard_compounds(facts.compounds, facts.hazard_devices, as_of, span),
            fire_alarm_coverage(facts.buildings, facts.zones, as_of, span)]
