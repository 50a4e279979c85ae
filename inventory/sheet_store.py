"""Import the cameras of a camera sheet (一机一档) into a community already in the database.

Cameras are upserted by id: a new one is added with origin `sheet`; one already registered
(by the inventory YAML or an earlier sheet) gets its record fields from the sheet and keeps
its gateway, protocol and address unless `gateway` is given. With `replace`, cameras from
earlier sheets that this sheet no longer lists are removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from inventory.records import CameraRecord, boundary_from_json, check_records
from inventory.sheet import SheetCamera, parse_sheet


class CommunityMissing(LookupError):
    """The community is not in the database; the message says how to add it."""


@dataclass(slots=True)
class SheetImport:
    community: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    #: (camera id, failed checks) for the imported cameras whose record is not compliant.
    noncompliant: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.added + self.updated


async def import_camera_sheet(conn: asyncpg.Connection, community: str, path: Path, *,
                              gateway: str | None = None,
                              replace: bool = False) -> SheetImport:
    """Read `path` and upsert its good rows in one transaction; report the bad ones."""
    row = await conn.fetchrow("SELECT district_code, boundary FROM communities WHERE id = $1",
                              community)
    if row is None:
        known = [r["id"] for r in await conn.fetch("SELECT id FROM communities ORDER BY id")]
        raise CommunityMissing(f"community {community!r} is not in the database (known: "
                               f"{', '.join(known) or 'none'}); import its inventory first with "
                               "`scg inventory import FILE`")
    compounds = {r["id"] for r in await conn.fetch(
        "SELECT id FROM compounds WHERE community = $1", community)}
    positions = {r["id"]: r["type"] for r in await conn.fetch(
        "SELECT id, type FROM key_positions WHERE community = $1", community)}
    sheet = parse_sheet(path, compounds, positions)
    out = SheetImport(community, refused=sheet.refused, warnings=sheet.warnings)
    existing = {r["id"]: r["kind"] for r in await conn.fetch(
        "SELECT id, kind FROM devices WHERE community = $1", community)}
    good: list[SheetCamera] = []
    for cam in sheet.cameras:
        kind = existing.get(cam.id)
        if kind is not None and kind != "camera":
            out.refused.append((cam.line, f"id {cam.id!r} is a {kind} in the inventory, not a "
                                          "camera; give the camera another id or code"))
        else:
            good.append(cam)
    out.refused.sort()
    protocol = "onvif" if gateway else None
    async with conn.transaction():
        for cam in good:
            attrs = {"position_type": cam.position_type} if cam.position_type else {}
            await conn.execute("""
                INSERT INTO devices (community, id, kind, name, compound, public, gateway,
                                     protocol, attrs, code, civil_code, longitude, latitude,
                                     key_position, origin)
                VALUES ($1, $2, 'camera', $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12,
                        $13, 'sheet')
                ON CONFLICT (community, id) DO UPDATE SET
                    name = EXCLUDED.name, compound = EXCLUDED.compound,
                    public = EXCLUDED.public,
                    gateway = coalesce(EXCLUDED.gateway, devices.gateway),
                    protocol = coalesce(EXCLUDED.protocol, devices.protocol),
                    attrs = devices.attrs || EXCLUDED.attrs, code = EXCLUDED.code,
                    civil_code = EXCLUDED.civil_code, longitude = EXCLUDED.longitude,
                    latitude = EXCLUDED.latitude, key_position = EXCLUDED.key_position""",
                community, cam.id, cam.name, cam.compound, cam.public, gateway, protocol,
                json.dumps(attrs, ensure_ascii=False), cam.code, cam.civil_code,
                cam.longitude, cam.latitude, cam.key_position)
        if replace:
            out.removed = len(await conn.fetch(
                "DELETE FROM devices WHERE community = $1 AND origin = 'sheet' "
                "AND kind = 'camera' AND id <> ALL($2) RETURNING id",
                community, [c.id for c in good]))
    out.updated = sum(1 for c in good if c.id in existing)
    out.added = len(good) - out.updated
    # Checked against every camera of the community: a code may clash with one not in the sheet.
    cameras = await conn.fetch(
        "SELECT id, code, name, civil_code, longitude, latitude FROM devices "
        "WHERE community = $1 AND kind = 'camera'", community)
    verdicts = check_records(
        [CameraRecord(r["id"], r["code"], r["name"], r["civil_code"], r["longitude"],
                      r["latitude"]) for r in cameras],
        row["district_code"], boundary_from_json(_json(row["boundary"])))
    imported = {c.id for c in good}
    out.noncompliant = [(v.camera, v.failed_checks) for v in verdicts
                        if not v.passed and v.camera in imported]
    return out


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value
