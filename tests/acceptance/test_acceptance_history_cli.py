"""`scg history record` as cron runs it, and the history options of `scg api`."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
import pytest
from ingest_support import INVENTORY

from indicators.load import INDICATOR_IDS
from scg.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_history_record_stores_every_indicator_of_every_community_now(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "migrate", "--database-url", database)[0] == 0
    code, out, _ = run(capsys, "history", "record", "--database-url", database)
    assert (code, out) == (0, "no community to record; import one with `scg inventory "
                              "import FILE`\n")
    path = tmp_path / "demo.yaml"
    path.write_text(INVENTORY)
    assert run(capsys, "inventory", "import", str(path), "--database-url", database)[0] == 0
    code, out, _ = run(capsys, "history", "record", "--database-url", database)
    assert code == 0
    assert re.fullmatch(rf"recorded {len(INDICATOR_IDS)} indicators of community demo as of "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n", out), out
    code, _, err = run(capsys, "history", "record", "--community", "elsewhere",
                       "--database-url", database)
    assert (code, err) == (2, "scg history: community elsewhere is not in the inventory "
                              "(known: demo)\n")

    async def count() -> int:
        conn = await asyncpg.connect(database)
        try:
            n: int = await conn.fetchval("SELECT count(*) FROM indicator_history")
            return n
        finally:
            await conn.close()

    assert asyncio.run(count()) == len(INDICATOR_IDS)


def test_history_record_on_an_unmigrated_database_says_to_migrate(
        database: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "history", "record", "--database-url", database)
    assert code == 2
    assert err.startswith("scg history: the database lacks migrations 0001_inventory, ")
    assert err.endswith("; run `scg db migrate` first\n")


def test_api_refuses_a_bad_history_interval_before_starting(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "api", "--database-url", "postgresql://x@127.0.0.1:9/x",
                       "--history-interval", "hourly")
    assert (code, err) == (2, "scg api: --history-interval: window 'hourly' is not an ISO "
                              "8601 duration such as PT24H or P7D, nor a number of seconds\n")
