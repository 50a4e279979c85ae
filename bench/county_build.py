"""Build the county benchmark's database through the product's own paths: each
community's inventory through `parse_inventory` + `import_inventory`, its history through
the writer (`write_batch`, as ingest calls it, in large batches and not over MQTT so the
build is quick).

A community of D devices: 60 % household meters (DL/T 645, a reading every 15 min),
8 % street lights (MQTT, power and energy every 5 min), 3 % cameras (ONVIF, a picture
probe every minute; a third at key positions) and 29 % manhole covers (MQTT, state only);
one gateway per 500 devices. States are sent on change: every device says online at the
start, and each day 2 % of them drop offline for 10 to 60 minutes. One camera in 20 fails
its probes (a black picture).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import yaml

from ingest.messages import Received
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from telemetry import (
    DeviceState,
    Envelope,
    GatewayStatus,
    Probe,
    Reading,
    StateChange,
    encode_status,
    status_topic,
    uplink_topic,
)
from telemetry.codec import Decoded

Connection = Any  # asyncpg.Connection

#: kind -> share of a community's devices.
MIX: Final = (("meter", 0.60), ("light", 0.08), ("camera", 0.03), ("manhole_cover", 0.29))
PREFIX: Final = {"meter": "m", "light": "l", "camera": "c", "manhole_cover": "h"}
#: What each kind registers besides id, gateway and address.
FIELDS: Final[dict[str, dict[str, Any]]] = {
    "meter": {"protocol": "dlt645"},
    "light": {"protocol": "mqtt", "capabilities": ["dimming", "remote_control"],
              "rated_power_w": 60, "burn_hours_per_day": 12},
    "camera": {"protocol": "onvif", "public": True},
    "manhole_cover": {"protocol": "mqtt"}}
PER_GATEWAY: Final = 500
#: Items per write_batch call, and per envelope (a gateway's minute).
BATCH_ITEMS: Final = 50_000
ENVELOPE_ITEMS: Final = 1000


@dataclass(frozen=True, slots=True)
class CommunityPlan:
    ident: str
    devices: int

    def count(self, kind: str) -> int:
        share = dict(MIX)[kind]
        if kind == MIX[-1][0]:
            return self.devices - sum(self.count(k) for k, _ in MIX[:-1])
        return int(self.devices * share)

    @property
    def gateways(self) -> list[str]:
        return [f"{self.ident}-gw{g:02d}" for g in range(max(1, self.devices // PER_GATEWAY))]

    def ids(self, kind: str) -> list[str]:
        return [f"{PREFIX[kind]}{n:05d}" for n in range(1, self.count(kind) + 1)]

    def gateway_of(self, index: int) -> str:
        gws = self.gateways
        return gws[index % len(gws)]

    def inventory_yaml(self) -> str:
        """The community's inventory YAML, one row per device."""
        key_positions = [{"id": f"kp-{n:03d}", "type": "main_road", "name": f"主干道{n}号",
                          "compound": "north"}
                         for n in range(1, self.count("camera") // 3 + 1)]
        devices: list[dict[str, Any]] = []
        for kind, _ in MIX:
            fields = FIELDS[kind]
            ids = self.ids(kind)
            for i, ident in enumerate(ids):
                row: dict[str, Any] = {"id": ident, "kind": kind, "compound": "north",
                                       "gateway": self.gateway_of(i), **fields}
                row["address"] = ident
                if kind == "meter":
                    row["household"] = f"h{i + 1:05d}"
                if kind == "camera" and i < len(key_positions):
                    row["key_position"] = key_positions[i]["id"]
                devices.append(row)
        doc = {"community": {"id": self.ident, "name": f"基准社区{self.ident}",
                             "district": "370102", "households": self.count("meter")},
               "compounds": [{"id": "north", "name": "北苑", "closed": True, "ebikes": True}],
               "buildings": [{"id": "b01", "compound": "north", "floors": 18,
                              "residential": True}],
               "key_positions": key_positions, "devices": devices}
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


async def import_community(conn: Connection, plan: CommunityPlan) -> None:
    await import_inventory(conn, parse_inventory(plan.inventory_yaml(), f"{plan.ident}.yaml"))


def _flaps(plan: CommunityPlan, start: datetime, end: datetime,
           rng: random.Random) -> dict[datetime, list[tuple[str, str, DeviceState]]]:
    """minute -> (gateway, device, state) changes: online at start, then 2 % of devices
    a day offline for 10-60 minutes."""
    out: dict[datetime, list[tuple[str, str, DeviceState]]] = {}
    everyone = [(plan.gateway_of(i), d) for kind, _ in MIX
                for i, d in enumerate(plan.ids(kind))]
    out[start] = [(g, d, DeviceState.ONLINE) for g, d in everyone]
    days = max(1, round((end - start) / timedelta(days=1)))
    for g, d in rng.sample(everyone, min(len(everyone), int(len(everyone) * 0.02 * days))):
        at = start + timedelta(minutes=rng.randrange(1, int((end - start).total_seconds()
                                                             // 60) - 61))
        back = at + timedelta(minutes=rng.randrange(10, 61))
        out.setdefault(at, []).append((g, d, DeviceState.OFFLINE))
        out.setdefault(back, []).append((g, d, DeviceState.ONLINE))
    return out


class HistoryWriter:
    """Writes one community's history minute by minute through write_batch."""

    def __init__(self, conn: Connection, plan: CommunityPlan) -> None:
        self.conn = conn
        self.plan = plan
        self.seq = {g: 1 for g in plan.gateways}
        self.pending: list[Received] = []
        self.items = 0
        self.written = 0

    async def add(self, gateway: str, at: datetime, items: list[Any]) -> None:
        for i in range(0, len(items), ENVELOPE_ITEMS):
            part = tuple(items[i:i + ENVELOPE_ITEMS])
            env = Envelope(self.plan.ident, gateway, self.seq[gateway], at, part)
            self.seq[gateway] += 1
            self.pending.append(Received(uplink_topic(self.plan.ident, gateway, "telemetry"),
                                         b"", at, decoded=Decoded(env)))
            self.items += len(part)
        if self.items >= BATCH_ITEMS:
            await self.flush()

    async def status(self, at: datetime) -> None:
        for g in self.plan.gateways:
            payload = encode_status(GatewayStatus(self.plan.ident, g, True, at))
            self.pending.append(Received(status_topic(self.plan.ident, g), payload, at,
                                         status=GatewayStatus(self.plan.ident, g, True, at)))

    async def flush(self) -> None:
        if self.pending:
            await write_batch(self.conn, self.pending)
            self.written += self.items
            self.pending, self.items = [], 0


async def write_history(conn: Connection, plan: CommunityPlan, start: datetime,
                        end: datetime, progress: Callable[[int], Awaitable[None]] | None = None
                        ) -> int:
    """Write `plan`'s telemetry from `start` to `end`; return the items written."""
    rng = random.Random(plan.ident)
    flaps = _flaps(plan, start, end, rng)
    out = HistoryWriter(conn, plan)
    await out.status(start)
    by_gw: dict[str, dict[str, list[str]]] = {}
    for kind, _ in MIX:
        for i, d in enumerate(plan.ids(kind)):
            by_gw.setdefault(plan.gateway_of(i), {}).setdefault(kind, []).append(d)
    failing = set(plan.ids("camera")[::20])
    minutes = int((end - start).total_seconds() // 60)
    for m in range(minutes + 1):
        at = start + timedelta(minutes=m)
        hours = m / 60
        night = (at + timedelta(hours=8)).hour >= 18 or (at + timedelta(hours=8)).hour < 6
        changes: dict[str, list[Any]] = {}
        for g, d, st in flaps.get(at, ()):
            changes.setdefault(g, []).append(StateChange(d, st, at, "bench"))
        for g, kinds in by_gw.items():
            items: list[Any] = changes.get(g, [])
            items += [Probe(c, at, c not in failing, "" if c not in failing else "black",
                            {"mean": 118.0, "std": 41.5}) for c in kinds.get("camera", ())]
            if m % 5 == 0:
                for n, light in enumerate(kinds.get("light", ())):
                    items.append(Reading(light, "power_w", at, 40.0 if night else 0.0))
                    items.append(Reading(light, "energy_kwh", at,
                                         round(100 + n + 0.02 * hours, 4)))
            if m % 15 == 0:
                items += [Reading(meter, "energy_import_kwh", at, round(1000 + n + 0.3 * hours, 3))
                          for n, meter in enumerate(kinds.get("meter", ()))]
            if items:
                await out.add(g, at, items)
        if progress is not None and m % 1440 == 0:
            await progress(out.written)
    await out.flush()
    return out.written


def history_span(days: float, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The span of `days` ending at the last whole minute before now."""
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0) - timedelta(minutes=1)
    return end - timedelta(days=days), end
