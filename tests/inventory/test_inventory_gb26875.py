"""GB 26875 transmission devices and the panels behind them in the inventory: the panel's
`DEVICE/SYSTEM_ADDRESS` must name a registered transmission device on the same gateway,
and every mistake is named by key path with its fix."""

from __future__ import annotations

import pytest

from inventory import InventoryError, parse_inventory

HEAD = """\
community: {id: demo, name: 演示社区, district: "370102"}
compounds:
  - {id: north}
buildings:
  - {id: A, compound: north, floors: 11}
  - {id: B, compound: north, floors: 11}
devices:
"""
BOX = """\
  - {id: uitd-1, kind: fire_transmission_device, compound: north, gateway: gw1,
     protocol: gb26875, address: "100000000001"}
"""


def panel(ident: str, building: str, address: str, gateway: str = "gw1") -> str:
    return (f"  - {{id: {ident}, kind: fire_panel, building: {building}, gateway: {gateway},"
            f" protocol: gb26875, address: {address},\n"
            f"     zones: [{{zone: 1, area: public}}, {{zone: 2, area: private}}]}}\n")


def problems(text: str) -> list[str]:
    with pytest.raises(InventoryError) as err:
        parse_inventory(text, "inv.yaml")
    return err.value.problems


def test_a_transmission_device_with_two_panels_parses() -> None:
    inv = parse_inventory(HEAD + BOX + panel("fp-a", "A", "uitd-1/1")
                          + panel("fp-b", "B", "uitd-1/2"), "inv.yaml")
    by_id = {d.id: d for d in inv.devices}
    assert by_id["uitd-1"].kind == "fire_transmission_device"
    assert by_id["fp-b"].address == "uitd-1/2"
    assert [(z.zone, z.building, z.area) for z in by_id["fp-b"].zones] == [
        (1, "B", "public"), (2, "B", "private")]


def test_hex_addresses_are_taken() -> None:
    box = BOX.replace('"100000000001"', '"0x1748769E801"')
    inv = parse_inventory(HEAD + box + panel("fp-a", "A", "uitd-1/1"), "inv.yaml")
    assert len(inv.devices) == 2


@pytest.mark.parametrize(("text", "problem"), [
    (HEAD + BOX.replace('"100000000001"', '"1000000000000000"'),
     "devices[0].address: '1000000000000000' must be the transmission device's 6-byte "
     "address"),
    (HEAD + BOX + panel("fp-a", "A", "uitd-1"),
     "devices[1].address: 'uitd-1' must be DEVICE/SYSTEM_ADDRESS"),
    (HEAD + BOX + panel("fp-a", "A", "uitd-1/256"),
     "devices[1].address: 'uitd-1/256' must be DEVICE/SYSTEM_ADDRESS"),
    (HEAD + BOX + panel("fp-a", "A", "uitd-9/1"),
     "devices[1].address: 'uitd-9/1': 'uitd-9' is not a gb26875 fire_transmission_device "
     "in devices (known: uitd-1)"),
    (HEAD + BOX + panel("fp-a", "A", "uitd-1/1", gateway="gw2"),
     "devices[1].gateway: 'gw2' differs from the gateway of transmission device 'uitd-1' "
     "('gw1')"),
    (HEAD + BOX + panel("fp-a", "A", "uitd-1/1") + panel("fp-b", "B", "uitd-1/1"),
     "devices[2].address: system 1 behind uitd-1 is already fp-a (devices[1])"),
    (HEAD + BOX + BOX.replace("uitd-1", "uitd-2"),
     "devices[1].address: 100000000001 is already the address of uitd-1 (devices[0]) on "
     "gateway gw1"),
    (HEAD + "  - {id: m1, kind: meter, building: A, household: h1, gateway: gw1, "
            "protocol: gb26875, address: '1'}\n",
     "devices[0].protocol: gb26875 reports transmission devices and the fire panels"),
])
def test_mistakes_are_named_with_their_key_and_fix(text: str, problem: str) -> None:
    found = problems(text)
    assert any(p.startswith(problem) for p in found), found
