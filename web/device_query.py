"""The device-health query behind GET /api/communities/{id}/devices, the console's device
table and its CSV: one query, filters as parameters, so the page, the JSON and the file
list the same devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

Connection = Any  # asyncpg.Connection (asyncpg ships no type information)

STATES: Final = ("online", "degraded", "offline", "unknown", "unmonitored")
COLUMNS: Final = ("id", "kind", "name", "compound", "building", "public", "gateway",
                  "protocol", "address", "capabilities", "state", "edge_state", "since",
                  "reason", "last_seen")


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    """Each set field keeps only the devices with that value (None: any)."""

    kind: str | None = None
    state: str | None = None
    compound: str | None = None
    building: str | None = None
    gateway: str | None = None

    def params(self) -> dict[str, str]:
        return {k: v for k, v in (("kind", self.kind), ("state", self.state),
                                  ("compound", self.compound), ("building", self.building),
                                  ("gateway", self.gateway)) if v}


_WHERE: Final = """
    FROM device_effective_state
    WHERE community = $1 AND ($2::text IS NULL OR kind = $2)
      AND ($3::text IS NULL OR state = $3) AND ($4::text IS NULL OR compound = $4)
      AND ($5::text IS NULL OR building = $5) AND ($6::text IS NULL OR gateway = $6)"""


def _args(community: str, f: DeviceFilter) -> tuple[Any, ...]:
    return (community, f.kind, f.state, f.compound, f.building, f.gateway)


async def device_rows(conn: Connection, community: str, f: DeviceFilter, *,
                      limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """The community's devices matching `f`, by id; `limit` rows from `offset`."""
    rows = await conn.fetch(
        f"""SELECT device AS id, kind, name, compound, building, public, gateway, protocol,
                   address, capabilities, state, edge_state, since, reason, last_seen
            {_WHERE} ORDER BY device LIMIT $7 OFFSET $8""",
        *_args(community, f), limit, offset)
    return [dict(r) for r in rows]


async def device_count(conn: Connection, community: str, f: DeviceFilter) -> int:
    return int(await conn.fetchval(f"SELECT count(*) {_WHERE}", *_args(community, f)))
