"""The GB 26875 site map typed once: the inventory's zones say their loop (and points), and
`scg inventory gb26875-devices` writes the gateway's rows from them, which the gb26875
driver takes as they are; the demo plan's own gateway rows are exactly those."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from drivers.base import DeviceSpec
from drivers.gb26875.devices import parse_devices
from drivers.gb26875.settings import parse_settings
from inventory import InventoryError, parse_inventory
from inventory.gb26875 import gateway_devices
from scg.cli import main
from scg.gb26875_plan import Gb26875Plan

INVENTORY = """\
community: {id: demo, name: 演示社区, district: "370102"}
compounds:
  - {id: north}
buildings:
  - {id: b1, compound: north, floors: 11}
  - {id: b2, compound: north, floors: 11}
devices:
  - {id: uitd-1, kind: fire_transmission_device, compound: north, gateway: gw1,
     protocol: gb26875, address: "100000000001"}
  - id: fire-ctl-b1
    kind: fire_panel
    building: b1
    gateway: gw1
    protocol: gb26875
    address: uitd-1/1
    zones:
      - {zone: 1, area: public, loop: 1}
      - {zone: 2, area: public, loop: 2, points: 1-15}
      - {zone: 3, area: private, loop: 2, points: [16, 17, 18]}
  - {id: fire-ctl-b2, kind: fire_panel, building: b2, gateway: gw1, protocol: gb26875,
     address: uitd-1/2, zones: [{zone: 1, area: public}]}
  - {id: fire-b2, kind: fire_panel, building: b2, gateway: gw1, protocol: modbus,
     address: fire/1, zones: [{zone: 1, area: public}]}
"""


def specs(rows: list[dict[str, Any]]) -> list[DeviceSpec]:
    return [DeviceSpec(r["id"], r["driver"], r["profile"], r["address"],
                       timedelta(seconds=float(r["period"].rstrip("s"))),
                       r.get("options", {})) for r in rows]


def test_the_inventory_zones_become_the_drivers_site_map() -> None:
    rows = gateway_devices(parse_inventory(INVENTORY, "inv.yaml"), "gw1", "30s")
    assert [r["id"] for r in rows] == ["uitd-1", "fire-ctl-b1", "fire-ctl-b2"]
    assert rows[1]["options"] == {"zones": [{"zone": 1, "loop": 1},
                                            {"zone": 2, "loop": 2, "points": "1-15"},
                                            {"zone": 3, "loop": 2, "points": "16,17,18"}]}
    assert "options" not in rows[2]  # no zone with a loop: reports carry no zone
    (box,) = parse_devices(specs(rows), parse_settings({}))
    panel = box.panels[(1, 1)]
    assert (panel.zone_of(1, 40), panel.zone_of(2, 15), panel.zone_of(2, 17),
            panel.zone_of(2, 19)) == (1, 2, 3, None)


def test_a_loop_on_a_zone_of_a_modbus_panel_or_points_without_loop_are_refused() -> None:
    text = INVENTORY.replace("address: fire/1, zones: [{zone: 1, area: public}]",
                             "address: fire/1, zones: [{zone: 1, area: public, loop: 1}]")
    text = text.replace("address: uitd-1/2, zones: [{zone: 1, area: public}]",
                        "address: uitd-1/2, zones: [{zone: 1, area: public, points: 1-4}]")
    with pytest.raises(InventoryError) as err:
        parse_inventory(text, "inv.yaml")
    assert err.value.problems == [
        "devices[2].zones[0].points: needs loop: the points are of one loop, e.g. {zone: 2, "
        "loop: 2, points: 1-15}",
        "devices[3].zones[0].loop: only a gb26875 panel's zones have a loop (its "
        "transmission device's site map); remove loop and points, or set protocol: gb26875"]


def test_the_command_prints_rows_to_paste_and_says_what_has_no_map(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY, encoding="utf-8")
    assert main(["inventory", "gb26875-devices", str(path), "--gateway", "gw1",
                 "--period", "20s"]) == 0
    out = capsys.readouterr().out
    assert "# no zone of fire-ctl-b2 has a loop" in out
    doc = yaml.safe_load(out)
    assert [(r["id"], r["period"]) for r in doc["devices"]] == [
        ("uitd-1", "20s"), ("fire-ctl-b1", "20s"), ("fire-ctl-b2", "20s")]
    assert main(["inventory", "gb26875-devices", str(path), "--gateway", "gw9"]) == 2
    assert "no gb26875 device is registered to gateway 'gw9'" in capsys.readouterr().err


def test_the_demo_plans_gateway_rows_are_what_its_inventory_generates() -> None:
    plan = Gb26875Plan()
    doc = {"community": {"id": "demo", "name": "演示社区", "district": "370102"},
           "compounds": [{"id": "north"}, {"id": "south"}],
           "buildings": [{"id": b, "compound": b.split("-")[0]} for b in plan.buildings],
           "devices": plan.inventory_devices("demo-gw1")}
    inventory = parse_inventory(yaml.safe_dump(doc, allow_unicode=True), "plan.yaml")
    assert gateway_devices(inventory, "demo-gw1", f"{plan.period_s}s") == \
        plan.gateway_devices()
    # ... and the driver takes them as they are: each building's loop 1 is its public zone
    (box,) = parse_devices(specs(plan.gateway_devices()),
                           parse_settings(plan.driver_settings()["gb26875"]))
    assert (box.id, sorted(p.id for p in box.panels.values())) == (
        "uitd-1", sorted(plan.panel_id(b) for b in plan.buildings))
    assert {p.id: (p.zone_of(1, 20), p.zone_of(2, 7)) for p in box.panels.values()} == {
        plan.panel_id(b): (1, 2) for b in plan.buildings}
    public = {d.id: [z.zone for z in d.zones if z.public] for d in inventory.devices
              if d.kind == "fire_panel"}
    assert public == {plan.panel_id(b): [1] for b in plan.buildings}
