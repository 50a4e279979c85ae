"""The community register: parse and validate inventory YAML, and import it centrally."""

from inventory.model import (
    GATE_SUBJECTS,
    HAZARD_KINDS,
    KEY_POSITION_TYPES,
    KINDS,
    PROTOCOLS,
    ZONE_AREAS,
    Building,
    Community,
    Compound,
    Device,
    FireZone,
    Inventory,
    InventoryError,
    KeyPosition,
)
from inventory.parse import load_inventory, parse_inventory
from inventory.store import ImportSummary, import_inventory

__all__ = [
    "GATE_SUBJECTS", "HAZARD_KINDS", "KEY_POSITION_TYPES", "KINDS", "PROTOCOLS",
    "ZONE_AREAS", "Building", "Community", "Compound", "Device", "FireZone",
    "ImportSummary", "Inventory",
    "InventoryError", "KeyPosition", "import_inventory", "load_inventory", "parse_inventory",
]
