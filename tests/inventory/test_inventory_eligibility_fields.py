"""What a compound says about itself (closed, e-bikes, elevators: unsaid is None, not false)
and what a light says for the energy-saving baseline (rated power, burn hours), through
the parser and into the database."""

from __future__ import annotations

import asyncpg
import pytest

from inventory import import_inventory, parse_inventory
from inventory.model import InventoryError

HEAD = "community: {id: demo, name: 演示社区, district: '370102'}\n"


def test_a_compound_that_does_not_say_is_none_not_false() -> None:
    inv = parse_inventory(HEAD + """\
compounds:
  - {id: north, closed: true, ebikes: false, elevators: true}
  - {id: south}
""")
    north, south = inv.compounds
    assert (north.closed, north.ebikes, north.elevators) == (True, False, True)
    assert (south.closed, south.ebikes, south.elevators) == (None, None, None)


def test_lights_carry_rated_power_and_burn_hours_and_only_lights() -> None:
    inv = parse_inventory(HEAD + """\
devices:
  - {id: l1, kind: light, rated_power_w: 60, burn_hours_per_day: 11.5}
""")
    assert (inv.devices[0].rated_power_w, inv.devices[0].burn_hours_per_day) == (60.0, 11.5)
    with pytest.raises(InventoryError) as err:
        parse_inventory(HEAD + """\
compounds:
  - {id: north, closed: maybe}
devices:
  - {id: l1, kind: light, rated_power_w: 0, burn_hours_per_day: 25}
  - {id: m1, kind: meter, household: h1, rated_power_w: 60}
""")
    assert err.value.problems == [
        "compounds[0].closed: must be true or false, got 'maybe'",
        "devices[0].rated_power_w: must be more than 0 and less than 100000 W, got 0",
        "devices[0].burn_hours_per_day: must be more than 0 and at most 24 hours, got 25",
        "devices[1].rated_power_w: only light devices have rated_power_w; this device is a "
        "meter: remove rated_power_w or correct the kind"]


async def test_unsaid_attributes_and_light_ratings_are_stored(migrated: str) -> None:
    conn = await asyncpg.connect(migrated)
    try:
        await import_inventory(conn, parse_inventory(HEAD + """\
compounds:
  - {id: north, closed: false, elevators: false}
  - {id: south}
devices:
  - {id: l1, kind: light, compound: north, rated_power_w: 60, burn_hours_per_day: 11}
"""))
        rows = await conn.fetch("SELECT id, closed, ebikes, elevators FROM compounds "
                                "WHERE community = 'demo' ORDER BY id")
        assert [tuple(r) for r in rows] == [("north", False, None, False),
                                            ("south", None, None, None)]
        light = await conn.fetchrow("SELECT rated_power_w, burn_hours_per_day FROM devices "
                                    "WHERE id = 'l1'")
        assert tuple(light) == (60.0, 11.0)
    finally:
        await conn.close()
