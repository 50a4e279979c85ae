"""The `residents:` section and device credentials of an inventory file: validated like
the rest, every problem named by key, and no personal value in a message or a repr."""

from __future__ import annotations

import pytest
from personal_support import PLAIN, SAFE_WITH_RESIDENTS
from safety_support import INVENTORY as SAFE

from inventory import InventoryError, parse_inventory
from inventory.personal import normalise_phone

CAMERA = """\
community: {id: demo, name: 演示社区, district: "370102"}
devices:
  - {id: cam-1, kind: camera, gateway: gw1, protocol: onvif, address: "http://192.0.2.1/",
     username: admin, password: "s3cret-Pa55"}
  - {id: cam-2, kind: camera, gateway: gw1, protocol: onvif, address: "http://192.0.2.2/"}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, "t.yaml")
    return caught.value.problems


def test_residents_are_read_with_normalised_phones() -> None:
    inv = parse_inventory(SAFE_WITH_RESIDENTS, "safe.yaml")
    by_id = {r.id: r for r in inv.residents}
    r1 = by_id["r1"]
    assert (r1.name, r1.phone, r1.room) == ("张三华", "13812345678", "北苑1号楼2单元502室")
    assert r1.contact is not None
    assert (r1.contact.name, r1.contact.phone) == ("张小明", "13987654321")
    assert by_id["r2"].phone == "0531-88001234" and by_id["r2"].contact is None
    assert by_id["r3"].phone == "13700001111"
    assert [r.lone_elderly for r in inv.residents] == [True, True, True, False]
    assert inv.has_personal_data


def test_nothing_personal_shows_in_a_repr() -> None:
    inv = parse_inventory(SAFE_WITH_RESIDENTS, "safe.yaml")
    shown = repr(inv.residents) + repr(parse_inventory(CAMERA, "c.yaml").credentials)
    assert "r1" in shown and "cam-1" in shown
    assert not [p for p in (*PLAIN, "s3cret-Pa55") if p in shown]


@pytest.mark.parametrize(("value", "phone"), [
    ("13812345678", "13812345678"), (13812345678, "13812345678"),
    ("138 1234 5678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
    ("0531-88001234", "0531-88001234"), ("053188001234", "0531-88001234"),
    ("01065123456", "010-65123456"), ("12812345678", None), ("1381234567", None),
    ("88001234", None), ("0531-880", None), ("tel:138", None), (None, None),
])
def test_phone_numbers(value: object, phone: str | None) -> None:
    assert normalise_phone(value) == phone


def test_each_resident_problem_is_named_by_key_without_the_value() -> None:
    text = SAFE + """\
residents:
  - {id: r1, phone: "1381234567"}
  - {id: r2, name: 李四, emergency_contact: {name: 李五}, color: red}
  - {id: r2, name: 李四二}
  - {id: r3, name: 王五, emergency_contact: "13900000000"}
"""
    assert problems(text) == [
        "residents[0].name: is required",
        "residents[0].phone: is not a phone number: give a mainland mobile number of 11 "
        "digits such as \"13800001001\", or a landline with its area code such as "
        "\"0531-88001234\", in quotes",
        "residents[1].color: unknown key; known keys are id, name, phone, room, "
        "emergency_contact, lone_elderly (put other facts under attrs)",
        "residents[1].emergency_contact.phone: is required: an emergency contact is someone "
        "to call",
        "residents[2].id: 'r2' is already used by residents[1]; resident ids must be unique "
        "in the community",
        "residents[3].emergency_contact: must be a mapping {name: ..., phone: ...}",
    ]
    assert not any("1381234567" in p for p in problems(text))


def test_with_residents_listed_every_sos_button_names_one_and_the_count_fits() -> None:
    text = SAFE.replace("lone_elderly: 4", "lone_elderly: 3") + """\
residents:
  - {id: r1, name: 张三华}
  - {id: r2, name: 李四}
  - {id: r5, name: 王五}
  - {id: r6, name: 赵六}
"""
    assert problems(text) == [
        "devices[30].resident: 'r3' is not in residents; add the resident (name, phone, room, "
        "emergency contact) under residents or correct the id",
        "community.lone_elderly: declares 3 lone elderly residents but residents lists 4 with "
        "lone_elderly true; correct the count or the residents",
    ]
    # Without a residents section the buttons' ids are taken as they are.
    assert len(parse_inventory(SAFE, "safe.yaml").residents) == 0


def test_device_credentials_are_read_both_or_neither() -> None:
    creds = parse_inventory(CAMERA, "c.yaml").credentials
    assert [(c.device, c.username, c.password) for c in creds] == [
        ("cam-1", "admin", "s3cret-Pa55")]
    found = problems(CAMERA.replace('password: "s3cret-Pa55"', 'port: 80'))
    assert found[0].startswith("devices[0].port: unknown key; known keys are ")
    assert found[1:] == ["devices[0].password: is required with username: give both the "
                         "user and the password the device expects"]
    plain = CAMERA.replace("gateway: gw1, protocol: onvif, address: \"http://192.0.2.1/\",",
                           "")
    assert problems(plain) == [
        "devices[0].username: is set but the device has no protocol to log in with; remove "
        "the credentials or add protocol (and gateway)"]
