"""Personal data in the database: sealed at import, refused in clear by the schema itself,
opened only where it was sealed, re-sealed under a new key batch by batch."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from personal_support import PLAIN, SAFE_WITH_RESIDENTS, import_residents, make_key_file

from inventory import import_inventory, parse_inventory
from inventory.keyfile import add_key, load_key_file
from inventory.personal_store import (
    CREDENTIALS,
    RESIDENTS,
    NoDataKey,
    read_device_credentials,
    read_residents,
    reseal_all,
    reseal_batch,
    sealed_counts,
)
from inventory.sealing import key_id_of

pytestmark = pytest.mark.integration

CAMERAS = """\
community: {id: demo, name: 演示社区, district: "370102"}
devices:
  - {id: "cam-{n:02d}", repeat: 3, kind: camera, gateway: gw1, protocol: onvif,
     address: "http://192.0.2.{n}/", username: admin, password: "pa55-{n}"}
  - {id: cam-9, kind: camera, gateway: gw2, protocol: onvif, address: "http://192.0.2.9/",
     username: op, password: "other-9"}
"""


async def table_text(conn: asyncpg.Connection, table: str) -> str:
    """Every row of `table` as JSON text (bytea shows as hex)."""
    rows = await conn.fetch(f"SELECT row_to_json(t)::text AS j FROM {table} t")
    return "\n".join(r["j"] for r in rows)


async def test_the_import_seals_every_personal_value(conn: asyncpg.Connection,
                                                     tmp_path: Path) -> None:
    _, keys = make_key_file(tmp_path)
    await import_residents(conn, keys)
    stored = await table_text(conn, "residents")
    assert stored and not [p for p in PLAIN if p in stored]
    rows = await conn.fetch("SELECT id, key_id, name_enc, contact_phone_enc FROM residents "
                            "ORDER BY id")
    assert [(r["id"], r["key_id"]) for r in rows] == [(i, keys.current)
                                                       for i in ("r1", "r2", "r3", "r4")]
    assert {key_id_of(r["name_enc"]) for r in rows} == {keys.current}
    assert [r["contact_phone_enc"] is None for r in rows] == [False, True, True, True]
    opened = {r.id: r for r in await read_residents(conn, keys, "safe")}
    r1 = opened["r1"]
    assert (r1.values, r1.sos_button, r1.lone_elderly, r1.problem) == (
        {"name": "张三华", "phone": "13812345678", "room": "北苑1号楼2单元502室",
         "contact_name": "张小明", "contact_phone": "13987654321"}, "sos-1", True, None)
    assert (opened["r4"].sos_button, opened["r4"].lone_elderly) == (None, False)
    assert [r.id for r in await read_residents(conn, keys, "safe", ["r3", "r1"])] == [
        "r1", "r3"]


async def test_without_a_key_an_inventory_with_residents_changes_nothing(
        conn: asyncpg.Connection) -> None:
    with pytest.raises(NoDataKey) as caught:
        await import_inventory(conn, parse_inventory(SAFE_WITH_RESIDENTS, "safe.yaml"))
    assert str(caught.value) == (
        "safe.yaml holds personal data (4 residents) and the database keeps it only sealed, "
        "but no data key was given: make one with `scg keys init --key-file PATH`, then pass "
        "--key-file PATH or set SCG_DATA_KEY_FILE")
    assert await conn.fetchval("SELECT count(*) FROM communities") == 0


async def test_the_schema_refuses_a_value_in_clear_or_under_another_key(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    _, keys = make_key_file(tmp_path)
    await import_residents(conn, keys)
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("UPDATE residents SET phone_enc = convert_to('13812345678', 'UTF8') "
                           "WHERE id = 'r1'")
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute("UPDATE residents SET key_id = '00000000' WHERE id = 'r1'")


async def test_a_value_copied_from_another_row_is_not_shown(conn: asyncpg.Connection,
                                                            tmp_path: Path) -> None:
    _, keys = make_key_file(tmp_path)
    await import_residents(conn, keys)
    await conn.execute("UPDATE residents SET phone_enc = (SELECT phone_enc FROM residents "
                       "WHERE id = 'r3') WHERE id = 'r1'")
    opened = {r.id: r for r in await read_residents(conn, keys, "safe")}
    assert opened["r1"].values == dict.fromkeys(RESIDENTS.fields)
    assert opened["r1"].problem is not None
    assert opened["r1"].problem.startswith("the phone of resident 'r1' in community 'safe' "
                                           "fails authentication")
    assert opened["r3"].values["phone"] == "13700001111"


async def test_re_importing_replaces_the_residents(conn: asyncpg.Connection,
                                                   tmp_path: Path) -> None:
    _, keys = make_key_file(tmp_path)
    await import_residents(conn, keys)
    fewer = SAFE_WITH_RESIDENTS.replace("  - {id: r4, name: 王五六, phone: \"13600002222\", "
                                        "lone_elderly: false}\n", "")
    summary = await import_inventory(conn, parse_inventory(fewer, "safe.yaml"), keys)
    assert summary.residents == 3
    assert [r.id for r in await read_residents(conn, keys, "safe")] == ["r1", "r2", "r3"]


async def test_device_credentials_are_sealed_and_read_per_gateway(conn: asyncpg.Connection,
                                                                  tmp_path: Path) -> None:
    _, keys = make_key_file(tmp_path)
    summary = await import_inventory(conn, parse_inventory(CAMERAS, "c.yaml"), keys)
    assert summary.credentials == 4
    stored = await table_text(conn, "device_credentials")
    assert "pa55-" not in stored and "admin" not in stored and "other-9" not in stored
    got = await read_device_credentials(conn, keys, "demo", "gw1")
    assert [(c.device, c.username, c.password) for c in got] == [
        ("cam-01", "admin", "pa55-1"), ("cam-02", "admin", "pa55-2"),
        ("cam-03", "admin", "pa55-3")]
    assert [c.device for c in await read_device_credentials(conn, keys, "demo")] == [
        "cam-01", "cam-02", "cam-03", "cam-9"]


async def test_rotation_re_seals_batch_by_batch_and_can_resume(conn: asyncpg.Connection,
                                                               tmp_path: Path) -> None:
    path, old = make_key_file(tmp_path)
    await import_residents(conn, old)
    await import_inventory(conn, parse_inventory(CAMERAS, "c.yaml"), old)
    before = {r.id: r.values for r in await read_residents(conn, old, "safe")}
    new_key = add_key(path)
    keys = load_key_file(path)
    # An interrupted run: one batch of one row committed, then nothing more.
    assert await reseal_batch(conn, keys, RESIDENTS, 1) == 1
    assert await sealed_counts(conn) == {
        old.current: {"residents": 3, "device_credentials": 4},
        new_key.id: {"residents": 1}}
    seen: list[tuple[str, int]] = []
    done = await reseal_all(conn, keys, batch=2, progress=lambda t, n: seen.append((t, n)))
    assert done == {"residents": 3, "device_credentials": 4}
    assert seen == [("residents", 2), ("residents", 3), ("device_credentials", 2),
                    ("device_credentials", 4)]
    assert await sealed_counts(conn) == {
        new_key.id: {"residents": 4, "device_credentials": 4}}
    only_new = load_key_file(path)
    only_new.keys.pop(old.current)
    assert {r.id: r.values for r in await read_residents(conn, only_new, "safe")} == before
    creds = await read_device_credentials(conn, only_new, "demo", "gw2")
    assert [(c.username, c.password) for c in creds] == [("op", "other-9")]
    assert await reseal_all(conn, keys) == {t.table: 0 for t in (RESIDENTS, CREDENTIALS)}
