"""Who may speak for which device: ingest trusts the register (the imported inventory), not
the topic. A broker account lets a gateway publish under its own name only; the register
says which devices that name covers.

- A message from a gateway the community's inventory does not list (no device names it,
  and `gateways:` does not name it) is dead-lettered whole, `unknown_gateway`; its birth
  or last will marks nothing.
- An item for a device registered to another gateway (or to none) is rejected,
  `device_not_on_gateway`, naming both; an item for a device the register does not have,
  `unknown_device`. Both are kept on the message's dead-letter row, never counted.
- The gateway's own readings (device id = gateway id: its spool counters, its links'
  cycle times) are accepted from a listed gateway.

The register is held in memory per database and reloaded when `register_state.version`
moves (migration 0036: every change to devices or community_gateways moves it), checked
once per batch inside the batch's transaction.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final
from uuid import UUID

from ingest.dead_letters import FIRST_ITEMS
from ingest.messages import Received
from telemetry import Decoded, EnvelopeError, ItemRejection, item_to_dict

UNKNOWN_GATEWAY: Final = "unknown_gateway"
UNKNOWN_DEVICE: Final = "unknown_device"
DEVICE_NOT_ON_GATEWAY: Final = "device_not_on_gateway"

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

#: A device the register has but no gateway reports (a plain light).
_NOBODY: Final = ""
#: Databases whose register one process keeps at once (the tests write to many).
_DATABASES: Final = 8


@dataclass(frozen=True, slots=True)
class CommunityRegister:
    """One community's devices (id -> the gateway that reports it, '' for none) and the
    gateways it lists; `imported` False when the community has no inventory at all."""

    community: str
    imported: bool
    devices: Mapping[str, str] = field(default_factory=dict)
    gateways: frozenset[str] = frozenset()

    def gateway_fault(self, gateway: str) -> str | None:
        """Why a message from `gateway` is refused whole, or None when it is listed."""
        if gateway in self.gateways:
            return None
        if not self.imported:
            return (f"{UNKNOWN_GATEWAY}: community {self.community!r} has no inventory, so "
                    f"no gateway may report for it (this message came from {gateway!r}); "
                    "import the community's inventory with `scg inventory import FILE`")
        listed = ", ".join(sorted(self.gateways)) or "none"
        return (f"{UNKNOWN_GATEWAY}: gateway {gateway!r} is not in community "
                f"{self.community!r}'s inventory (it lists: {listed}); name it on the "
                "devices it reports (`gateway:`), or under `gateways:` until they are "
                "registered, and import the inventory again")

    def item_fault(self, gateway: str, device: str) -> tuple[str, str] | None:
        """(code, reason) when `gateway` may not report `device`; None when it may."""
        owner = self.devices.get(device)
        if owner == gateway or device == gateway:
            return None
        if owner is None:
            return UNKNOWN_DEVICE, (
                f"{UNKNOWN_DEVICE}: device {device!r} is not in community "
                f"{self.community!r}'s inventory (sent by gateway {gateway!r}); register it "
                "and import the inventory — the item is kept here, not counted")
        if owner == _NOBODY:
            return DEVICE_NOT_ON_GATEWAY, (
                f"{DEVICE_NOT_ON_GATEWAY}: device {device!r} is registered to no gateway "
                f"(the inventory gives it none), yet gateway {gateway!r} reported it; only "
                "the gateway the inventory names may report a device")
        return DEVICE_NOT_ON_GATEWAY, (
            f"{DEVICE_NOT_ON_GATEWAY}: device {device!r} is registered to gateway "
            f"{owner!r}, not {gateway!r}; only the gateway the inventory names may report a "
            "device (move it in the inventory if it really moved)")


_LOAD: Final = """
    SELECT c.id AS community, d.id AS device, d.gateway, false AS listed
    FROM communities c LEFT JOIN devices d ON d.community = c.id
    WHERE c.id = ANY($1::text[])
    UNION ALL
    SELECT community, NULL, gateway, true FROM community_gateways
    WHERE community = ANY($1::text[])"""


class RegisterCache:
    """The registers of the communities seen so far, per database, valid for one version."""

    def __init__(self) -> None:
        self._databases: OrderedDict[UUID, tuple[int, dict[str, CommunityRegister]]] = \
            OrderedDict()

    async def load(self, conn: Connection, communities: Collection[str]
                   ) -> dict[str, CommunityRegister]:
        """The registers of `communities` as committed now: one query for the version,
        and one more for the communities not yet held (all of them after a change)."""
        if not communities:
            return {}
        state = await conn.fetchrow("SELECT epoch, version FROM register_state")
        epoch, version = state["epoch"], state["version"]
        held = self._databases.get(epoch)
        if held is None or held[0] != version:
            held = (version, {})
            self._databases[epoch] = held
            while len(self._databases) > _DATABASES:
                self._databases.popitem(last=False)
        self._databases.move_to_end(epoch)
        known = held[1]
        missing = sorted(c for c in communities if c not in known)
        if missing:
            known.update(await _fetch(conn, missing))
        return {c: known[c] for c in communities}


async def _fetch(conn: Connection, communities: list[str]) -> dict[str, CommunityRegister]:
    devices: dict[str, dict[str, str]] = {}
    gateways: dict[str, set[str]] = {}
    for row in await conn.fetch(_LOAD, communities):
        c, gateway = row["community"], row["gateway"]
        devices.setdefault(c, {})
        listed = gateways.setdefault(c, set())
        if row["device"] is not None:
            devices[c][row["device"]] = gateway or _NOBODY
        if gateway:
            listed.add(gateway)
    return {c: CommunityRegister(c, c in devices, devices.get(c, {}),
                                 frozenset(gateways.get(c, ())))
            for c in communities}


#: The process's cache of registers.
REGISTERS: Final = RegisterCache()


@dataclass(frozen=True, slots=True)
class RegisterRejection(ItemRejection):
    """An item the register does not let its gateway report; `code` groups it on the
    dead-letter row (`ingest.dead_letters.reason_key`)."""

    code: str = ""


async def screen(conn: Connection, messages: Sequence[Received],
                 registers: RegisterCache = REGISTERS) -> Sequence[Received]:
    """`messages` as the register lets them through: a message from an unlisted gateway
    becomes a whole-message error (`unknown_gateway`), an envelope loses the items its
    gateway may not report (added to its rejected items). Messages with nothing to refuse
    are returned as they are, and so is the sequence when nothing was refused."""
    communities = {m.decoded.envelope.community for m in messages if m.decoded is not None}
    communities.update(m.status.community for m in messages if m.status is not None)
    if not communities:
        return messages
    found = await registers.load(conn, communities)
    out: list[Received] | None = None
    for i, msg in enumerate(messages):
        judged = _judge(msg, found)
        if judged is not msg:
            if out is None:
                out = list(messages)
            out[i] = judged
    return messages if out is None else out


def _judge(msg: Received, registers: Mapping[str, CommunityRegister]) -> Received:
    if msg.status is not None:
        fault = registers[msg.status.community].gateway_fault(msg.status.gateway)
        return msg if fault is None else _refused(msg, fault)
    if msg.decoded is None:
        return msg
    env = msg.decoded.envelope
    register = registers[env.community]
    fault = register.gateway_fault(env.gateway)
    if fault is not None:
        return _refused(msg, fault)
    gateway, devices = env.gateway, register.devices
    bad = [k for k, item in enumerate(env.items)
           if devices.get(item.device) != gateway and item.device != gateway]
    if not bad:
        return msg
    # Indices as sent: the decoder already took out the items it rejected.
    earlier = {r.index for r in msg.decoded.rejected}
    sent = [i for i in range(len(env.items) + len(earlier)) if i not in earlier]
    refused: list[ItemRejection] = []
    for n, k in enumerate(bad):
        item = env.items[k]
        code, reason = register.item_fault(gateway, item.device) or ("", "")
        refused.append(RegisterRejection(sent[k], f"item {sent[k]}: {reason}",
                                         item_to_dict(item) if n < FIRST_ITEMS else None,
                                         code))
    dropped = set(bad)
    kept = tuple(item for k, item in enumerate(env.items) if k not in dropped)
    rejected = tuple(sorted((*msg.decoded.rejected, *refused), key=lambda r: r.index))
    return replace(msg, decoded=Decoded(replace(env, items=kept), rejected))


def _refused(msg: Received, reason: str) -> Received:
    return replace(msg, decoded=None, status=None, error=EnvelopeError(UNKNOWN_GATEWAY, reason))
