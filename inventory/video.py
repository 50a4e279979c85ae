"""The video parts of the inventory: the community boundary, the key positions (重点点位)
and the camera record fields of a device. Only the form is validated here (numbers are
numbers, references exist); whether a record is compliant is measured by inventory.records.
"""

from __future__ import annotations

from typing import Any, Final

from inventory.fields import FieldReader
from inventory.model import KEY_POSITION_TYPES, KeyPosition
from inventory.records.geo import SHANDONG, Boundary, Circle, Polygon

KEY_POSITION_KEYS: Final = ("id", "type", "name", "compound")
CAMERA_KEYS: Final = ("code", "civil_code", "longitude", "latitude", "key_position")
_BOUNDARY_FORM: Final = ("{center: [longitude, latitude], radius_m: metres} or "
                         "{polygon: [[longitude, latitude], ...]}")
_BY_LABEL: Final = {label: ident for ident, label in KEY_POSITION_TYPES.items()}


def key_position_type(value: str) -> str | None:
    """The type id for an id or its Chinese name (停车场出入口 too), else None."""
    value = value.strip()
    if value in KEY_POSITION_TYPES:
        return value
    if value == "停车场出入口":  # the seeds write 停车库（场）出入口
        return "parking_entrance"
    return _BY_LABEL.get(value)


def type_choices() -> str:
    return ", ".join(f"{k} ({v})" for k, v in KEY_POSITION_TYPES.items())


def parse_boundary(r: FieldReader, value: Any, path: str) -> Boundary | None:
    """`community.boundary`: a centre and radius, or a polygon, inside Shandong."""
    if value is None:
        return None
    if not isinstance(value, dict):
        r.fail(path, f"must be {_BOUNDARY_FORM}, got {value!r}")
        return None
    keys = set(value)
    if keys == {"polygon"}:
        ring = value["polygon"]
        if not isinstance(ring, list) or len(ring) < 3:
            r.fail(f"{path}.polygon", f"must list at least 3 [longitude, latitude] points, "
                   f"got {ring!r}")
            return None
        points = [_point(r, p, f"{path}.polygon[{i}]") for i, p in enumerate(ring)]
        if any(p is None for p in points):
            return None
        return Polygon(tuple(p for p in points if p is not None))
    if keys == {"center", "radius_m"}:
        center = _point(r, value["center"], f"{path}.center")
        radius = value["radius_m"]
        if isinstance(radius, bool) or not isinstance(radius, int | float) or not radius > 0:
            r.fail(f"{path}.radius_m", f"must be a positive number of metres, got {radius!r}")
            return None
        return None if center is None else Circle(center, float(radius))
    r.fail(path, f"must be {_BOUNDARY_FORM}; got the keys {', '.join(map(str, value))}")
    return None


def _point(r: FieldReader, value: Any, path: str) -> tuple[float, float] | None:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        r.fail(path, f"must be [longitude, latitude] in decimal degrees, got {value!r}")
        return None
    lon, lat = float(value[0]), float(value[1])
    if not SHANDONG.contains(lon, lat):
        hint = ("; longitude comes first" if SHANDONG.contains(lat, lon) else "")
        r.fail(path, f"{value!r} is outside Shandong (N {SHANDONG.lat_min:.2f}–"
               f"{SHANDONG.lat_max:.2f}, E {SHANDONG.lon_min:.2f}–{SHANDONG.lon_max:.2f})"
               f"{hint}")
        return None
    return lon, lat


def parse_key_positions(r: FieldReader, rows: list[tuple[str, dict[str, Any]]],
                        compounds: set[str]) -> list[KeyPosition]:
    out: list[KeyPosition] = []
    seen: dict[str, str] = {}
    for path, row in rows:
        r.known_keys(row, KEY_POSITION_KEYS, path)
        kid = r.text(row, "id", path, required=True, ident=True)
        raw_type = r.text(row, "type", path, required=True)
        kind = key_position_type(raw_type) if raw_type is not None else None
        if raw_type is not None and kind is None:
            r.fail(f"{path}.type", f"{raw_type!r} is not a key-position type; use one of "
                   f"{type_choices()}")
        name = r.text(row, "name", path)
        compound = r.ref(row, "compound", path, compounds, "compounds")
        if kid is None:
            continue
        if kid in seen:
            r.fail(f"{path}.id", f"{kid!r} is already used by {seen[kid]}; key-position ids "
                   "must be unique")
            continue
        seen[kid] = path
        if kind is not None:
            out.append(KeyPosition(kid, kind, name, compound))
    return out


def camera_fields(r: FieldReader, row: dict[str, Any], path: str, kind: str | None,
                  key_positions: set[str]) -> dict[str, Any]:
    """The record fields of one device row, as keyword arguments of Device."""
    key_position = r.ref(row, "key_position", path, key_positions, "key_positions")
    if key_position is not None and kind is not None and kind != "camera":
        r.fail(f"{path}.key_position", f"only cameras watch key positions; this device is a "
               f"{kind}: remove key_position or set kind: camera")
        key_position = None
    return {
        "code": r.digits(row, "code", path),
        "civil_code": r.digits(row, "civil_code", path),
        "longitude": r.number(row, "longitude", path, "WGS-84 decimal degrees"),
        "latitude": r.number(row, "latitude", path, "WGS-84 decimal degrees"),
        "key_position": key_position,
    }
