"""The resident behind an SOS alarm, for whoever answers it: the alarm list carries each
SOS button's resident with name, phone, room and emergency contact, masked unless the
list was asked for whole (and then logged, naming the alarms it was shown for)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import HTTPException

from web.auth.actor import Actor
from web.personal import PersonalData, record_unmasked_read, residents_json, shown_whole

Connection = Any  # asyncpg.Connection; asyncpg ships no type information

log = logging.getLogger(__name__)


async def with_resident_contacts(conn: Connection, personal: PersonalData, community: str,
                                 alarms: list[dict[str, Any]], *, actor: Actor,
                                 unmasked: bool, at: datetime) -> None:
    """Fill `resident_contact` of the alarms whose device has a resident. Without a usable
    data key the masked details stay null (the list itself must never fail for want of
    it); asking for them whole then answers 503 with the fix."""
    ids = {a["resident"] for a in alarms if a.get("resident")}
    if not ids or (not personal.configured and not unmasked):
        return
    try:
        found = await residents_json(conn, personal, community, unmasked=unmasked, ids=ids)
    except HTTPException:
        if unmasked:
            raise
        log.warning("alarms of %s listed without their residents' details: the data key "
                    "cannot be read", community)
        return
    shown = {r["id"]: r for r in found}
    for alarm in alarms:
        alarm["resident_contact"] = shown.get(alarm.get("resident") or "")
    whole = shown_whole(list(shown.values()))
    await record_unmasked_read(
        conn, actor=actor, community=community, residents=whole, at=at,
        via=f"GET /api/communities/{community}/alarms",
        extra={"alarms": [a["id"] for a in alarms if a.get("resident") in whole]})
