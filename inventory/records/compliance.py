"""Record compliance of a community's cameras (编码、名称、行政区划、经纬度): every check of
every camera, each failure naming the field and why. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from inventory.records.code import check_civil_code, check_code, duplicate_codes
from inventory.records.districts import DistrictTable, shandong
from inventory.records.geo import Boundary, check_coordinates
from inventory.records.naming import Naming, check_name, configured_naming

#: The checks, in the order INDICATORS.md lists them.
RECORD_CHECKS: Final = ("code", "civil_code", "name", "coordinates")


@dataclass(frozen=True, slots=True)
class CameraRecord:
    """A camera's one-camera-one-record (一机一档) fields, as registered."""

    id: str
    code: str | None = None
    name: str | None = None
    civil_code: str | None = None
    longitude: float | None = None
    latitude: float | None = None


@dataclass(frozen=True, slots=True)
class RecordVerdict:
    """Problems per check (every check is a key; an empty tuple means it passed)."""

    camera: str
    problems: Mapping[str, tuple[str, ...]]
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not any(self.problems.values())

    @property
    def failed_checks(self) -> tuple[str, ...]:
        return tuple(c for c in RECORD_CHECKS if self.problems.get(c))


def check_records(cameras: Sequence[CameraRecord], district: str,
                  boundary: Boundary | None = None, *,
                  districts: DistrictTable | None = None,
                  naming: Naming | None = None) -> list[RecordVerdict]:
    """Check every camera of a community whose GB/T 2260 district is `district`.

    `boundary` None (the inventory declares none) skips the within-community test and says
    so in each verdict's notes. Tables default to the shipped district table and the
    configured naming rules.
    """
    table = districts if districts is not None else shandong()
    rules = (naming if naming is not None else configured_naming()).rules_for(district)
    dupes = duplicate_codes((c.id, c.code) for c in cameras)
    notes = () if boundary is not None else (
        "coordinates: the inventory declares no community boundary, so whether the camera "
        "is inside the community was not checked; add community.boundary",)
    out = []
    for cam in sorted(cameras, key=lambda c: c.id):
        code = check_code(cam.code, district, table)
        if cam.id in dupes:
            others = ", ".join(sorted(dupes[cam.id]))
            code.append(f"code: {cam.code!s} is also used by {others}; codes must be unique "
                        "in the community")
        out.append(RecordVerdict(cam.id, {
            "code": tuple(code),
            "civil_code": tuple(check_civil_code(cam.civil_code, cam.code, table)),
            "name": tuple(check_name(cam.name, cam.code, rules)),
            "coordinates": tuple(check_coordinates(cam.longitude, cam.latitude, boundary)),
        }, notes))
    return out

