"""Camera records (一机一档): GB/T 28181 codes, GB/T 2260 districts, naming rules and
positions, checked for record compliance. Pure functions and shipped data, no database.
"""

from inventory.records.code import (
    CAMERA_TYPES,
    DeviceCode,
    check_civil_code,
    check_code,
    duplicate_codes,
    parse_code,
)
from inventory.records.compliance import RECORD_CHECKS, CameraRecord, RecordVerdict, check_records
from inventory.records.districts import (
    District,
    DistrictTable,
    DistrictTableError,
    load_districts,
    shandong,
)
from inventory.records.geo import (
    SHANDONG,
    Boundary,
    Circle,
    Polygon,
    boundary_from_json,
    check_coordinates,
    distance_m,
    point_in_polygon,
)
from inventory.records.naming import (
    NameRules,
    Naming,
    NamingRulesError,
    check_name,
    configured_naming,
    load_naming,
)

__all__ = [
    "CAMERA_TYPES", "RECORD_CHECKS", "SHANDONG", "Boundary", "CameraRecord", "Circle",
    "DeviceCode", "District", "DistrictTable", "DistrictTableError", "NameRules", "Naming",
    "NamingRulesError", "Polygon", "RecordVerdict", "boundary_from_json", "check_civil_code",
    "check_code", "check_coordinates", "check_name", "check_records", "configured_naming",
    "distance_m", "duplicate_codes", "load_districts", "load_naming", "parse_code",
    "point_in_polygon", "shandong",
]
