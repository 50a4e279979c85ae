"""Import a validated inventory into the database, replacing that community's register."""

from __future__ import annotations

import json
from dataclasses import dataclass

import asyncpg

from inventory.model import Inventory
from inventory.personal_store import require_key, store_personal
from inventory.sealing import KeyRing


@dataclass(frozen=True, slots=True)
class ImportSummary:
    community: str
    compounds: int
    buildings: int
    devices: int
    key_positions: int = 0
    #: Cameras imported earlier from a camera sheet and not named by this inventory: kept.
    kept_sheet_cameras: int = 0
    #: Sealed personal data stored: residents and device credentials.
    residents: int = 0
    credentials: int = 0


async def import_inventory(conn: asyncpg.Connection, inventory: Inventory,
                           keys: KeyRing | None = None) -> ImportSummary:
    """Replace the community's compounds, buildings, key positions and devices (with the
    fire panels' zones), residents and device credentials in one transaction.

    Residents and credentials are sealed under the current key of `keys`
    (`inventory.personal_store`); an inventory holding them without `keys` raises NoDataKey
    before anything changes.

    Telemetry history and device status are kept: they are keyed by community and device
    id, not tied to inventory rows, so a device that comes back under the same id keeps
    its past. Cameras imported from a camera sheet (`scg inventory import-cameras`) are
    kept too unless this inventory lists the same id; references they held to compounds or
    key positions this inventory no longer has are cleared. Rows are upserted and the
    left-overs deleted afterwards, so kept cameras never point at a missing row.
    """
    require_key(inventory, keys)
    c = inventory.community
    boundary = json.dumps(c.boundary.to_json()) if c.boundary is not None else None
    compound_ids = [x.id for x in inventory.compounds]
    building_ids = [b.id for b in inventory.buildings]
    position_ids = [k.id for k in inventory.key_positions]
    async with conn.transaction():
        await conn.execute("""
            INSERT INTO communities (id, name, district_code, households, boundary, source,
                                     lone_elderly, imported_at)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, now())
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,
                district_code = EXCLUDED.district_code, households = EXCLUDED.households,
                boundary = EXCLUDED.boundary, source = EXCLUDED.source,
                lone_elderly = EXCLUDED.lone_elderly, imported_at = now()""",
            c.id, c.name, c.district, c.households, boundary, inventory.source,
            c.lone_elderly)
        await conn.execute(
            "DELETE FROM devices WHERE community = $1 AND (origin = 'inventory' OR id = ANY($2))",
            c.id, [d.id for d in inventory.devices])
        await conn.executemany("""
            INSERT INTO compounds (community, id, name, closed, ebikes, attrs, elevators)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
            ON CONFLICT (community, id) DO UPDATE SET name = EXCLUDED.name,
                closed = EXCLUDED.closed, ebikes = EXCLUDED.ebikes, attrs = EXCLUDED.attrs,
                elevators = EXCLUDED.elevators""",
            [(c.id, x.id, x.name, x.closed, x.ebikes, json.dumps(x.attrs), x.elevators)
             for x in inventory.compounds])
        await conn.executemany("""
            INSERT INTO buildings (community, id, compound, floors, residential, attrs)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb)
            ON CONFLICT (community, id) DO UPDATE SET compound = EXCLUDED.compound,
                floors = EXCLUDED.floors, residential = EXCLUDED.residential,
                attrs = EXCLUDED.attrs""",
            [(c.id, b.id, b.compound, b.floors, b.residential, json.dumps(b.attrs))
             for b in inventory.buildings])
        await conn.executemany("""
            INSERT INTO key_positions (community, id, type, name, compound)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (community, id) DO UPDATE SET type = EXCLUDED.type,
                name = EXCLUDED.name, compound = EXCLUDED.compound""",
            [(c.id, k.id, k.type, k.name, k.compound) for k in inventory.key_positions])
        kept = await conn.fetchval("""
            WITH kept AS (
                UPDATE devices SET
                    compound = CASE WHEN compound = ANY($2) THEN compound END,
                    building = CASE WHEN building = ANY($3) THEN building END,
                    key_position = CASE WHEN key_position = ANY($4) THEN key_position END
                WHERE community = $1 RETURNING 1)
            SELECT count(*) FROM kept""", c.id, compound_ids, building_ids, position_ids)
        await conn.copy_records_to_table(
            "devices",
            columns=["community", "id", "kind", "name", "compound", "building", "public",
                     "gateway", "protocol", "address", "capabilities", "attrs", "code",
                     "civil_code", "longitude", "latitude", "key_position", "household",
                     "ports", "hazards", "elevator", "resident", "subjects", "watch_from",
                     "watch_to", "rated_power_w", "burn_hours_per_day"],
            records=[(c.id, d.id, d.kind, d.name, d.compound, d.building, d.public, d.gateway,
                      d.protocol, d.address, list(d.capabilities), json.dumps(d.attrs),
                      d.code, d.civil_code, d.longitude, d.latitude, d.key_position,
                      d.household, d.ports, list(d.hazards), d.elevator, d.resident,
                      list(d.subjects), *(d.watched_floors or (None, None)),
                      d.rated_power_w, d.burn_hours_per_day)
                     for d in inventory.devices])
        # The panels' old zones went with their device rows (ON DELETE CASCADE).
        await conn.copy_records_to_table(
            "fire_zones", columns=["community", "panel", "zone", "building", "area"],
            records=[(c.id, d.id, z.zone, z.building, z.area)
                     for d in inventory.devices for z in d.zones])
        await store_personal(conn, inventory, keys)
        # Gateways listed before any device names them (ingest.register reads both).
        await conn.execute("DELETE FROM community_gateways WHERE community = $1", c.id)
        await conn.execute("INSERT INTO community_gateways (community, gateway) "
                           "SELECT $1, unnest($2::text[])", c.id, list(inventory.gateways))
        for table, keep in (("key_positions", position_ids), ("buildings", building_ids),
                            ("compounds", compound_ids)):  # children before their parents
            await conn.execute(f"DELETE FROM {table} WHERE community = $1 AND id <> ALL($2)",
                               c.id, keep)
    return ImportSummary(c.id, len(inventory.compounds), len(inventory.buildings),
                         len(inventory.devices), len(inventory.key_positions), kept,
                         len(inventory.residents), len(inventory.credentials))
