"""`gateways:` lists a gateway ingest accepts before any device names it, and GB 26875
transmission devices are a kind of their own (they report on their own id)."""

from __future__ import annotations

import pytest

from inventory import InventoryError, parse_inventory

HEAD = """\
community: {id: demo, name: 演示社区, district: "370102"}
"""


def test_listed_gateways_are_kept_in_order() -> None:
    inv = parse_inventory(HEAD + "gateways: [demo-gw-fire, demo-gw2]\n")
    assert inv.gateways == ("demo-gw-fire", "demo-gw2")
    assert parse_inventory(HEAD).gateways == ()


def test_bad_gateway_lists_name_the_entry_and_the_rule() -> None:
    with pytest.raises(InventoryError) as bad:
        parse_inventory(HEAD + "gateways: [demo-gw2, 'no spaces', demo-gw2, 7]\n", "x.yaml")
    problems = bad.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("gateways[1]: ")
    assert problems[0].endswith("(got 'no spaces')")
    assert problems[1] == "gateways[2]: 'demo-gw2' is listed twice"
    assert problems[2].startswith("gateways[3]: ")
    with pytest.raises(InventoryError, match=r"gateways: must be a list of gateway ids"):
        parse_inventory(HEAD + "gateways: demo-gw2\n")


def test_a_gb26875_transmission_device_is_a_registered_kind() -> None:
    inv = parse_inventory(HEAD + """\
devices:
  - {id: uitd-north, kind: fire_transmission_device, gateway: demo-gw-fire,
     protocol: gb26875, address: "100000000001"}
  - {id: panel-north-a, kind: fire_panel, gateway: demo-gw-fire, protocol: gb26875,
     address: uitd-north/1}
""")
    assert [(d.id, d.kind, d.gateway) for d in inv.devices] == [
        ("uitd-north", "fire_transmission_device", "demo-gw-fire"),
        ("panel-north-a", "fire_panel", "demo-gw-fire")]
