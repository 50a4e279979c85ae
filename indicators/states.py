"""Effective device states as of a time, shared by the loaders of the windowed indicators.

The rule is the `device_effective_state` view's, rebuilt for any `as_of`: no protocol ->
unmonitored; the device's gateway's last word (at or before as_of) was offline ->
unknown; no state reported by then -> unknown; otherwise the latest edge state at or
before as_of. Gateway outages that have ended are not kept, so a past as_of sees only the
current outage. Latest states come from `device_status` (see `latest_load`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from indicators.latest_load import latest_states

Connection = Any  # asyncpg.Connection; asyncpg ships no type information
Record = Any

#: States in which the device answers its gateway. `degraded` answered wrongly (a bad
#: payload, a bad picture) but answered: it is reachable, so it counts as online.
ANSWERING: Final = frozenset({"online", "degraded"})


@dataclass(frozen=True, slots=True)
class EffectiveState:
    state: str = "unknown"
    since: datetime | None = None
    reason: str = ""

    @property
    def answering(self) -> bool:
        return self.state in ANSWERING

    def describe(self) -> str:
        since = f" since {self.since.isoformat()}" if self.since is not None else ""
        return f"{self.state}{since}" + (f": {self.reason}" if self.reason else "")


def effective_state(device: Mapping[str, Any], state: Mapping[str, Any] | None,
                    gateways: Mapping[str, Mapping[str, Any]], as_of: datetime,
                    noun: str = "device") -> EffectiveState:
    """The effective state of `device` (a row with gateway and protocol) from its latest
    state change at or before as_of (`state`, or None) and the gateways' rows."""
    if device["protocol"] is None:
        return EffectiveState("unmonitored", None,
                              f"no protocol in the inventory: nothing reaches this {noun}")
    gateway = state["gateway"] if state is not None else device["gateway"]
    gw = gateways.get(gateway) if gateway is not None else None
    if gw is not None and gw["online"] is False and (gw["since"] is None
                                                    or gw["since"] <= as_of):
        return EffectiveState("unknown", gw["since"], f"gateway {gateway} is offline (last "
                              f"will); the {noun}'s own state is unknown")
    if state is None:
        return EffectiveState("unknown", None, f"no state reported yet by gateway "
                              f"{gateway or '?'}")
    return EffectiveState(str(state["state"]), state["since"], str(state["reason"]))


async def load_effective_states(conn: Connection, community: str,
                                devices: Sequence[Mapping[str, Any]],
                                as_of: datetime) -> dict[str, EffectiveState]:
    """The effective state as of `as_of` of each device row (keys id, gateway, protocol)."""
    ids = [d["id"] for d in devices]
    if not ids:
        return {}
    states = await latest_states(conn, community, ids, as_of)
    gateways = await load_gateways(conn, community)
    return {d["id"]: effective_state(d, states.get(d["id"]), gateways, as_of)
            for d in devices}


async def load_gateways(conn: Connection, community: str) -> dict[str, Record]:
    return {r["gateway"]: r for r in await conn.fetch(
        "SELECT gateway, online, since FROM gateways WHERE community = $1", community)}
