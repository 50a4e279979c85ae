"""Residents and keys for the personal-data tests: the `safe` community of safety_support
with its SOS buttons' residents registered, and a key file of the test's own."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from safety_support import INVENTORY as SAFE_INVENTORY

from inventory import import_inventory, parse_inventory
from inventory.keyfile import init_key_file, load_key_file
from inventory.sealing import KeyRing

#: Made-up residents of r1..r3, the residents of the safe community's SOS buttons.
RESIDENTS = """\
residents:
  - id: r1
    name: 张三华
    phone: "13812345678"
    room: 北苑1号楼2单元502室
    emergency_contact: {name: 张小明, phone: "139 8765 4321"}
  - {id: r2, name: 李四, phone: 0531-88001234, room: 南苑2号楼1单元301室}
  - {id: r3, name: 欧阳明华, phone: "+8613700001111"}
  - {id: r4, name: 王五六, phone: "13600002222", lone_elderly: false}
"""
SAFE_WITH_RESIDENTS = SAFE_INVENTORY + RESIDENTS
#: Every personal text above, as it must never appear in the database in clear.
PLAIN = ("张三华", "13812345678", "北苑1号楼2单元502室", "张小明", "13987654321", "李四",
         "88001234", "南苑2号楼1单元301室", "欧阳明华", "13700001111", "王五六", "13600002222")


def make_key_file(folder: Path) -> tuple[Path, KeyRing]:
    path = folder / "data.keys"
    init_key_file(path)
    return path, load_key_file(path)


async def import_residents(conn: asyncpg.Connection, keys: KeyRing) -> None:
    """Import the safe community with its residents, sealed under `keys`."""
    await import_inventory(conn, parse_inventory(SAFE_WITH_RESIDENTS, "safe.yaml"), keys)
