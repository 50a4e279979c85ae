"""The safety parts of a device row: the elevator an e-bike detector or lift controller
serves, the lone elderly resident an SOS button belongs to, whom an access gate
authenticates and the floors a throw-detection camera watches.

Each key belongs to certain kinds and is required for them; safety devices that are
judged per compound or per building must say where they are. References to elevators are
checked once every device is known (`link_safety_devices`), because an elevator may be
listed after the detectors in it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

from inventory.fields import FieldReader
from inventory.model import GATE_SUBJECTS, Building, Community, Device

SAFETY_KEYS: Final = ("elevator", "resident", "subjects", "floors")
#: Which kinds carry each key; every one of these kinds must have it.
_KINDS_FOR: Final[dict[str, tuple[str, ...]]] = {
    "elevator": ("ebike_detector", "elevator_controller"),
    "resident": ("sos_button",),
    "subjects": ("access_gate",),
    "floors": ("throw_camera",),
}
_HOW: Final[dict[str, str]] = {
    "elevator": "the id of the elevator device (kind: elevator) it serves",
    "resident": "the id of the lone elderly resident who carries it (one button each)",
    "subjects": "whom the gate authenticates: [person], [vehicle] or [person, vehicle]",
    "floors": "the watched floors as [from, to], e.g. [3, 26]",
}
#: Kinds whose indicator counts them per building (and so per compound).
_NEEDS_BUILDING: Final[dict[str, str]] = {
    "elevator": "e-bike-into-elevator recognition is judged per compound from the "
                "building's elevators",
    "throw_camera": "throw detection is judged per high-rise building",
}
#: Kinds whose indicator counts them per compound.
_NEEDS_COMPOUND: Final[dict[str, str]] = {
    "perimeter_detector": "perimeter detection is judged per closed compound",
    "access_gate": "access control is judged per closed compound",
    "manhole_cover": "manhole covers are monitored per compound",
    "elevator": "e-bike-into-elevator recognition is judged per compound",
}


def safety_fields(r: FieldReader, row: dict[str, Any], path: str, kind: str | None,
                  compound: str | None, building: str | None,
                  buildings: dict[str, Building]) -> dict[str, Any]:
    """The safety keys of one device row, as keyword arguments of Device.

    `compound` and `building` are the device's own, already resolved (a device in a
    building is in that building's compound).
    """
    present: dict[str, bool] = {}
    for key, kinds in _KINDS_FOR.items():
        if key in row and kind is not None and kind not in kinds:
            r.fail(f"{path}.{key}", f"only {' and '.join(kinds)} devices have {key}; this "
                   f"device is a {kind}: remove {key} or correct the kind")
            present[key] = False
            continue
        present[key] = key in row
        if kind in kinds and row.get(key) is None:
            r.fail(f"{path}.{key}", f"is required for kind {kind}: {_HOW[key]}")
    elevator = r.text(row, "elevator", path, ident=True) if present["elevator"] else None
    resident = r.text(row, "resident", path, ident=True) if present["resident"] else None
    subjects = _subjects(r, row.get("subjects"), f"{path}.subjects") \
        if present["subjects"] else ()
    floors = _floors(r, row.get("floors"), f"{path}.floors", building, buildings) \
        if present["floors"] else None
    if kind in _NEEDS_BUILDING and building is None:
        r.fail(f"{path}.building", f"is required for this {kind}: {_NEEDS_BUILDING[kind]}")
    elif kind in _NEEDS_COMPOUND and compound is None:
        r.fail(f"{path}.compound", f"is required for this {kind}: {_NEEDS_COMPOUND[kind]}; "
               "add compound: (or building: in a compound)")
    return {"elevator": elevator, "resident": resident, "subjects": subjects,
            "watched_floors": floors}


def _subjects(r: FieldReader, value: Any, path: str) -> tuple[str, ...]:
    choices = ", ".join(GATE_SUBJECTS)
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) for v in value)):
        r.fail(path, f"must be a non-empty list from {choices}, got {value!r}")
        return ()
    unknown = [v for v in value if v not in GATE_SUBJECTS]
    if unknown:
        r.fail(path, f"unknown subject{'s' if len(unknown) > 1 else ''} "
               f"{', '.join(map(repr, unknown))}; use {choices}")
        return ()
    return tuple(dict.fromkeys(value))


def _floors(r: FieldReader, value: Any, path: str, building: str | None,
            buildings: dict[str, Building]) -> tuple[int, int] | None:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        r.fail(path, f"must be [from, to], two whole floor numbers such as [3, 26], got "
               f"{value!r}")
        return None
    low, high = value
    if not 1 <= low <= high:
        r.fail(path, f"{value!r} is not a range of floors: need 1 <= from <= to")
        return None
    top = buildings[building].floors if building in buildings else None
    if top is not None and high > top:
        r.fail(path, f"watches up to floor {high} but building {building!r} has {top} "
               "floors; correct the range or the building's floors")
        return None
    return low, high


def link_safety_devices(r: FieldReader, devices: Sequence[tuple[str, Device]],
                        community: Community | None) -> list[Device]:
    """Check what needs every device known; `devices` pairs each with its key path.

    An e-bike detector or lift controller takes its building and compound from its
    elevator; a resident has one SOS button; more residents with buttons than the declared
    lone elderly would put coverage above 100 %.
    """
    elevators = {d.id: d for _, d in devices if d.kind == "elevator"}
    residents: dict[str, str] = {}
    out: list[Device] = []
    for where, device in devices:
        if device.resident is not None:
            other = residents.get(device.resident)
            if other is not None:
                r.fail(f"{where}.resident", f"{device.resident!r} already has an SOS button "
                       f"({other}); one button per resident, correct one of the ids")
            else:
                residents[device.resident] = f"{device.id} ({where})"
        if device.elevator is not None:
            device = _in_elevator(r, where, device, elevators)
        out.append(device)
    declared = community.lone_elderly if community is not None else None
    if declared is not None and len(residents) > declared:
        r.fail("community.lone_elderly", f"declares {declared} lone elderly residents but "
               f"SOS buttons name {len(residents)} distinct residents; correct the count or "
               "the buttons' resident ids")
    return out


def _in_elevator(r: FieldReader, where: str, device: Device,
                 elevators: dict[str, Device]) -> Device:
    lift = elevators.get(device.elevator or "")
    if lift is None:
        known = ", ".join(sorted(elevators)) or "none registered"
        r.fail(f"{where}.elevator", f"{device.elevator!r} is not an elevator in devices "
               f"(known elevators: {known}); add a device with kind: elevator and its "
               "building, or correct the id")
        return device
    if device.building is not None and device.building != lift.building:
        r.fail(f"{where}.building", f"{device.building!r} differs from the building of "
               f"elevator {lift.id!r} ({lift.building!r}); leave building out (it comes "
               "from the elevator) or fix one of them")
        return device
    if device.compound is not None and lift.compound is not None \
            and device.compound != lift.compound:
        r.fail(f"{where}.compound", f"{device.compound!r} differs from the compound of "
               f"elevator {lift.id!r} ({lift.compound!r}); leave compound out (it comes "
               "from the elevator) or fix one of them")
        return device
    return dataclasses.replace(device, building=lift.building, compound=lift.compound)
