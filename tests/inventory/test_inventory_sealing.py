"""SM4-GCM sealing of personal data: what a sealed value holds, and what cannot open it."""

from __future__ import annotations

import os

import pytest

from inventory.sealing import (
    HEADER_BYTES,
    MIN_SEALED,
    UNAVAILABLE,
    DataKey,
    KeyRing,
    NotAuthentic,
    Place,
    SealingError,
    UnknownKey,
    key_id_of,
    open_sealed,
    seal,
)

KEY = DataKey("0a1b2c3d", bytes.fromhex("00112233445566778899aabbccddeeff"))
OLD = DataKey("deadbeef", os.urandom(16))
PHONE = Place("demo", "resident", "elder-001", "phone")


def test_this_openssl_gives_the_rfc_8998_answer_for_sm4_gcm() -> None:
    assert UNAVAILABLE is None


def test_a_sealed_value_is_version_key_id_nonce_ciphertext_and_tag() -> None:
    sealed = seal(KEY, "13812345678", PHONE)
    assert sealed[0] == 1
    assert sealed[1:5].hex() == "0a1b2c3d" == key_id_of(sealed)
    assert len(sealed) == HEADER_BYTES + len(b"13812345678") + 16
    assert b"13812345678" not in sealed
    assert open_sealed(KEY, sealed, PHONE) == "13812345678"


def test_every_seal_takes_a_fresh_nonce() -> None:
    a, b = seal(KEY, "张三华", PHONE), seal(KEY, "张三华", PHONE)
    assert a[5:17] != b[5:17] and a != b
    assert open_sealed(KEY, a, PHONE) == open_sealed(KEY, b, PHONE) == "张三华"


@pytest.mark.parametrize("elsewhere", [
    Place("demo", "resident", "elder-002", "phone"),     # another resident's row
    Place("demo", "resident", "elder-001", "name"),      # another field of the same row
    Place("other", "resident", "elder-001", "phone"),    # another community
    Place("demo", "device_credential", "elder-001", "phone"),
])
def test_a_value_moved_to_another_row_field_or_community_fails(elsewhere: Place) -> None:
    sealed = seal(KEY, "13812345678", PHONE)
    with pytest.raises(NotAuthentic, match=r"phone|name") as caught:
        open_sealed(KEY, sealed, elsewhere)
    assert "altered in the database or copied from another row" in str(caught.value)


@pytest.mark.parametrize("offset", [0 + 5, 12, HEADER_BYTES, -1])
def test_a_changed_byte_fails_authentication(offset: int) -> None:
    sealed = bytearray(seal(KEY, "北苑1号楼2单元502室", PHONE))
    sealed[offset] ^= 0x01
    with pytest.raises(NotAuthentic):
        open_sealed(KEY, bytes(sealed), PHONE)


def test_the_ring_opens_with_the_key_that_sealed_and_names_a_missing_one() -> None:
    ring = KeyRing({KEY.id: KEY, OLD.id: OLD}, KEY.id)
    old_value = seal(OLD, "李四", PHONE)
    assert ring.open(old_value, PHONE) == "李四"
    assert key_id_of(ring.seal("李四", PHONE)) == KEY.id
    only_new = KeyRing({KEY.id: KEY}, KEY.id)
    with pytest.raises(UnknownKey) as caught:
        only_new.open(old_value, PHONE)
    assert str(caught.value) == (
        "sealed with key deadbeef, which the key file does not hold (it holds 0a1b2c3d); use "
        "the key file this database was sealed with, or restore the retired key")


def test_plain_bytes_are_not_taken_for_a_sealed_value() -> None:
    with pytest.raises(SealingError, match=f"at least {MIN_SEALED} bytes"):
        key_id_of(b"13812345678")
    with pytest.raises(SealingError, match="format version 2"):
        key_id_of(bytes([2]) + bytes(MIN_SEALED))


def test_a_key_never_shows_its_secret() -> None:
    assert KEY.secret.hex() not in repr(KEY)
