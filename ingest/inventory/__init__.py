"""The community register: parse and validate inventory YAML, and import it centrally."""

from ingest.inventory.model import (
    KEY_POSITION_TYPES,
    KINDS,
    PROTOCOLS,
    Building,
    Community,
    Compound,
    Device,
    Inventory,
    InventoryError,
    KeyPosition,
)
from ingest.inventory.parse import load_inventory, parse_inventory
from ingest.inventory.store import ImportSummary, import_inventory

__all__ = [
    "KEY_POSITION_TYPES", "KINDS", "PROTOCOLS", "Building", "Community", "Compound", "Device",
    "ImportSummary", "Inventory", "InventoryError", "KeyPosition", "import_inventory",
    "load_inventory", "parse_inventory",
]
