"""Personal data in the database: sealed on the way in (inventory import), opened on the
way out (the API, for roles allowed to see it), re-sealed under a new key in batches
(`scg keys rotate`), and counted per key (`scg keys retire` refuses a key still in use).

Which tables hold sealed values, and in which columns, is the table `SEALED_TABLES`:
rotation and the key counts read it, so a new sealed column is added there once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final

from inventory.model import Inventory
from inventory.personal import DeviceCredential
from inventory.sealing import KeyRing, Place, SealingError

Connection = Any  # asyncpg.Connection; asyncpg ships no type information


@dataclass(frozen=True, slots=True)
class SealedTable:
    table: str
    record: str                 # the record kind in the associated data (Place.record)
    ident: str                  # the column of the record's id in its community
    fields: tuple[str, ...]     # each stored in column FIELD_enc

    @property
    def columns(self) -> list[str]:
        return [f"{f}_enc" for f in self.fields]


RESIDENTS: Final = SealedTable("residents", "resident", "id",
                               ("name", "phone", "room", "contact_name", "contact_phone"))
CREDENTIALS: Final = SealedTable("device_credentials", "device_credential", "device",
                                 ("username", "password"))
SEALED_TABLES: Final = (RESIDENTS, CREDENTIALS)


class NoDataKey(ValueError):
    """Personal data to seal or open, and no key to do it with."""


def require_key(inventory: Inventory, keys: KeyRing | None) -> None:
    """NoDataKey when `inventory` holds personal data and no key ring is given."""
    if keys is None and inventory.has_personal_data:
        what = [f"{len(inventory.residents)} residents" if inventory.residents else "",
                f"{len(inventory.credentials)} device credentials"
                if inventory.credentials else ""]
        raise NoDataKey(
            f"{inventory.source} holds personal data ({', '.join(w for w in what if w)}) "
            "and the database keeps it only sealed, but no data key was given: make one with "
            "`scg keys init --key-file PATH`, then pass --key-file PATH or set "
            "SCG_DATA_KEY_FILE")


async def store_personal(conn: Connection, inventory: Inventory, keys: KeyRing | None) -> None:
    """Replace the community's residents and device credentials with the inventory's,
    sealed under the current key. Call inside the import's transaction."""
    require_key(inventory, keys)
    community = inventory.community.id
    for sealed in SEALED_TABLES:
        await conn.execute(f"DELETE FROM {sealed.table} WHERE community = $1", community)
    if keys is None:
        return
    current = keys.current

    def seal(table: SealedTable, ident: str, name: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        return keys.seal(value, Place(community, table.record, ident, name))

    residents = []
    for r in inventory.residents:
        plain = {"name": r.name, "phone": r.phone, "room": r.room,
                 "contact_name": r.contact.name if r.contact else None,
                 "contact_phone": r.contact.phone if r.contact else None}
        residents.append((community, r.id, current, r.lone_elderly,
                          *(seal(RESIDENTS, r.id, f, plain[f]) for f in RESIDENTS.fields)))
    await conn.copy_records_to_table(
        "residents", columns=["community", "id", "key_id", "lone_elderly", *RESIDENTS.columns],
        records=residents)
    credentials = [(community, c.device, current,
                    seal(CREDENTIALS, c.device, "username", c.username),
                    seal(CREDENTIALS, c.device, "password", c.password))
                   for c in inventory.credentials]
    await conn.copy_records_to_table(
        "device_credentials", columns=["community", "device", "key_id", *CREDENTIALS.columns],
        records=credentials)


@dataclass(frozen=True, slots=True)
class OpenedResident:
    """A resident as read back: `values` maps each field to its text (None where the file
    gave none); `problem` says why the values could not be opened (they are then None)."""

    id: str
    lone_elderly: bool
    sos_button: str | None
    values: dict[str, str | None] = field(repr=False)
    problem: str | None = None


def open_row(keys: KeyRing, table: SealedTable, community: str, ident: str,
             row: Any) -> dict[str, str | None]:
    """Every sealed field of `row` opened; SealingError for the first that will not."""
    return {f: None if row[f"{f}_enc"] is None
            else keys.open(row[f"{f}_enc"], Place(community, table.record, ident, f))
            for f in table.fields}


async def read_residents(conn: Connection, keys: KeyRing, community: str,
                         ids: Iterable[str] | None = None) -> list[OpenedResident]:
    """The community's residents (or those of `ids`), opened, by id, with the SOS button
    each carries."""
    wanted = None if ids is None else sorted(set(ids))
    rows = await conn.fetch(
        f"""SELECT r.id, r.lone_elderly, d.id AS sos_button, {', '.join(
                f'r.{c}' for c in RESIDENTS.columns)}
            FROM residents r
            LEFT JOIN devices d ON d.community = r.community AND d.resident = r.id
            WHERE r.community = $1 AND ($2::text[] IS NULL OR r.id = ANY($2))
            ORDER BY r.id""", community, wanted)
    out = []
    for row in rows:
        try:
            values, problem = open_row(keys, RESIDENTS, community, row["id"], row), None
        except SealingError as exc:
            values, problem = dict.fromkeys(RESIDENTS.fields), str(exc)
        out.append(OpenedResident(row["id"], row["lone_elderly"], row["sos_button"], values,
                                  problem))
    return out


async def read_device_credentials(conn: Connection, keys: KeyRing, community: str,
                                  gateway: str | None = None) -> list[DeviceCredential]:
    """The credentials the centre keeps for the community's devices (those a gateway
    reports, when `gateway` is given), opened, by device id."""
    rows = await conn.fetch(
        """SELECT c.device, c.username_enc, c.password_enc
           FROM device_credentials c
           LEFT JOIN devices d ON d.community = c.community AND d.id = c.device
           WHERE c.community = $1 AND ($2::text IS NULL OR d.gateway = $2)
           ORDER BY c.device""", community, gateway)
    out = []
    for row in rows:
        opened = open_row(keys, CREDENTIALS, community, row["device"], row)
        out.append(DeviceCredential(row["device"], opened["username"] or "",
                                    opened["password"] or ""))
    return out


async def sealed_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Rows per key id and table: {key id: {table: rows}}."""
    out: dict[str, dict[str, int]] = {}
    for sealed in SEALED_TABLES:
        for row in await conn.fetch(
                f"SELECT key_id, count(*) AS n FROM {sealed.table} GROUP BY key_id"):
            out.setdefault(row["key_id"], {})[sealed.table] = row["n"]
    return out


async def reseal_batch(conn: Connection, keys: KeyRing, table: SealedTable,
                       limit: int) -> int:
    """Re-seal under the current key up to `limit` rows of `table` sealed under another,
    in one transaction; return how many. Rows another process holds are skipped (it is
    re-sealing them), so several runs may share the work."""
    async with conn.transaction():
        rows = await conn.fetch(
            f"""SELECT community, {table.ident} AS ident, {', '.join(table.columns)}
                FROM {table.table} WHERE key_id <> $1
                ORDER BY community, {table.ident} LIMIT $2
                FOR UPDATE SKIP LOCKED""", keys.current, limit)
        updates = []
        for row in rows:
            opened = open_row(keys, table, row["community"], row["ident"], row)
            place = Place(row["community"], table.record, row["ident"], "")
            resealed = [None if text is None else keys.seal(text, replace(place, field=f))
                        for f, text in opened.items()]
            updates.append((row["community"], row["ident"], keys.current, *resealed))
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(table.columns, start=4))
        await conn.executemany(
            f"""UPDATE {table.table} SET key_id = $3, {sets}, sealed_at = now()
                WHERE community = $1 AND {table.ident} = $2""", updates)
    return len(rows)


async def reseal_all(conn: Connection, keys: KeyRing, *, batch: int = 500,
                     progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Re-seal every value not under the current key, `batch` rows per transaction; an
    interrupted run loses at most one batch's work and the next run goes on from there.
    Returns the rows re-sealed per table; `progress(table, rows so far)` after each batch."""
    done: dict[str, int] = {}
    for table in SEALED_TABLES:
        done[table.table] = 0
        while True:
            n = await reseal_batch(conn, keys, table, batch)
            if n == 0:
                break
            done[table.table] += n
            if progress is not None:
                progress(table.table, done[table.table])
    return done
