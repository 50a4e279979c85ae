"""What the report calls the things it lists: compounds, buildings, key positions and
devices by their registered names (an assessor knows 北苑, not `north`), SOS presses by
the button and the local time. Without a registered name, the id is all there is.

Buildings have no name column: a building's `attrs: {name: 3号楼}` names it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

#: Acceptance is a Shandong matter: times are written in Beijing time.
LOCAL_ZONE: Final = ZoneInfo("Asia/Shanghai")
#: What the items of each indicator's breakdown are.
ITEM_KINDS: Final[dict[str, str]] = {
    "smart_lighting_rate": "device", "lighting_energy_saving": "device",
    "video_key_coverage": "key_position", "video_networked_rate": "device",
    "video_intact_rate": "device", "video_picture_out_rate": "device",
    "video_record_compliance": "device", "energy_collection_rate": "device",
    "smart_charging_compounds": "compound", "fire_hazard_compounds": "compound",
    "ebike_elevator_compounds": "compound", "access_control_compounds": "compound",
    "perimeter_compounds": "compound", "fire_alarm_coverage": "building",
    "highrise_throw_coverage": "building", "elderly_sos_coverage": "device",
    "elderly_sos_response_rate": "press"}


def local_time(t: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`t` in Beijing time (the tables' readers' clock)."""
    return t.astimezone(LOCAL_ZONE).strftime(fmt)


@dataclass(frozen=True, slots=True)
class Names:
    """Registered names by kind of item, id -> name."""

    compounds: Mapping[str, str] = field(default_factory=dict)
    buildings: Mapping[str, str] = field(default_factory=dict)
    key_positions: Mapping[str, str] = field(default_factory=dict)
    devices: Mapping[str, str] = field(default_factory=dict)

    def of(self, kind: str, ident: str) -> str:
        table: Mapping[str, str] = {"compound": self.compounds, "building": self.buildings,
                                    "key_position": self.key_positions,
                                    "device": self.devices}.get(kind, {})
        return table.get(ident) or ident

    def namer(self, indicator: str, details: Mapping[str, Any] | None = None
              ) -> Callable[[str], str]:
        """How to write the items of `indicator`'s breakdown (`details`: the result's,
        which for SOS presses say whose button and when)."""
        kind = ITEM_KINDS.get(indicator, "device")
        if kind == "press":
            presses = {f"alarm:{p.get('alarm')}": p
                       for p in (details or {}).get("presses", ()) if isinstance(p, dict)}
            return lambda label: self._press(label, presses.get(label))
        return lambda ident: self.of(kind, ident)

    def _press(self, label: str, press: Mapping[str, Any] | None) -> str:
        if press is None:
            return label
        when = press.get("pressed_at")
        at = local_time(datetime.fromisoformat(str(when))) if when else ""
        return f"{self.of('device', str(press.get('device')))}{at}的呼叫"


def _name(row: Mapping[str, Any]) -> str | None:
    name = row["name"]
    return str(name).strip() or None if name is not None else None


async def load_names(conn: Connection, community: str) -> Names:
    """The registered names of `community`'s compounds, buildings, positions, devices."""
    compounds = {r["id"]: n for r in await conn.fetch(
        "SELECT id, name FROM compounds WHERE community = $1", community)
        if (n := _name(r))}
    buildings: dict[str, str] = {}
    for r in await conn.fetch(
            "SELECT id, attrs FROM buildings WHERE community = $1", community):
        attrs = r["attrs"]
        if isinstance(attrs, str):  # asyncpg returns jsonb as text unless a codec is set
            attrs = json.loads(attrs)
        name = attrs.get("name") if isinstance(attrs, dict) else None
        if isinstance(name, str) and name.strip():
            buildings[r["id"]] = name.strip()
    positions = {r["id"]: n for r in await conn.fetch(
        "SELECT id, name FROM key_positions WHERE community = $1", community)
        if (n := _name(r))}
    devices = {r["id"]: n for r in await conn.fetch(
        "SELECT id, name FROM devices WHERE community = $1 AND name IS NOT NULL", community)
        if (n := _name(r))}
    return Names(compounds, buildings, positions, devices)
