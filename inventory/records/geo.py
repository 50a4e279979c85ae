"""Where a camera is: community boundaries (radius or polygon) and the coordinate checks of
record compliance (present, WGS-84, not 0/0, inside Shandong, inside the community).

Coordinates are (longitude, latitude) in decimal degrees, the order GeoJSON and the
inventory use. Community scale (a few km) lets the polygon test work on plain degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

EARTH_RADIUS_M: Final = 6_371_008.8  # mean radius (IUGG)


@dataclass(frozen=True, slots=True)
class Box:
    """A latitude/longitude rectangle (inclusive)."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max


#: Shandong's extent as INDICATORS.md fixes it: N 34.38–38.40, E 114.79–122.71.
SHANDONG: Final = Box(34.38, 38.40, 114.79, 122.71)


@dataclass(frozen=True, slots=True)
class Circle:
    """A boundary given as a centre (lon, lat) and a radius in metres."""

    center: tuple[float, float]
    radius_m: float

    def contains(self, lon: float, lat: float) -> bool:
        return distance_m(self.center, (lon, lat)) <= self.radius_m

    def to_json(self) -> dict[str, Any]:
        return {"center": list(self.center), "radius_m": self.radius_m}


@dataclass(frozen=True, slots=True)
class Polygon:
    """A boundary given as a ring of (lon, lat) points, closed or not; edges count as inside."""

    points: tuple[tuple[float, float], ...]

    def contains(self, lon: float, lat: float) -> bool:
        return point_in_polygon((lon, lat), self.points)

    def to_json(self) -> dict[str, Any]:
        return {"polygon": [list(p) for p in self.points]}


Boundary = Circle | Polygon


def boundary_from_json(doc: Any) -> Boundary | None:
    """The inverse of `to_json` for values this package stored (None stays None)."""
    if not doc:
        return None
    if "polygon" in doc:
        return Polygon(tuple((float(p[0]), float(p[1])) for p in doc["polygon"]))
    lon, lat = doc["center"]
    return Circle((float(lon), float(lat)), float(doc["radius_m"]))


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def point_in_polygon(p: tuple[float, float], ring: tuple[tuple[float, float], ...]) -> bool:
    """Even-odd ray casting; a point on an edge or vertex is inside."""
    x, y = p
    n = len(ring)
    inside = False
    for i in range(n):
        (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % n]
        if _on_segment(x, y, x1, y1, x2, y2):
            return True
        if (y1 > y) != (y2 > y):
            cross_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < cross_x:
                inside = not inside
    return inside


def _on_segment(x: float, y: float, x1: float, y1: float, x2: float, y2: float) -> bool:
    cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
    if abs(cross) > 1e-12:
        return False
    return min(x1, x2) - 1e-12 <= x <= max(x1, x2) + 1e-12 and \
        min(y1, y2) - 1e-12 <= y <= max(y1, y2) + 1e-12


def _fmt(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".")


def check_coordinates(longitude: float | None, latitude: float | None,
                      boundary: Boundary | None) -> list[str]:
    """Problems with a camera's position, each naming the field; [] when it passes.

    Without a boundary in the inventory the community test is skipped (the caller says so);
    the other tests still apply.
    """
    problems = [f"{name}: missing; give WGS-84 decimal degrees, e.g. {example}"
                for name, value, example in (("longitude", longitude, "117.0011"),
                                             ("latitude", latitude, "36.6515"))
                if value is None]
    if longitude is None or latitude is None:
        return problems
    for name, value in (("longitude", longitude), ("latitude", latitude)):
        if not math.isfinite(value):
            problems.append(f"{name}: {value} is not a number")
    if problems:
        return problems
    at = f"({_fmt(longitude)}, {_fmt(latitude)})"
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        swapped = -90 <= longitude <= 90 and -180 <= latitude <= 180
        return [f"longitude/latitude: {at} is not a WGS-84 position (latitude -90..90, "
                f"longitude -180..180)" + ("; longitude and latitude look swapped"
                                           if swapped else "")]
    if longitude == 0 and latitude == 0:
        return ["longitude/latitude: 0, 0 is a placeholder, not a position; survey the camera "
                "and enter its WGS-84 coordinates"]
    if not SHANDONG.contains(longitude, latitude):
        if SHANDONG.contains(latitude, longitude):
            return [f"longitude/latitude: {at} is outside Shandong but inside it when swapped; "
                    "longitude and latitude look swapped"]
        b = SHANDONG
        if not b.lat_min <= latitude <= b.lat_max:
            problems.append(f"latitude: {_fmt(latitude)} is outside Shandong "
                            f"(N {b.lat_min:.2f}–{b.lat_max:.2f})")
        if not b.lon_min <= longitude <= b.lon_max:
            problems.append(f"longitude: {_fmt(longitude)} is outside Shandong "
                            f"(E {b.lon_min:.2f}–{b.lon_max:.2f})")
        return problems
    if isinstance(boundary, Circle) and not boundary.contains(longitude, latitude):
        far = distance_m(boundary.center, (longitude, latitude))
        centre = f"({_fmt(boundary.center[0])}, {_fmt(boundary.center[1])})"
        return [f"longitude/latitude: {at} is {far:.0f} m from the community centre {centre}, "
                f"beyond the {boundary.radius_m:g} m boundary radius"]
    if isinstance(boundary, Polygon) and not boundary.contains(longitude, latitude):
        return [f"longitude/latitude: {at} is outside the community boundary polygon "
                f"({len(boundary.points)} points)"]
    return []
