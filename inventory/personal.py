"""Personal data in the inventory: the residents an elderly-care or SOS registration holds
(name, phone, room, emergency contact) and the credentials of devices held centrally.

The inventory file is the only place they are plain text: the import seals each value
(`inventory.sealing`) before it reaches the database. Their text fields are left out of
`repr`, so a value never lands in a log line or a traceback by accident.

    residents:
      - id: elder-001            # the id SOS buttons name in `resident:`
        name: 张三华
        phone: "13800001001"     # a mobile, or a landline such as 0531-88001234
        room: 北苑1号楼2单元502室
        emergency_contact: {name: 张小明, phone: "13900001001"}
        lone_elderly: true       # default true: counted against community.lone_elderly
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from inventory.fields import FieldReader

RESIDENT_KEYS: Final = ("id", "name", "phone", "room", "emergency_contact", "lone_elderly")
CONTACT_KEYS: Final = ("name", "phone")
#: Keys a device row may carry for the credentials the centre keeps for it.
CREDENTIAL_KEYS: Final = ("username", "password")
_MOBILE_RE: Final = re.compile(r"^1[3-9]\d{9}$")
_PHONE_HOW: Final = ("a mainland mobile number of 11 digits such as \"13800001001\", or a "
                     "landline with its area code such as \"0531-88001234\"")


@dataclass(frozen=True, slots=True)
class Contact:
    name: str = field(repr=False)
    phone: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Resident:
    """One registered resident; `id` is what SOS buttons name, the rest is personal."""

    id: str
    name: str = field(repr=False)
    phone: str | None = field(default=None, repr=False)
    room: str | None = field(default=None, repr=False)
    contact: Contact | None = field(default=None, repr=False)
    lone_elderly: bool = True


@dataclass(frozen=True, slots=True)
class DeviceCredential:
    """The login the centre keeps for a device (a camera's ONVIF user), for generating
    gateway configs; sealed like residents' data."""

    device: str
    username: str = field(repr=False)
    password: str = field(repr=False)


def normalise_phone(value: Any) -> str | None:
    """A mobile as 11 digits, a landline as AREA-NUMBER; None if it is neither. Spaces,
    hyphens and a +86 prefix are accepted."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip().replace(" ", "")
    if text.startswith("+86"):
        text = text[3:]
    digits = text.replace("-", "")
    if not digits.isdigit():
        return None
    if _MOBILE_RE.match(digits):
        return digits
    if not digits.startswith("0"):
        return None
    if "-" in text:
        area, _, number = text.partition("-")
        if "-" in number:
            return None
    else:
        # Beijing (010) and the 02x cities have 3-digit area codes, every other one 4.
        split = 3 if digits[1] in "12" else 4
        area, number = digits[:split], digits[split:]
    if not (3 <= len(area) <= 4 and 7 <= len(number) <= 8):
        return None
    return f"{area}-{number}"


def parse_residents(r: FieldReader, rows: list[tuple[str, dict[str, Any]]]) -> list[Resident]:
    """The `residents:` section; every fault is recorded on `r`."""
    out: list[Resident] = []
    seen: dict[str, str] = {}
    for path, row in rows:
        r.known_keys(row, RESIDENT_KEYS, path)
        rid = r.text(row, "id", path, required=True, ident=True)
        name = r.text(row, "name", path, required=True)
        phone = _phone(r, row, "phone", path)
        room = r.text(row, "room", path)
        contact = _contact(r, row.get("emergency_contact"), f"{path}.emergency_contact")
        lone = r.flag(row, "lone_elderly", path, True)
        if rid is None or name is None:
            continue
        if rid in seen:
            r.fail(f"{path}.id", f"{rid!r} is already used by {seen[rid]}; resident ids must "
                   "be unique in the community")
            continue
        seen[rid] = path
        out.append(Resident(rid, name.strip(), phone, room, contact, lone))
    return out


def _phone(r: FieldReader, row: dict[str, Any], key: str, path: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    phone = normalise_phone(value)
    if phone is None:
        # The value itself stays out of the message: problems are printed and logged.
        r.fail(f"{path}.{key}", f"is not a phone number: give {_PHONE_HOW}, in quotes")
    return phone


def _contact(r: FieldReader, value: Any, path: str) -> Contact | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        r.fail(path, "must be a mapping {name: ..., phone: ...}")
        return None
    r.known_keys(value, CONTACT_KEYS, path)
    name = r.text(value, "name", path, required=True)
    phone = _phone(r, value, "phone", path)
    if value.get("phone") is None:
        r.fail(f"{path}.phone", "is required: an emergency contact is someone to call")
    if name is None or phone is None:
        return None
    return Contact(name.strip(), phone)


def credential_fields(r: FieldReader, row: dict[str, Any], path: str, did: str | None,
                      protocol: str | None) -> DeviceCredential | None:
    """`username` and `password` of a device row: both or neither, on a device that has a
    protocol to log in with."""
    given = [k for k in CREDENTIAL_KEYS if row.get(k) is not None]
    if not given:
        return None
    if protocol is None:
        r.fail(f"{path}.{given[0]}", "is set but the device has no protocol to log in with; "
               "remove the credentials or add protocol (and gateway)")
        return None
    if len(given) == 1:
        missing = next(k for k in CREDENTIAL_KEYS if k not in given)
        r.fail(f"{path}.{missing}", f"is required with {given[0]}: give both the user and "
               "the password the device expects")
        return None
    username = r.text(row, "username", path)
    password = row.get("password")
    if isinstance(password, int) and not isinstance(password, bool):
        password = str(password)
    if not isinstance(password, str) or not password:
        r.fail(f"{path}.password", "must be non-empty text; quote it")
        return None
    if username is None or did is None:
        return None
    return DeviceCredential(did, username, password)


def link_residents(r: FieldReader, residents: list[Resident],
                   rows: list[tuple[str, dict[str, Any]]], sos_residents: dict[str, str],
                   lone_elderly: int | None, listed: bool) -> None:
    """When the file lists residents (`rows`), every SOS button must name one of them, and
    no more residents may be lone elderly than the community declares. A row with faults
    of its own still counts as listed: its faults are reported once, where they are."""
    if not listed:
        return
    known = {row["id"] for _, row in rows if isinstance(row.get("id"), str)}
    for resident, where in sos_residents.items():
        if resident not in known:
            r.fail(f"{where}.resident", f"{resident!r} is not in residents; add the resident "
                   "(name, phone, room, emergency contact) under residents or correct the id")
    lone = sum(1 for x in residents if x.lone_elderly)
    if lone_elderly is not None and lone > lone_elderly:
        r.fail("community.lone_elderly", f"declares {lone_elderly} lone elderly residents but "
               f"residents lists {lone} with lone_elderly true; correct the count or the "
               "residents")
