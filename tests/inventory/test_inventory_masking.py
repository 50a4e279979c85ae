"""How personal data looks to whoever may not see it whole."""

from __future__ import annotations

import pytest

from inventory.masking import mask_name, mask_phone, mask_room


@pytest.mark.parametrize(("name", "masked"), [
    ("张三华", "张*华"), ("张三", "张*"), ("欧阳明华", "欧**华"), ("王", "*"),
    (" 李四 ", "李*"), ("Li Siwen", "L******n"),
])
def test_names_keep_their_first_and_last_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"), ("0531-88001234", "0531-****1234"),
    ("010-6512345", "010-***2345"), ("12345", "*2345"), ("123", "***"),
])
def test_phones_keep_the_prefix_and_last_four_digits(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(("room", "masked"), [
    ("3号楼2单元502室", "3号楼2单元***室"), ("北苑1号楼2单元502", "北苑1号楼2单元***"),
    ("502", "5**"), ("东门传达室", "东****"),
])
def test_rooms_hide_the_door_number(room: str, masked: str) -> None:
    assert mask_room(room) == masked
