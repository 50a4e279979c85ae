"""Two database roles: the owner migrates; the runtime role (scg_app) that ingest and the API
use owns nothing, may only add to the records, and still does all their work."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from declared_support import PDF
from declared_support import api as declared_api
from ingest_support import T0, envelope, msg, reading, state, status_msg
from safety_support import AS_OF, COMMUNITY, Clock, api, ev, load_community, press, write

from ingest.schema.chain_audit import verify
from ingest.schema.migrate import MigrationError, migrate
from ingest.schema.roles import RUNTIME_PRIVILEGES, runtime_grants, scram_secret
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from scg.localsvc import PostgresCluster
from telemetry import DeviceState

#: The records and a column of each.
RECORDS = {"operation_log": "actor", "alarm_changes": "note", "declarations": "text",
           "declaration_evidence": "name", "evidence_files": "content_type",
           "user_changes": "actor"}


def as_runtime(dsn: str, role: str = "scg_app") -> str:
    """The same database as `role` (the test cluster trusts loopback logins)."""
    return re.sub(r"://[^@]+@", f"://{role}@", dsn)


@pytest.fixture
async def app(migrated: str) -> asyncpg.Connection:
    c = await asyncpg.connect(as_runtime(migrated))
    yield c
    await c.close()


async def test_every_table_has_a_rule_for_the_runtime_role(conn: asyncpg.Connection) -> None:
    tables = {r["relname"] for r in await conn.fetch(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
             AND NOT c.relispartition""")}
    assert sorted(tables - set(RUNTIME_PRIVILEGES)) == [], \
        "add these tables to RUNTIME_PRIVILEGES in ingest/schema/roles.py"


@pytest.mark.parametrize("statement", [
    "ALTER TABLE {t} DISABLE TRIGGER USER", "UPDATE {t} SET {c} = {c}", "DELETE FROM {t}",
    "TRUNCATE {t}", "ALTER TABLE {t} ADD COLUMN x int", "DROP TABLE {t}"])
async def test_the_runtime_role_cannot_rewrite_or_unlock_the_records(
        app: asyncpg.Connection, statement: str) -> None:
    for table, column in RECORDS.items():
        with pytest.raises(asyncpg.InsufficientPrivilegeError,
                           match=r"must be owner|permission denied"):
            await app.execute(statement.format(t=table, c=column))


async def test_the_runtime_role_owns_nothing_and_reads_the_register_only(
        conn: asyncpg.Connection, app: asyncpg.Connection) -> None:
    line = await runtime_grants(conn, "scg_app")
    assert "owns nothing" in line
    privileges = {r["t"]: (r["s"], r["i"], r["u"], r["d"]) for r in await conn.fetch(
        """SELECT t, has_table_privilege('scg_app', t, 'SELECT') AS s,
                  has_table_privilege('scg_app', t, 'INSERT') AS i,
                  has_table_privilege('scg_app', t, 'UPDATE') AS u,
                  has_table_privilege('scg_app', t, 'DELETE') AS d
           FROM unnest($1::text[]) AS t""",
        ["operation_log", "readings", "device_status", "auth_tokens", "devices", "settings"])}
    assert privileges == {
        "operation_log": (True, True, False, False), "readings": (True, True, False, False),
        "device_status": (True, True, True, False), "auth_tokens": (True, True, True, True),
        "devices": (True, False, False, False), "settings": (True, False, False, False)}
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await import_inventory(app, parse_inventory(
            "community: {id: other, name: x, district: '370102'}\n", "other.yaml"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app.execute("CREATE TABLE mine (x int)")


async def test_ingest_writes_everything_as_the_runtime_role(app: asyncpg.Connection,
                                                            conn: asyncpg.Connection) -> None:
    result = await write_batch(app, [
        status_msg(True, t=T0),
        msg(envelope(1, [reading("light-001"), reading("light-002", metric="energy_kwh"),
                         state("light-001", DeviceState.ONLINE),
                         state("light-001", DeviceState.OFFLINE, T0 + timedelta(hours=2)),
                         reading("light-777")])),
        msg(b"{not json")])
    assert (result.readings, result.states, result.statuses, result.dead_letters) == (
        2, 2, 1, 2)
    assert await conn.fetchval("SELECT count(*) FROM device_state_intervals") == 2
    assert await conn.fetchval("SELECT sum(online_s) FROM availability_hourly") == 7200
    assert await conn.fetchval("SELECT count(*) FROM energy_daily") == 1


async def test_alarms_staff_actions_and_declared_values_work_as_the_runtime_role(
        migrated: str, tmp_path: Path) -> None:
    owner = await asyncpg.connect(migrated)
    try:
        await load_community(owner)
    finally:
        await owner.close()
    runtime = as_runtime(migrated)
    app = await asyncpg.connect(runtime)
    try:
        t = AS_OF - timedelta(hours=1)
        opened = await write(app, press("sos-1", t),
                             ev("per-n", "perimeter_intrusion", t, active=True))
        assert opened.alarms_opened == 2
        async with api(runtime, Clock(t + timedelta(minutes=5))) as (_, client):
            [sos] = (await client.get(f"/api/communities/{COMMUNITY}/alarms",
                                      params={"type": "sos_pressed"})).json()
            r = await client.post(f"/api/alarms/{sos['id']}/acknowledge",
                                  json={"note": "on my way"})
            assert r.status_code == 200, r.text
            r = await client.get(f"/api/communities/{COMMUNITY}/acceptance",
                                 params={"tier": "growth"})
            assert r.status_code == 200, r.text
            chains = {c["chain"]: c["rows"] for c in r.json()["audit_chains"]}
            assert chains["alarm_changes"] == 3 and chains["operation_log"] == 1
        async with declared_api(runtime, tmp_path / "evidence") as (_, client):
            r = await client.post(f"/api/communities/{COMMUNITY}/declared/growth-01",
                                  data={"fibre_households": "100", "total_households": "120"},
                                  files=[("evidence", ("证明.pdf", PDF, "application/pdf"))])
            assert r.status_code == 201, r.text
        states = {s.chain: (s.rows, s.broken) for s in await verify(app)}
        assert states == {"alarm_changes": (3, None), "declarations": (1, None),
                          "user_changes": (3, None), "operation_log": (2, None)}
    finally:
        await app.close()


async def test_migrating_as_the_runtime_role_itself_is_refused(migrated: str) -> None:
    with pytest.raises(MigrationError, match="is the role migrating"):
        await migrate(as_runtime(migrated), app_role="scg_app")


async def test_an_owner_that_may_not_create_roles_is_told_the_sql_to_run(
        pg_cluster: PostgresCluster, database: str) -> None:
    pg_cluster.psql("DO $$ BEGIN CREATE ROLE scg_owner_plain LOGIN; "
                    "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    name = database.rsplit("/", 1)[1]
    pg_cluster.psql(f'ALTER DATABASE "{name}" OWNER TO scg_owner_plain')
    pg_cluster.psql("GRANT ALL ON SCHEMA public TO scg_owner_plain", name)
    with pytest.raises(MigrationError) as refused:
        await migrate(as_runtime(database, "scg_owner_plain"), app_role="scg_app_missing")
    assert str(refused.value) == (
        "the runtime role 'scg_app_missing' does not exist and 'scg_owner_plain' may not "
        "create roles; as a superuser run: CREATE ROLE \"scg_app_missing\" LOGIN PASSWORD "
        "'…'; then run `scg db migrate` again to grant it its privileges")
    # The migrations themselves were applied, by the owner that owns the tables.
    owner = await asyncpg.connect(as_runtime(database, "scg_owner_plain"))
    try:
        assert await owner.fetchval("SELECT tableowner FROM pg_tables "
                                    "WHERE tablename = 'operation_log'") == "scg_owner_plain"
    finally:
        await owner.close()


async def test_the_runtime_role_logs_in_with_the_password_migrate_set(
        pg_cluster: PostgresCluster, database: str) -> None:
    """Checked on a login the server makes give a password (the test cluster trusts every
    other loopback login): migrate stores a SCRAM verifier the server accepts."""
    hba = pg_cluster.datadir / "pg_hba.conf"
    before = hba.read_text()
    hba.write_text("host all scg_app_pw 127.0.0.1/32 scram-sha-256\n" + before)
    pg_cluster.psql("SELECT pg_reload_conf()")
    try:
        await migrate(database, app_role="scg_app_pw", app_password="s3cret: pass/word")
        url = as_runtime(database, "scg_app_pw")
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(url, password="wrong")
        app = await asyncpg.connect(url, password="s3cret: pass/word")
        try:
            assert await app.fetchval("SELECT current_user") == "scg_app_pw"
        finally:
            await app.close()
    finally:
        hba.write_text(before)
        pg_cluster.psql("SELECT pg_reload_conf()")


def test_the_scram_verifier_is_in_the_form_postgresql_stores() -> None:
    secret = scram_secret("pencil", salt=bytes(16))
    assert re.fullmatch(r"SCRAM-SHA-256\$4096:AAAAAAAAAAAAAAAAAAAAAA==\$[A-Za-z0-9+/]{43}=:"
                        r"[A-Za-z0-9+/]{43}=", secret)


async def test_grants_are_tried_again_after_another_transaction_changed_the_same_table(
        migrated: str, caplog: pytest.LogCaptureFixture) -> None:
    """As a TimescaleDB job or an operator's GRANT can: PostgreSQL answers the second writer
    of a table's catalogue row "tuple concurrently updated" instead of waiting."""
    other = await asyncpg.connect(migrated)
    watcher = await asyncpg.connect(migrated)
    try:
        held = other.transaction()
        await held.start()
        await other.execute("GRANT SELECT ON readings TO scg_app")
        with caplog.at_level(logging.INFO, logger="ingest.schema.migrate"):
            again = asyncio.create_task(migrate(migrated))
            while not await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE '%REVOKE ALL ON ALL TABLES%'"):
                assert not again.done(), again.result()
                await asyncio.sleep(0.01)
            await held.commit()
            assert await again == []
    finally:
        await other.close()
        await watcher.close()
    retried = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert retried and retried[0].startswith(
        "granting the runtime role 'scg_app' met a concurrent change of the catalogue (tuple "
        "concurrently updated); trying again (2 of 5)")
    conn = await asyncpg.connect(migrated)
    try:
        held_now = {p for p in ("SELECT", "INSERT", "UPDATE", "DELETE")
                    if await conn.fetchval("SELECT has_table_privilege('scg_app', 'readings', "
                                           "$1)", p)}
        assert held_now == set(RUNTIME_PRIVILEGES["readings"]), "exactly its rule, once more"
    finally:
        await conn.close()
