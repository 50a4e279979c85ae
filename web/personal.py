"""Residents' personal data as the API shows it: masked (张*华, 138****5678) to every role
that may read the register, whole only to a role holding `personal.read` (those who
answer SOS calls) when asked for (`unmasked=true`), and then recorded in the operation log
before the answer leaves: who, when, which residents, through which route.

The data key comes from SCG_DATA_KEY_FILE (`inventory.keyfile`); without one the API
still serves everything else, and says why where personal data was asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from fastapi import HTTPException, Query

from ingest.schema.chain import log_operation
from inventory.keyfile import KeyFileError, KeySource, key_file_path
from inventory.masking import mask_name, mask_phone, mask_room
from inventory.personal_store import OpenedResident, read_residents
from inventory.sealing import KeyRing, SealingUnavailable
from web.auth.actor import Actor
from web.auth.roles import PERMISSIONS, ROLE_NAMES

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

UNMASK: Final = "personal.read"
#: The operation-log action of a read that showed personal data whole.
READ_ACTION: Final = "personal.read"
_MASKS: Final = {"name": mask_name, "phone": mask_phone, "room": mask_room,
                 "contact_name": mask_name, "contact_phone": mask_phone}
UNMASKED_QUERY: Final = Query(description=(
    "show names, phones, rooms and contacts whole (roles admin and operator only; each "
    "such read is recorded in the operation log)"))
PERSONAL_ERRORS: Final = {
    403: "the user's role may not read this, or may not see residents' data unmasked "
         "(unmasked=true)",
    503: "the database is unavailable, or the API has no data key (SCG_DATA_KEY_FILE) or "
         "cannot read it",
}
NO_KEY: Final = ("residents' data is stored sealed and this API has no data key: start it "
                 "with SCG_DATA_KEY_FILE set to the key file the inventory was imported with "
                 "(`scg keys init` made it)")


class PersonalData:
    """The API's access to the data key (None: not configured)."""

    def __init__(self, source: KeySource | None) -> None:
        self.source = source

    @property
    def configured(self) -> bool:
        return self.source is not None

    def ring(self) -> KeyRing:
        """The key ring; 503 naming the fix when there is none or it cannot be read."""
        if self.source is None:
            raise HTTPException(503, NO_KEY)
        try:
            return self.source.ring()
        except (KeyFileError, SealingUnavailable) as exc:
            raise HTTPException(503, f"residents' data cannot be opened: {exc}") from None


def check_unmask(actor: Actor, unmasked: bool) -> None:
    """403 when `unmasked` is asked for by a role that may not see personal data whole."""
    if unmasked and not actor.may(UNMASK):
        holders = " or ".join(r for r in ROLE_NAMES if r in PERMISSIONS[UNMASK].roles)
        raise HTTPException(403, f"user {actor.name!r} ({actor.role}) may not "
                                 f"{PERMISSIONS[UNMASK].does}; that needs the role "
                                 f"{holders}. Leave out unmasked=true to see them masked")


def resident_json(resident: OpenedResident, unmasked: bool) -> dict[str, Any]:
    """One resident as the API shows it, masked unless `unmasked`."""
    shown = {f: (v if unmasked or v is None else _MASKS[f](v))
             for f, v in resident.values.items()}
    contact = None
    if shown["contact_name"] is not None or shown["contact_phone"] is not None:
        contact = {"name": shown["contact_name"], "phone": shown["contact_phone"]}
    return {"id": resident.id, "name": shown["name"], "phone": shown["phone"],
            "room": shown["room"], "emergency_contact": contact,
            "lone_elderly": resident.lone_elderly, "sos_button": resident.sos_button,
            "masked": not unmasked, "problem": resident.problem}


async def residents_json(conn: Connection, personal: PersonalData, community: str, *,
                         unmasked: bool, ids: Iterable[str] | None = None
                         ) -> list[dict[str, Any]]:
    opened = await read_residents(conn, personal.ring(), community, ids)
    return [resident_json(r, unmasked) for r in opened]


def shown_whole(residents: list[dict[str, Any]]) -> list[str]:
    """The ids of residents whose data an answer shows whole (opened and unmasked)."""
    return [r["id"] for r in residents if not r["masked"] and r["problem"] is None]


async def record_unmasked_read(conn: Connection, *, actor: Actor, community: str,
                               residents: list[str], at: datetime, via: str,
                               extra: dict[str, Any] | None = None) -> None:
    """One operation-log row for an answer that shows `residents` whole; nothing when it
    shows nobody. Called before the answer is sent: no row, no answer."""
    if not residents:
        return
    await log_operation(
        conn, at=at, actor=actor.name, action=READ_ACTION, community=community,
        target="residents:" + ",".join(residents), note=None,
        details={"residents": residents, "via": via, "role": actor.role, **(extra or {})})


def personal_data(key_file: Path | None) -> PersonalData:
    """The API's access to `key_file`, else SCG_DATA_KEY_FILE; read now, so that a missing
    or exposed key file stops the API at start (ValueError naming it and the fix)."""
    path = key_file or key_file_path()
    if path is None:
        return PersonalData(None)
    source = KeySource(path)
    source.ring()
    return PersonalData(source)
