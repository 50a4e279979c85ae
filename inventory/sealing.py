"""Seal personal data (residents' names, phones, rooms, contacts; device credentials held
centrally) with SM4-GCM before it reaches the database, and open it again.

A sealed value is one `bytea`:

    byte 0        format version, 0x01
    bytes 1..4    key id: which key of the key file sealed it (shown as 8 hex digits)
    bytes 5..16   nonce: 96 random bits, new for every value sealed
    bytes 17..    SM4-GCM ciphertext (as long as the UTF-8 text), then the 16-byte tag

The associated data binds the value to where it is stored: the community, the kind of
record (`resident`, `device_credential`), the record's id and the field, each length-
prefixed, plus the version and key id. A value copied into another row or field, or a
header edited in place, fails authentication instead of showing someone else's phone.

SM4-GCM comes from `cryptography` (OpenSSL's SM4 in GCM mode; DESIGN.md). Whether this
OpenSSL build has it is checked once, at import, against the SM4-GCM example of RFC 8998
(appendix A.1): a build without SM4 makes every seal/open raise SealingUnavailable with
the reason, while the rest of the inventory package keeps working.
"""

from __future__ import annotations

import os
import secrets
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VERSION: Final = 1
KEY_BYTES: Final = 16          # SM4 has one key size: 128 bits
KEY_ID_BYTES: Final = 4
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
HEADER_BYTES: Final = 1 + KEY_ID_BYTES + NONCE_BYTES
#: The shortest sealed value: the header and the tag of an empty text.
MIN_SEALED: Final = HEADER_BYTES + TAG_BYTES
_CONTEXT: Final = b"scg personal data"


class SealingError(ValueError):
    """A sealed value cannot be opened; the message says why and what to do."""


class UnknownKey(SealingError):
    """The value was sealed with a key the key file does not hold (retired too early, or
    another installation's key file)."""

    def __init__(self, key_id: str, known: list[str]) -> None:
        self.key_id = key_id
        super().__init__(f"sealed with key {key_id}, which the key file does not hold "
                         f"(it holds {', '.join(known) or 'no key'}); use the key file "
                         "this database was sealed with, or restore the retired key")


class NotAuthentic(SealingError):
    """Authentication failed: the value was altered, or moved from another row or field."""


class SealingUnavailable(RuntimeError):
    """This Python's OpenSSL cannot do SM4-GCM (or does it wrongly)."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a sealed value lives: it can be opened only there."""

    community: str
    record: str        # resident | device_credential
    ident: str         # the record's id in its community
    field: str         # name | phone | room | contact_name | contact_phone | username | …

    def associated_data(self, version: int, key_id: bytes) -> bytes:
        parts = [_CONTEXT, self.community.encode(), self.record.encode(),
                 self.ident.encode(), self.field.encode()]
        framed = b"".join(struct.pack(">I", len(p)) + p for p in parts)
        return framed + bytes([version]) + key_id


@dataclass(frozen=True, slots=True)
class DataKey:
    id: str                                   # 8 lowercase hex digits
    secret: bytes = field(repr=False)         # 16 bytes
    created: datetime | None = None

    @property
    def raw_id(self) -> bytes:
        return bytes.fromhex(self.id)


def new_key_id(taken: set[str] | frozenset[str] = frozenset()) -> str:
    while True:
        ident = secrets.token_bytes(KEY_ID_BYTES).hex()
        if ident not in taken:
            return ident


def key_id_of(sealed: bytes) -> str:
    """The id of the key that sealed `sealed` (SealingError if it is not a sealed value)."""
    _check_form(sealed)
    return bytes(sealed[1:HEADER_BYTES - NONCE_BYTES]).hex()


def _check_form(sealed: bytes) -> None:
    if len(sealed) < MIN_SEALED:
        raise SealingError(f"a sealed value has at least {MIN_SEALED} bytes, this one "
                           f"{len(sealed)}: it was not written by scg's sealing")
    if sealed[0] != VERSION:
        raise SealingError(f"sealed value of format version {sealed[0]}; this scg reads "
                           f"version {VERSION}: upgrade scg")


def _sm4_gcm_check() -> str | None:
    """None when SM4-GCM gives RFC 8998's answer; else why it cannot be used."""
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    nonce = bytes.fromhex("00001234567800000000abcd")
    aad = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    plain = bytes.fromhex("aa" * 8 + "bb" * 8 + "cc" * 8 + "dd" * 8 + "ee" * 8 + "ff" * 8
                          + "ee" * 8 + "aa" * 8)
    try:
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        out = encryptor.update(plain) + encryptor.finalize()
    except (UnsupportedAlgorithm, ValueError, AttributeError) as exc:
        return (f"this Python's OpenSSL cannot do SM4-GCM ({exc}); install scg with a "
                "cryptography wheel built on OpenSSL 3 (requirements.lock pins one)")
    want = ("17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
            "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d")
    if out.hex() != want or encryptor.tag.hex() != "83de3541e4c2b58177e065a9bf7b62ec":
        return ("this Python's OpenSSL gives a wrong answer for the SM4-GCM example of "
                "RFC 8998; personal data will not be sealed with it")
    return None


#: Why SM4-GCM cannot be used here, or None (checked once, at import).
UNAVAILABLE: Final = _sm4_gcm_check()


def _require() -> None:
    if UNAVAILABLE is not None:
        raise SealingUnavailable(UNAVAILABLE)


def seal(key: DataKey, text: str, place: Place) -> bytes:
    """`text` sealed under `key` for `place`, with a fresh random nonce."""
    _require()
    raw_id = key.raw_id
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key.secret), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(place.associated_data(VERSION, raw_id))
    body = encryptor.update(text.encode("utf-8")) + encryptor.finalize()
    return bytes([VERSION]) + raw_id + nonce + body + encryptor.tag


def open_sealed(key: DataKey, sealed: bytes, place: Place) -> str:
    """The text of `sealed`, which `key` sealed for `place`; NotAuthentic otherwise."""
    _require()
    _check_form(sealed)
    sealed = bytes(sealed)
    raw_id = sealed[1:1 + KEY_ID_BYTES]
    if raw_id != key.raw_id:
        raise SealingError(f"sealed with key {raw_id.hex()}, not with {key.id}")
    nonce = sealed[1 + KEY_ID_BYTES:HEADER_BYTES]
    body, tag = sealed[HEADER_BYTES:-TAG_BYTES], sealed[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key.secret), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(place.associated_data(VERSION, raw_id))
    try:
        plain = decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise NotAuthentic(
            f"the {place.field} of {place.record} {place.ident!r} in community "
            f"{place.community!r} fails authentication: it was altered in the database or "
            "copied from another row or field; restore it from a backup or import the "
            "inventory again") from None
    return plain.decode("utf-8")


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The keys of a key file: `current` seals, every key opens what it sealed."""

    keys: dict[str, DataKey]
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError(f"current key {self.current} is not among the keys")

    @property
    def current_key(self) -> DataKey:
        return self.keys[self.current]

    def seal(self, text: str, place: Place) -> bytes:
        return seal(self.current_key, text, place)

    def open(self, sealed: bytes, place: Place) -> str:
        ident = key_id_of(sealed)
        key = self.keys.get(ident)
        if key is None:
            raise UnknownKey(ident, sorted(self.keys))
        return open_sealed(key, sealed, place)
