"""On the demo the records verify; a superuser who rewrites an operation-log row with the
triggers lifted is named by `scg audit verify`; the runtime role the demo's services use
cannot lift them at all."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from demo_support import admin_headers
from e2e_support import wait_until

from scg.localsvc.process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PDF = b"%PDF-1.4\n% fibre coverage certificate\n%%EOF\n"


def _audit(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scg.cli", "audit", "verify",
                           "--database-url", url], capture_output=True, text=True,
                          timeout=120, check=False)


async def _as(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for s in statements:
            await conn.execute(s)
    finally:
        await conn.close()


def test_the_demo_records_verify_and_a_rewritten_row_is_named(e2e_root: Path) -> None:
    port = free_port()
    state = e2e_root / "demo"
    demo = subprocess.Popen([sys.executable, "-m", "scg.cli", "demo", "--state-dir",
                             str(state), "--api-port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: (state / "duty-officer.token").exists(), "the demo's accounts",
                   timeout=120)
        r = httpx.post(f"http://127.0.0.1:{port}/api/communities/demo/declared/growth-01",
                       headers=admin_headers(state, port), timeout=20,
                       data={"fibre_households": "3700", "total_households": "3790"},
                       files=[("evidence", ("证明.pdf", PDF, "application/pdf"))])
        assert r.status_code == 201, r.text
        pg_port = int((state / "pg" / "postmaster.pid").read_text().splitlines()[3])
        password = (state / "db-app-password").read_text().strip()
        runtime = f"postgresql://scg_app:{password}@127.0.0.1:{pg_port}/scg"
        superuser = f"postgresql://postgres@127.0.0.1:{pg_port}/scg"

        first = _audit(runtime)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "operation_log: " in first.stdout and "all 4 chains match" in first.stdout

        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
            asyncio.run(_as(runtime, "ALTER TABLE operation_log DISABLE TRIGGER USER"))

        row = asyncio.run(_first_declared_entry(superuser))
        asyncio.run(_as(superuser, "ALTER TABLE operation_log DISABLE TRIGGER USER",
                        f"UPDATE operation_log SET actor = 'someone else' WHERE id = {row}",
                        "ALTER TABLE operation_log ENABLE TRIGGER USER"))
        second = _audit(runtime)
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"first mismatch: operation_log: row id {row}: row content changed" \
            in second.stdout
    finally:
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, out


async def _first_declared_entry(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(
            "SELECT min(id) FROM operation_log WHERE action = 'declared.enter'"))
    finally:
        await conn.close()
