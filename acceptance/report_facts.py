"""What the report reads from the database besides the indicators: when the community's
data begins, why devices are in state unknown (their gateway says it is offline, or they
have not reported yet).

Kept apart from `acceptance.report` (pure assembly) so the words the report prints about
data follow from facts queried in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from indicators.states import load_effective_states, load_gateways

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

#: The device kinds behind each indicator's `unknown` items.
INDICATOR_KINDS: Final[dict[str, tuple[str, ...]]] = {
    "smart_lighting_rate": ("light",), "lighting_energy_saving": ("light",),
    "video_key_coverage": ("camera",), "video_networked_rate": ("camera",),
    "video_networked_time_rate": ("camera",),
    "video_intact_rate": ("camera",), "video_picture_out_rate": ("camera",),
    "video_record_compliance": ("camera",), "energy_collection_rate": ("meter",),
    "smart_charging_compounds": ("charger",),
    "fire_hazard_compounds": ("fire_hazard_sensor", "fire_panel"),
    "fire_alarm_coverage": ("fire_panel",), "ebike_elevator_compounds": ("ebike_detector",),
    "highrise_throw_coverage": ("throw_camera",), "access_control_compounds": ("access_gate",),
    "perimeter_compounds": ("perimeter_detector",), "elderly_sos_coverage": ("sos_button",),
    "elderly_sos_response_rate": ("sos_button",)}


@dataclass(frozen=True, slots=True)
class UnknownCauses:
    """Per device kind, the gateways whose last word is offline while devices of that
    kind behind them are unknown, and how many unknown devices simply never reported."""

    offline_gateways: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    not_reported: Mapping[str, int] = field(default_factory=dict)
    #: False for the empty stand-in (not looked up): the report then looks them up.
    known: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON the evaluator keeps with a snapshot."""
        return {"offline_gateways": {k: list(v) for k, v in self.offline_gateways.items()},
                "not_reported": dict(self.not_reported)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> UnknownCauses:
        """From `to_dict`'s JSON; not `known` when there is none (an older snapshot)."""
        if d is None:
            return cls()
        return cls({k: tuple(v) for k, v in d.get("offline_gateways", {}).items()},
                   dict(d.get("not_reported", {})), known=True)

    def words(self, kinds: Iterable[str] | None = None) -> str:
        """`状态未知（网关xy-gw1离线）`, `状态未知（设备尚未上报）`, both causes, or
        `状态未知` when none is known (a recorded past, say)."""
        wanted = set(kinds) if kinds is not None else (
            set(self.offline_gateways) | set(self.not_reported))
        gateways = sorted({g for k in wanted for g in self.offline_gateways.get(k, ())})
        silent = sum(self.not_reported.get(k, 0) for k in wanted)
        offline = f"网关{'、'.join(gateways)}离线" if gateways else ""
        cause = (f"{offline}或设备尚未上报" if offline and silent else offline
                 or ("设备尚未上报" if silent else ""))
        return f"状态未知（{cause}）" if cause else "状态未知"

    def for_indicators(self) -> dict[str, str]:
        return {ident: self.words(kinds) for ident, kinds in INDICATOR_KINDS.items()}


async def unknown_causes(conn: Connection, community: str, at: datetime) -> UnknownCauses:
    """Why each monitored device in state unknown at `at` is unknown: a gateway is
    offline only when the gateway's own status says so; otherwise nothing was reported."""
    rows = await conn.fetch(
        """SELECT id, kind, gateway, protocol FROM devices
           WHERE community = $1 AND protocol IS NOT NULL ORDER BY id""", community)
    if not rows:
        return UnknownCauses(known=True)
    states = await load_effective_states(conn, community, rows, at)
    gateways = await load_gateways(conn, community)
    offline: dict[str, set[str]] = {}
    silent: dict[str, int] = {}
    for r in rows:
        if states[r["id"]].state != "unknown":
            continue
        gw = gateways.get(r["gateway"]) if r["gateway"] is not None else None
        if gw is not None and gw["online"] is False and (gw["since"] is None
                                                        or gw["since"] <= at):
            offline.setdefault(r["kind"], set()).add(r["gateway"])
        else:
            silent[r["kind"]] = silent.get(r["kind"], 0) + 1
    return UnknownCauses({k: tuple(sorted(v)) for k, v in offline.items()}, silent,
                         known=True)


async def first_data(conn: Connection, community: str) -> datetime | None:
    """The time of the community's earliest device data, None when there is none.

    A gateway reports every device's state when it first polls it, so the earliest state
    change is the start (read through the (community, device, since) index, cheap however
    long the history); readings, events and probes are looked at only for a community
    with no state change at all.
    """
    found: datetime | None = await conn.fetchval(
        """SELECT coalesce(
               (SELECT min(since) FROM device_state_changes WHERE community = $1),
               least((SELECT time FROM readings WHERE community = $1 ORDER BY time LIMIT 1),
                     (SELECT time FROM events WHERE community = $1 ORDER BY time LIMIT 1),
                     (SELECT time FROM probes WHERE community = $1 ORDER BY time LIMIT 1)))""",
        community)
    return found


async def monitored(conn: Connection, community: str) -> bool:
    """Whether any registered device can report at all (has a protocol)."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM devices WHERE community = $1 AND protocol IS NOT NULL)",
        community)
    return found
