"""Import a validated inventory into the database, replacing that community's register."""

from __future__ import annotations

import json
from dataclasses import dataclass

import asyncpg

from ingest.inventory.model import Inventory


@dataclass(frozen=True, slots=True)
class ImportSummary:
    community: str
    compounds: int
    buildings: int
    devices: int


async def import_inventory(conn: asyncpg.Connection, inventory: Inventory) -> ImportSummary:
    """Replace the community's compounds, buildings and devices in one transaction.

    Telemetry history and device status are kept: they are keyed by community and device
    id, not tied to inventory rows, so a device that comes back under the same id keeps
    its past.
    """
    c = inventory.community
    async with conn.transaction():
        await conn.execute("""
            INSERT INTO communities (id, name, district_code, households, source, imported_at)
            VALUES ($1, $2, $3, $4, $5, now())
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,
                district_code = EXCLUDED.district_code, households = EXCLUDED.households,
                source = EXCLUDED.source, imported_at = now()""",
            c.id, c.name, c.district, c.households, inventory.source)
        for table in ("devices", "buildings", "compounds"):  # children first: foreign keys
            await conn.execute(f"DELETE FROM {table} WHERE community = $1", c.id)
        await conn.executemany(
            "INSERT INTO compounds (community, id, name, closed, ebikes, attrs) "
            "VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            [(c.id, x.id, x.name, x.closed, x.ebikes, json.dumps(x.attrs))
             for x in inventory.compounds])
        await conn.executemany(
            "INSERT INTO buildings (community, id, compound, floors, residential, attrs) "
            "VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            [(c.id, b.id, b.compound, b.floors, b.residential, json.dumps(b.attrs))
             for b in inventory.buildings])
        await conn.copy_records_to_table(
            "devices",
            columns=["community", "id", "kind", "name", "compound", "building", "public",
                     "gateway", "protocol", "address", "capabilities", "attrs"],
            records=[(c.id, d.id, d.kind, d.name, d.compound, d.building, d.public, d.gateway,
                      d.protocol, d.address, list(d.capabilities), json.dumps(d.attrs))
                     for d in inventory.devices])
    return ImportSummary(c.id, len(inventory.compounds), len(inventory.buildings),
                         len(inventory.devices))
