"""The acceptance report shows the records' hash-chain heads as they were when it was made
(审计链), so that `scg audit verify` can later hold the database to them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg

from acceptance.export import render_html
from acceptance.report import build_report
from ingest.schema.chain import log_operation
from inventory import import_inventory, parse_inventory

AS_OF = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


async def test_the_report_shows_each_chain_with_its_rows_and_head(
        conn: asyncpg.Connection) -> None:
    await import_inventory(conn, parse_inventory(
        "community: {id: empty, name: 空社区, district: '370781'}\n", "empty.yaml"))
    for n in range(2):
        await log_operation(conn, at=AS_OF, actor="王芳", action="declared.enter",
                            community="empty", target=f"declared:growth-0{n + 1}")
    head = await conn.fetchval("SELECT hash FROM operation_log ORDER BY id DESC LIMIT 1")
    report = await build_report(conn, "empty", "growth", now=AS_OF, declarations={})
    assert [(s.chain, s.rows) for s in report.audit] == [
        ("alarm_changes", 0), ("declarations", 0), ("user_changes", 0), ("operation_log", 2)]
    assert report.to_dict()["audit_chains"][3] == {"chain": "operation_log", "rows": 2,
                                                   "head": head}
    page = render_html(report)
    line = page[page.index('<div class="audit" id="audit-chains">'):]
    line = line[:line.index("</div>")]
    assert "审计链（SM3，生成时；可用 scg audit verify 核验）" in line
    assert f'操作记录 2 条，链头 <code data-chain="operation_log">{head}</code>' in line
    assert "告警变更 0 条，链头 <code data-chain=\"alarm_changes\">（空）</code>" in line
    json.dumps(report.to_dict())  # the JSON document still serialises
