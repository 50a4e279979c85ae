"""GB 26875 devices in the register: a user information transmission device (用户信息传输装置)
by its 6-byte address, and the fire panels behind it by `DEVICE/SYSTEM_ADDRESS`, as the
gateway config names them. Checked at import because fire alarm coverage follows that link
(a panel is silent when its transmission device is) and ingest takes a panel's reports
only from the gateway the register names.

    devices:
      - {id: uitd-1, kind: fire_transmission_device, gateway: demo-gw1, protocol: gb26875,
         address: "100000000001"}
      - {id: fire-b1-gb, kind: fire_panel, building: b1, gateway: demo-gw1,
         protocol: gb26875, address: uitd-1/1,
         zones: [{zone: 1, area: public, loop: 1},
                 {zone: 2, area: private, loop: 2, points: 1-15}]}

The zones' `loop` / `points` are the site map the gateway's gb26875 driver needs to put a
detector's report on its zone; `gateway_devices` writes that part of the gateway config
from the register (`scg inventory gb26875-devices`), so it is typed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from inventory.fields import FieldReader
from inventory.model import Device, Inventory

PROTOCOL: Final = "gb26875"
TRANSMISSION_DEVICE: Final = "fire_transmission_device"
#: The kinds GB 26875 reports: the transmission device, and the panels (系统) behind it.
KINDS: Final = (TRANSMISSION_DEVICE, "fire_panel")
ADDRESS_MAX: Final = (1 << 48) - 1
SYSTEM_ADDRESS_MAX: Final = 255


def device_address(text: str) -> int | None:
    """A transmission device's 6-byte address as installers write it: decimal digits or
    `0x` and up to 12 hex digits; None when it is neither or does not fit."""
    text = text.strip()
    try:
        if text.lower().startswith("0x"):
            value = int(text[2:], 16) if 0 < len(text) - 2 <= 12 else -1
        else:
            value = int(text) if text.isdigit() and text.isascii() else -1
    except ValueError:
        return None
    return value if 0 <= value <= ADDRESS_MAX else None


def panel_link(address: str) -> tuple[str, int] | None:
    """(transmission device id, system address) of a panel address `DEVICE/N`, or None."""
    device, sep, system = address.rpartition("/")
    system = system.strip()
    if not sep or not device.strip() or not system.isdigit() or not system.isascii():
        return None
    number = int(system)
    return (device.strip(), number) if number <= SYSTEM_ADDRESS_MAX else None


def link_transmission_devices(r: FieldReader, devices: Sequence[tuple[str, Device]]) -> None:
    """Check every gb26875 device against the others; `devices` pairs each with its key
    path. A transmission device has a unique address on its gateway; a panel names one of
    them and a system address not taken, and is reported by the same gateway."""
    boxes: dict[str, Device] = {}
    addresses: dict[tuple[str | None, int], str] = {}
    for where, d in devices:
        if d.protocol != PROTOCOL:
            for i, zone in enumerate(d.zones):
                if zone.loop is not None:
                    r.fail(f"{where}.zones[{i}].loop", "only a gb26875 panel's zones have a "
                           "loop (its transmission device's site map); remove loop and "
                           "points, or set protocol: gb26875")
            continue
        if d.kind not in KINDS:
            r.fail(f"{where}.protocol", f"gb26875 reports transmission devices and the fire "
                   f"panels behind them; this device is a {d.kind}: correct the kind or the "
                   "protocol")
            continue
        if d.kind != TRANSMISSION_DEVICE:
            continue
        value = device_address(d.address) if d.address is not None else None
        if value is None:
            r.fail(f"{where}.address", f"{d.address!r} must be the transmission device's "
                   "6-byte address as set on it: decimal digits in quotes, e.g. "
                   "\"100000000001\", or \"0x\" and up to 12 hex digits")
            continue
        other = addresses.get((d.gateway, value))
        if other is not None:
            r.fail(f"{where}.address", f"{value} is already the address of {other} on "
                   f"gateway {d.gateway}; each transmission device has its own address")
            continue
        addresses[(d.gateway, value)] = f"{d.id} ({where})"
        boxes[d.id] = d
    systems: dict[tuple[str, int], str] = {}
    for where, d in devices:
        if d.protocol != PROTOCOL or d.kind != "fire_panel":
            continue
        link = panel_link(d.address) if d.address is not None else None
        example = f"{next(iter(boxes), 'uitd-1')}/1"
        if link is None:
            r.fail(f"{where}.address", f"{d.address!r} must be DEVICE/SYSTEM_ADDRESS: the id "
                   f"of the transmission device it reports through and its system address "
                   f"(系统地址) 0..{SYSTEM_ADDRESS_MAX}, e.g. {example}")
            continue
        box = boxes.get(link[0])
        if box is None:
            known = ", ".join(sorted(boxes)) or "none registered"
            r.fail(f"{where}.address", f"{d.address!r}: {link[0]!r} is not a gb26875 "
                   f"{TRANSMISSION_DEVICE} in devices (known: {known}); register it or "
                   "correct the id")
            continue
        if box.gateway != d.gateway:
            r.fail(f"{where}.gateway", f"{d.gateway!r} differs from the gateway of "
                   f"transmission device {box.id!r} ({box.gateway!r}); a panel is heard "
                   "through its transmission device, so the same gateway reports both")
            continue
        other = systems.get(link)
        if other is not None:
            r.fail(f"{where}.address", f"system {link[1]} behind {link[0]} is already "
                   f"{other}; each panel has its own system address")
            continue
        systems[link] = f"{d.id} ({where})"


def gateway_devices(inventory: Inventory, gateway: str, period: str = "30s",
                    panel_profile: str = "fire_alarm_controller") -> list[dict[str, Any]]:
    """The gb26875 rows of `gateway`'s config: each transmission device, then each panel
    with its zones' site map (zones without a loop are left out: the driver reports their
    points without a zone). `period` is the devices' heartbeat."""
    rows: list[dict[str, Any]] = []
    mine = [d for d in inventory.devices if d.protocol == PROTOCOL and d.gateway == gateway]
    for d in mine:
        if d.kind == TRANSMISSION_DEVICE:
            rows.append({"id": d.id, "driver": PROTOCOL, "profile": "transmission_device",
                         "address": d.address, "period": period})
    for d in mine:
        if d.kind != "fire_panel":
            continue
        zones: list[dict[str, Any]] = []
        for z in d.zones:
            if z.loop is None:
                continue
            zones.append({"zone": z.zone, "loop": z.loop,
                          **({"points": z.points} if z.points is not None else {})})
        row: dict[str, Any] = {"id": d.id, "driver": PROTOCOL, "profile": panel_profile,
                               "address": d.address, "period": period}
        if zones:
            row["options"] = {"zones": zones}
        rows.append(row)
    return rows
