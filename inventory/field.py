"""The field-device parts of a device row: the household a meter serves, a charging
station's ports, a fire panel's zones and the hazard kinds a device detects.

Each key belongs to certain kinds; giving it to another kind is a problem, and so is a
meter without a household or a charger / hazard detector outside any compound (the
indicators count them per household and per compound).
"""

from __future__ import annotations

import re
from typing import Any, Final

from inventory.fields import FieldReader
from inventory.model import HAZARD_KINDS, ZONE_AREAS, FireZone

FIELD_KEYS: Final = ("household", "ports", "zones", "hazards")
ZONE_KEYS: Final = ("zone", "building", "area", "loop", "points")
#: Loop and point numbers of a GB 26875 component address (two bytes each).
_ADDRESS_MAX: Final = 0xFFFF
_POINTS_RE: Final = re.compile(r"^\s*\d+\s*(-\s*\d+\s*)?(,\s*\d+\s*(-\s*\d+\s*)?)*$")
#: Which kinds may carry each key.
_KINDS_FOR: Final[dict[str, tuple[str, ...]]] = {
    "household": ("meter",),
    "ports": ("charger",),
    "zones": ("fire_panel",),
    "hazards": ("fire_panel", "fire_hazard_sensor"),
}
#: Kinds that count only inside a compound: why, for the message.
_NEEDS_COMPOUND: Final[dict[str, str]] = {
    "charger": "smart charging is judged per compound",
    "fire_hazard_sensor": "fire-hazard detection is judged per compound",
}


def field_fields(r: FieldReader, row: dict[str, Any], path: str, kind: str | None,
                 compound: str | None, building: str | None,
                 buildings: dict[str, Any]) -> dict[str, Any]:
    """The field keys of one device row, as keyword arguments of Device.

    `compound` and `building` are the device's own (already resolved); a zone without a
    building is in the panel's building.
    """
    misplaced: set[str] = set()
    for key, kinds in _KINDS_FOR.items():
        if key in row and kind is not None and kind not in kinds:
            r.fail(f"{path}.{key}", f"only {' and '.join(kinds)} devices have {key}; this "
                   f"device is a {kind}: remove {key} or correct the kind")
            misplaced.add(key)
    household = None if "household" in misplaced else r.text(row, "household", path)
    if kind == "meter" and household is None and "household" not in row:
        r.fail(f"{path}.household", "is required for a meter: name the household it serves "
               "(e.g. household: b01-0101), one meter per household in the community")
    ports = None if "ports" in misplaced else r.count(row, "ports", path, 1)
    zones = () if "zones" in misplaced else _zones(r, row.get("zones"), f"{path}.zones",
                                                   building, buildings)
    hazards = () if "hazards" in misplaced else _hazards(
        r, row.get("hazards"), f"{path}.hazards", required=kind == "fire_hazard_sensor")
    if kind is not None and compound is None:
        why = _NEEDS_COMPOUND.get(kind)
        if why is None and hazards:
            why = "fire-hazard detection is judged per compound"
        if why is not None:
            r.fail(f"{path}.compound", f"is required for this {kind}: {why}; add compound: "
                   "(or building: in a compound)")
    return {"household": household, "ports": ports, "zones": zones, "hazards": hazards}


def _hazards(r: FieldReader, value: Any, path: str, *, required: bool) -> tuple[str, ...]:
    choices = ", ".join(HAZARD_KINDS)
    if value is None or value == []:
        if required:
            r.fail(path, f"is required for a fire_hazard_sensor: list what it detects, from "
                   f"{choices}")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        r.fail(path, f"must be a list of hazard kinds from {choices}, got {value!r}")
        return ()
    unknown = [v for v in value if v not in HAZARD_KINDS]
    if unknown:
        r.fail(path, f"unknown hazard kind{'s' if len(unknown) > 1 else ''} "
               f"{', '.join(map(repr, unknown))}; use {choices}")
        return ()
    return tuple(dict.fromkeys(value))


def _zones(r: FieldReader, value: Any, path: str, building: str | None,
           buildings: dict[str, Any]) -> tuple[FireZone, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        r.fail(path, "must be a list of {zone: N, building: ID, area: public|private}, got "
               f"{value!r}")
        return ()
    out: list[FireZone] = []
    seen: dict[int, str] = {}
    for i, row in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(row, dict):
            r.fail(where, f"must be a mapping {{zone: N, building: ID, area: public|private}}, "
                   f"got {row!r}")
            continue
        r.known_keys(row, ZONE_KEYS, where)
        number = r.count(row, "zone", where, 0)
        if number is None and "zone" not in row:
            r.fail(f"{where}.zone", "is required: the zone number the panel reports in "
                   "its events (data.zone)")
        in_building = r.ref(row, "building", where, buildings, "buildings")
        if in_building is None and "building" not in row:
            in_building = building
            if building is None:
                r.fail(f"{where}.building", "is required (the panel has no building of its "
                       "own): name the building this zone watches")
        area = row.get("area")
        if area not in ZONE_AREAS:
            # No default: whether a zone is public decides coverage, so it is declared.
            found = "is required" if area is None else f"is {area!r}"
            r.fail(f"{where}.area", f"{found}; say {' or '.join(ZONE_AREAS)} (public-area "
                   "zones decide automatic fire alarm coverage)")
            continue
        loop, points = _site_map(r, row, where)
        if number is None or in_building is None:
            continue
        if number in seen:
            r.fail(f"{where}.zone", f"{number} is already listed at {seen[number]}; zone "
                   "numbers must be unique per panel")
            continue
        seen[number] = where
        out.append(FireZone(number, in_building, area, loop, points))
    return tuple(out)


def _site_map(r: FieldReader, row: dict[str, Any], where: str) -> tuple[int | None,
                                                                        str | None]:
    """A GB 26875 zone's place on its panel: `loop`, and `points` as 5, [41, 42] or
    "1-10,15" (kept as text, "41,42")."""
    loop = r.count(row, "loop", where, 0)
    if loop is not None and loop > _ADDRESS_MAX:
        r.fail(f"{where}.loop", f"must be 0..{_ADDRESS_MAX} (the loop number in the panel's "
               f"component address), got {loop}")
        loop = None
    raw = row.get("points")
    if raw is None:
        return loop, None
    if "loop" not in row:
        r.fail(f"{where}.points", "needs loop: the points are of one loop, e.g. {zone: 2, "
               "loop: 2, points: 1-15}")
        return loop, None
    if isinstance(raw, list) and all(isinstance(p, int) and not isinstance(p, bool)
                                     for p in raw) and raw:
        text = ",".join(str(p) for p in raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        text = str(raw)
    elif isinstance(raw, str) and _POINTS_RE.match(raw):
        text = ",".join(part.replace(" ", "") for part in raw.split(","))
    else:
        r.fail(f"{where}.points", f"must be point numbers and ranges such as 1-15, [41, 42] "
               f"or \"1-10,15\", got {raw!r}")
        return loop, None
    for part in text.split(","):
        first, _, last = part.partition("-")
        if int(first) > int(last or first) or int(last or first) > _ADDRESS_MAX:
            r.fail(f"{where}.points", f"{raw!r}: ranges run low-high within 0..{_ADDRESS_MAX}")
            return loop, None
    return loop, text
