"""Where things are, by name: a community's compounds, buildings (their `attrs.name`) and
key positions, id -> name, so pages write 北苑 / 3号楼 rather than `north` / `b03` (ids are
unique within a community across the three; a place without a name keeps its id)."""

from __future__ import annotations

from typing import Any

Connection = Any  # asyncpg.Connection (asyncpg ships no type information)


async def place_names(conn: Connection, community: str) -> dict[str, str]:
    rows = await conn.fetch(
        """SELECT id, name FROM compounds WHERE community = $1 AND name IS NOT NULL
           UNION ALL
           SELECT id, attrs->>'name' FROM buildings WHERE community = $1 AND attrs ? 'name'
           UNION ALL
           SELECT id, name FROM key_positions WHERE community = $1 AND name IS NOT NULL""",
        community)
    return {r["id"]: r["name"] for r in rows}


def place_text(names: dict[str, str], compound: str | None, building: str | None,
               floor: object = None) -> str:
    """北苑 / 3号楼 / 12 层: a place by its names; a building named after its compound
    (北苑2号楼) is not preceded by the compound again; `—` when nothing is known."""
    parts: list[str] = []
    compound_name = names.get(compound, compound) if compound else ""
    building_name = names.get(building, building) if building else ""
    if compound_name and not (building_name and building_name.startswith(compound_name)):
        parts.append(compound_name)
    if building_name:
        parts.append(building_name)
    if floor is not None and floor != "":
        parts.append(f"{floor} 层")
    return " / ".join(parts) or "—"
