"""`scg audit verify` / `scg audit head` as an auditor runs them, and the runtime role that
`scg db migrate` prepares."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from ingest.schema.chain import log_operation
from scg.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def _sql(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for s in statements:
            await conn.execute(s)
    finally:
        await conn.close()


async def _log(dsn: str, n: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for i in range(n):
            await log_operation(conn, at=datetime(2026, 11, 24, 8, i, tzinfo=UTC),
                                actor="王芳", action="alarm.acknowledge", community="demo",
                                target=f"alarm:{i}")
    finally:
        await conn.close()


def test_verify_passes_then_names_the_row_a_superuser_rewrote(
        migrated: str, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_log(migrated, 3))
    code, out, _ = run(capsys, "audit", "verify", "--database-url", migrated)
    assert code == 0, out
    assert re.search(r"^operation_log: 3 rows, head [0-9a-f]{64} \(row id 3\): ok$", out,
                     re.MULTILINE)
    assert "alarm_changes: 0 rows, empty: ok" in out
    assert out.endswith("scg audit verify: all 4 chains match\n")

    asyncio.run(_sql(migrated, "ALTER TABLE operation_log DISABLE TRIGGER USER",
                     "UPDATE operation_log SET actor = '李强' WHERE id = 2",
                     "ALTER TABLE operation_log ENABLE TRIGGER USER"))
    code, out, _ = run(capsys, "audit", "verify", "--database-url", migrated)
    assert code == 1
    assert "operation_log: 3 rows" in out and ": BROKEN" in out
    assert re.search(r"first mismatch: operation_log: row id 2: row content changed: its "
                     r"content hashes to [0-9a-f]{64}, the row stores [0-9a-f]{64}$", out,
                     re.MULTILINE)
    assert "scg audit verify: 1 of 4 chains do not match" in out


def test_head_prints_each_chain_and_as_json(
        migrated: str, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_log(migrated, 2))
    code, out, _ = run(capsys, "audit", "head", "--database-url", migrated, "--json")
    assert code == 0
    got = {c["chain"]: (c["rows"], c["head_id"]) for c in json.loads(out)}
    assert got == {"alarm_changes": (0, None), "declarations": (0, None),
                   "user_changes": (0, None), "operation_log": (2, 2)}
    code, out, _ = run(capsys, "audit", "head", "--database-url", migrated)
    assert re.search(r"^operation_log\s+2 rows  head [0-9a-f]{64} \(row id 2\)$", out,
                     re.MULTILINE)


def test_audit_of_an_unmigrated_database_says_to_migrate(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "audit", "verify", "--database-url", database)
    assert code == 2
    assert err.startswith("scg audit: the database lacks migrations 0001_inventory")


def test_migrate_prints_what_the_runtime_role_may_do(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "app-password"
    secret.write_text("correct horse\n")
    code, out, err = run(capsys, "db", "migrate", "--database-url", database,
                         "--app-role", "scg_app", "--app-password-file", str(secret))
    assert code == 0, err
    line = out.splitlines()[-1]
    assert re.fullmatch(r"runtime role scg_app: (created; )?SELECT on \d+ tables, INSERT on "
                        r"\d+, UPDATE on \d+, DELETE on \d+; owns nothing", line), line
    code, _, err = run(capsys, "db", "migrate", "--database-url", database,
                       "--app-password-file", str(tmp_path / "missing"))
    assert code == 2
    assert err.startswith(f"scg db: --app-password-file {tmp_path / 'missing'}: cannot read "
                          "it: No such file or directory")
