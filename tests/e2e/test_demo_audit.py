"""On the demo the records verify; a superuser who rewrites an operation-log row with the
triggers lifted is named by `scg audit verify`; the runtime role the demo's services use
cannot lift them at all."""

from __future__ import annotations

import asyncio
import re
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
        headers = admin_headers(state, port)
        r = httpx.post(f"http://127.0.0.1:{port}/api/communities/demo/declared/growth-01",
                       headers=headers, timeout=20,
                       data={"fibre_households": "3700", "total_households": "3790"},
                       files=[("evidence", ("证明.pdf", PDF, "application/pdf"))])
        assert r.status_code == 201, r.text
        # 信息安全 is judged from the demo itself, with its evidence: residents and camera
        # credentials sealed, an admin and the duty officer, the chains verified.
        r = httpx.get(f"http://127.0.0.1:{port}/api/communities/demo/acceptance",
                      params={"tier": "basic"}, headers=headers, timeout=60)
        security = next(row for row in r.json()["rows"] if row["id"] == "basic-21")
        assert (security["kind"], security["verdict"]) == ("system", "pass"), security["text"]
        assert re.search(r"1\.居民个人信息8条、设备凭据\d+条均以SM4-GCM加密存储（密钥编号"
                         r"[0-9a-f]{8}）", security["text"]), security["text"]
        assert "2.可访问本社区的在用账号2个，按角色分级授权：管理员1个、操作员1个" \
            in security["text"]
        assert re.search(r"3\.平台的操作记录[1-9]\d*条.*以SM3哈希链相连，已逐条核验全部\d+条"
                         r"（至各链最新一条），均一致（链头：操作记录[0-9a-f]{8}", security["text"])
        assert "运行账号scg_app不拥有数据表，对这些记录只能查询和追加" in security["text"]
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
