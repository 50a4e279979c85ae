"""The community register: parse and validate inventory YAML, and import it centrally."""

from ingest.inventory.model import (
    KINDS,
    PROTOCOLS,
    Building,
    Community,
    Compound,
    Device,
    Inventory,
    InventoryError,
)
from ingest.inventory.parse import load_inventory, parse_inventory
from ingest.inventory.store import ImportSummary, import_inventory

__all__ = [
    "KINDS", "PROTOCOLS", "Building", "Community", "Compound", "Device", "ImportSummary",
    "Inventory", "InventoryError", "import_inventory", "load_inventory", "parse_inventory",
]
