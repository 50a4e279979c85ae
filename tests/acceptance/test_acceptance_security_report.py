"""Information security (basic row 21 / growth row 26) judged on a real database: residents
sealed, two roles, chains intact -> 达标 with its evidence in every format; a chain a
superuser rewrote, a runtime role that may rewrite records, a lifted trigger, a value
stored in the clear -> 未达标 naming what; the chains are verified from where the last
report left off, and a break is reported until it is repaired."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import asyncpg
from personal_support import import_residents, make_key_file
from safety_support import AS_OF, COMMUNITY

from acceptance.audit_progress import ChainProgress, verify_records
from acceptance.export import export
from acceptance.report import build_report
from acceptance.report_row import RowReport
from acceptance.security_facts import RecordFacts, WriterRole
from acceptance.security_texts import CheckOutcome, judge_records
from ingest.schema.chain import append, log_operation
from web.auth.users import add_user


async def _staffed(conn: asyncpg.Connection, tmp_path: Path, operations: int = 3) -> None:
    """The safe community with its residents sealed, an admin of the county and an
    operator of the community, and a few operations logged."""
    _, keys = make_key_file(tmp_path)
    await import_residents(conn, keys)
    await add_user(conn, "王芳", "admin", None, None, actor="scg", at=AS_OF)
    await add_user(conn, "李强", "operator", [COMMUNITY], None, actor="王芳", at=AS_OF)
    await _log(conn, operations)


async def _log(conn: asyncpg.Connection, n: int) -> None:
    for i in range(n):
        await log_operation(conn, at=AS_OF + timedelta(minutes=i), actor="李强",
                            action="alarm.acknowledge", community=COMMUNITY,
                            target=f"alarm:{i}")


async def _row(conn: asyncpg.Connection, tier: str = "basic", *,
               hours: float = 0) -> RowReport:
    report = await build_report(conn, COMMUNITY, tier, now=AS_OF + timedelta(hours=hours),
                                declarations={})
    row_id = {"basic": "basic-21", "growth": "growth-26"}[tier]
    return next(r for r in report.rows if r.row.id == row_id)


async def _as_superuser(conn: asyncpg.Connection, *statements: str) -> None:
    """What only the owner or a superuser can do: lift the triggers and rewrite a row."""
    await conn.execute("ALTER TABLE operation_log DISABLE TRIGGER USER")
    for s in statements:
        await conn.execute(s)
    await conn.execute("ALTER TABLE operation_log ENABLE TRIGGER USER")


async def test_sealed_residents_two_roles_and_intact_chains_pass_with_their_evidence(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    await _staffed(conn, tmp_path)
    key_id = await conn.fetchval("SELECT DISTINCT key_id FROM residents")
    heads = dict(await conn.fetch("""SELECT 'operation_log', hash FROM operation_log
                                     WHERE id = (SELECT max(id) FROM operation_log)
                                     UNION ALL
                                     SELECT 'user_changes', hash FROM user_changes
                                     WHERE id = (SELECT max(id) FROM user_changes)"""))
    for tier in ("basic", "growth"):
        row = await _row(conn, tier)
        assert (row.row.kind, row.verdict) == ("system", "pass")
        assert row.text == (
            "达标。\n"
            f"1.居民个人信息4条均以SM4-GCM加密存储（密钥编号{key_id}），数据库拒绝写入未加密的"
            "值；\n"
            "2.可访问本社区的在用账号2个，按角色分级授权：管理员1个、操作员1个（其中限定社区范围"
            "的1个）；\n"
            "3.平台的操作记录3条、告警变更0条、申报值0条、用户变更2条以SM3哈希链相连，已逐条核验全部"
            f"5条（至各链最新一条），均一致（链头：操作记录{heads['operation_log'][:8]}、用户变更"
            f"{heads['user_changes'][:8]}）"
            "；运行账号scg_app不拥有数据表，对这些记录只能查询和追加，记录表的防改删触发器均已"
            "启用。")
    doc = row.to_dict()
    assert [c["status"] for c in doc["checks"]] == ["pass", "pass", "pass"]
    assert doc["facts"]["personal_data"]["rows"] == {"residents": 4, "device_credentials": 0}
    assert doc["facts"]["roles"] == {"by_role": {"admin": 1, "operator": 1}, "scoped": 1}
    assert doc["facts"]["records"]["writers"] == [
        {"name": "scg_app", "owns": [], "rewrites": [], "member_of_owner": False,
         "append_only": True}]
    log = next(c for c in doc["facts"]["records"]["chains"] if c["chain"] == "operation_log")
    assert (log["rows"], log["verified"], log["head"]) == (3, 3, heads["operation_log"])
    # Every format carries the evidence: the text with counts and heads, the figures.
    report = await build_report(conn, COMMUNITY, "basic", now=AS_OF, declarations={})
    html = export(report, "html").decode("utf-8")
    assert f"操作记录{heads['operation_log'][:8]}" in html and ">平台实测<" in html
    csv = export(report, "csv").decode("utf-8-sig")
    assert "平台实测,居民个人信息加密（personal_data_encrypted）、分级授权管理（tiered_roles）" \
        in csv
    assert "加密存储的居民个人信息4条〔平台实测〕" in csv
    assert json.loads(export(report, "json"))["rows"][20]["verdict"] == "pass"


async def test_a_row_a_superuser_rewrote_before_any_report_fails_naming_it(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    await _staffed(conn, tmp_path)
    await _as_superuser(conn, "UPDATE operation_log SET actor = '别人' WHERE id = 2")
    for _ in range(2):   # a break is not checkpointed: it is reported again and again
        row = await _row(conn)
        assert row.verdict == "fail"
        assert row.text.startswith("未达标。\n1.居民个人信息4条")
        assert ("\n3.平台的操作记录3条、告警变更0条、申报值0条、用户变更2条以SM3哈希链相连；"
                "审计链核验不符：操作记录中id为2的记录内容被改动（其内容的SM3值与所存哈希不符），记录已被"
                "修改或删除（scg audit verify 列出详情，应按备份恢复）。") in row.text
    assert await conn.fetchval(
        "SELECT count(*) FROM audit_checkpoints WHERE chain = 'operation_log'") == 0


async def test_rows_removed_or_rewritten_after_a_report_are_found_from_its_checkpoint(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    await _staffed(conn, tmp_path)
    assert (await _row(conn)).verdict == "pass"
    cp = await conn.fetchrow("SELECT row_id, rows FROM audit_checkpoints "
                             "WHERE chain = 'operation_log'")
    assert (cp["row_id"], cp["rows"]) == (3, 3)
    # Appended after the checkpoint and then rewritten: the walk from it names the row.
    await _log(conn, 2)
    await _as_superuser(conn, "UPDATE operation_log SET target = 'alarm:99' WHERE id = 5")
    assert "操作记录中id为5的记录内容被改动" in (await _row(conn, hours=1)).text
    await _as_superuser(conn, "DELETE FROM operation_log WHERE id > 3")
    assert (await _row(conn, hours=2)).verdict == "pass"   # back to what was verified
    # A row before the checkpoint removed: fewer rows than were verified.
    await _as_superuser(conn, "DELETE FROM operation_log WHERE id = 1")
    row = await _row(conn, hours=3)
    assert row.verdict == "fail"
    assert ("审计链核验不符：操作记录中已核验的前3条记录现为2条（其间有记录被删除或插入）"
            in row.text)
    # The newest verified row's hash rewritten.
    await _as_superuser(conn, "UPDATE operation_log SET hash = repeat('0', 64) WHERE id = 3")
    assert "操作记录中已核验的id为3的记录所存哈希被改写" in (await _row(conn, hours=4)).text


async def test_a_long_chain_is_verified_over_several_reports(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    await _staffed(conn, tmp_path, operations=5)
    first = await verify_records(conn, AS_OF, limit=2)
    log = next(c for c in first if c.chain == "operation_log")
    assert (log.rows, log.verified, log.walked, log.complete) == (5, 2, 2, False)
    out = judge_records_of(first)
    assert out.status == "no_data"
    assert "审计链核验进行中：已逐条核验4条，共7条" in out.clause.text
    second = await verify_records(conn, AS_OF, limit=2)
    third = await verify_records(conn, AS_OF, limit=2)
    log = next(c for c in third if c.chain == "operation_log")
    assert [c.walked for c in second if c.chain == "operation_log"] == [2]
    assert (log.verified, log.walked, log.complete) == (5, 1, True)
    assert judge_records_of(third).status == "pass"


async def test_rows_verified_before_are_walked_again_round_after_round(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    await _staffed(conn, tmp_path, operations=5)
    # A short chain is walked whole by every report: a rewrite of any row shows at once.
    await verify_records(conn, AS_OF)
    await _as_superuser(conn, "UPDATE operation_log SET actor = '别人' WHERE id = 1")
    again = await verify_records(conn, AS_OF)
    log = next(c for c in again if c.chain == "operation_log")
    assert log.tampering is not None and log.tampering.row_id == 1
    await _as_superuser(conn, "UPDATE operation_log SET actor = '李强' WHERE id = 1")
    # A long one two rows a report: the round goes on from where the last one stopped,
    # starts over at the first row once it reached the checkpoint, and finds the row.
    out = [next(c for c in await verify_records(conn, AS_OF + timedelta(hours=h),
                                                recheck_limit=2)
                if c.chain == "operation_log") for h in range(1, 4)]
    assert [(c.rechecked, c.recheck_id) for c in out] == [(2, 2), (2, 4), (1, 0)]
    assert [c.earlier for c in out] == [3, 3, 4]
    assert out[2].rechecked_at == AS_OF + timedelta(hours=3)
    assert out[2].rechecked_from == AS_OF + timedelta(hours=1)
    await _as_superuser(conn, "UPDATE operation_log SET actor = '别人' WHERE id = 3")
    first = await verify_records(conn, AS_OF + timedelta(hours=4), recheck_limit=2)
    assert next(c for c in first if c.chain == "operation_log").tampering is None
    found = await verify_records(conn, AS_OF + timedelta(hours=5), recheck_limit=2)
    log = next(c for c in found if c.chain == "operation_log")
    assert log.tampering is not None
    assert log.tampering.words == "id为3的记录内容被改动（其内容的SM3值与所存哈希不符）"
    # Reported until repaired: the round is not moved past the break.
    again = await verify_records(conn, AS_OF + timedelta(hours=6), recheck_limit=2)
    assert next(c for c in again if c.chain == "operation_log").tampering is not None
    row = await _row(conn, hours=7)
    assert row.verdict == "fail" and "操作记录中id为3的记录内容被改动" in row.text


def judge_records_of(chains: tuple[ChainProgress, ...]) -> CheckOutcome:
    return judge_records(RecordFacts(chains, (WriterRole("scg_app"),)))


async def test_a_runtime_role_that_may_rewrite_records_or_a_lifted_trigger_fails(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    await _staffed(conn, tmp_path)
    await conn.execute("GRANT UPDATE, DELETE ON operation_log TO scg_app")
    await conn.execute("CREATE TABLE scratch (x int); ALTER TABLE scratch OWNER TO scg_app")
    await conn.execute("ALTER TABLE declarations DISABLE TRIGGER declarations_append_only")
    row = await _row(conn)
    assert row.verdict == "fail"
    assert row.text.endswith(
        "以SM3哈希链相连；运行账号scg_app拥有数据表scratch，可解除记录的防改删保护；运行账号"
        "scg_app可修改、删除或清空操作记录；申报值表的防改删触发器缺失或已停用。")
    await conn.execute("DROP TABLE scratch")
    await conn.execute("REVOKE ALL ON operation_log FROM scg_app")
    await conn.execute("ALTER TABLE declarations ENABLE TRIGGER declarations_append_only")
    row = await _row(conn)
    assert "没有只能追加记录的运行账号：服务只能以数据表所有者" in row.text


async def test_personal_data_in_the_clear_or_one_role_for_everybody_fails(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    await _staffed(conn, tmp_path)
    await conn.execute("UPDATE users SET disabled_at = now() WHERE role = 'operator'")
    for name in await conn.fetch(
            """SELECT conname FROM pg_constraint WHERE conrelid = 'residents'::regclass
               AND pg_get_constraintdef(oid) LIKE '%sealed_under%'"""):
        await conn.execute(f"ALTER TABLE residents DROP CONSTRAINT {name['conname']}")
    await conn.execute(
        """INSERT INTO residents (community, id, key_id, name_enc)
           VALUES ($1, 'r9', (SELECT key_id FROM residents LIMIT 1), $2)""",
        COMMUNITY, "赵六".encode())
    row = await _row(conn)
    assert row.verdict == "fail"
    assert row.text.startswith(
        "未达标。\n1.居民个人信息5条，其中1条未加密存储（居民个人信息1条），应以SM4-GCM加密后"
        "重新导入设备台账（scg inventory import --key-file）；数据库中居民个人信息表缺少拒绝"
        "未加密值的约束，个人信息可被明文写入（应恢复迁移0040_personal_data建立的约束）；\n"
        "2.可访问本社区的在用账号只有管理员1个，未分级授权")


async def test_a_declaration_of_the_row_is_refused_and_an_old_one_never_decides_it(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    from acceptance.declared import enter_declaration
    from acceptance.declared_check import DeclarationRefused

    await import_residents(conn, make_key_file(tmp_path)[1])
    claimed = {"personal_data_encrypted": True, "tiered_roles": True,
               "tamper_proof_records": True}
    try:
        await enter_declaration(conn, COMMUNITY, "basic-21", claimed, text="", by="王芳",
                                at=AS_OF)
    except DeclarationRefused as exc:
        assert "is measured from scg itself and cannot be declared" in exc.problems[0]
    else:
        raise AssertionError("a declaration of basic-21 was stored")
    # One entered when the row was still declared stays in the records, shown aside.
    await append(conn, "declarations", {
        "community": COMMUNITY, "tier": "basic", "row_id": "basic-21",
        "field_values": claimed, "text": "", "entered_by": "张伟",
        "entered_at": AS_OF - timedelta(days=30), "evidence": []})
    report = await build_report(conn, COMMUNITY, "basic", now=AS_OF)
    row = next(r for r in report.rows if r.row.id == "basic-21")
    assert row.verdict == "fail"        # nobody holds a role in this community
    assert row.ignored_declaration is not None
    assert row.ignored_declaration["entered_by"] == "张伟"
    assert row.ignored_declaration["why"].startswith("本行由平台核验自身数据库判定")
    assert "本行由平台实测判定，已忽略对本行的申报（张伟）。" in export(report, "html").decode()


async def test_the_evaluator_stores_the_rows_verdict_in_the_overview_as_the_runtime_role(
        conn: asyncpg.Connection, tmp_path: Path) -> None:
    from acceptance.evaluator import evaluate

    await _staffed(conn, tmp_path)
    await conn.execute("SET ROLE scg_app")     # as `scg api` and `scg evaluator run` connect
    try:
        snap = await evaluate(conn, COMMUNITY, AS_OF)
        assert snap is not None
        assert snap.overview["information_security"] == {
            "verdict": "pass", "checks": {"personal_data_encrypted": "pass",
                                          "tiered_roles": "pass",
                                          "tamper_proof_records": "pass"}}
        assert {t: v["counts"]["fail"] for t, v in snap.overview["tiers"].items()} == {
            "basic": 0, "growth": 0}
        # The runtime role moved the checkpoints forward (it may, and only that).
        assert await conn.fetchval("SELECT rows FROM audit_checkpoints "
                                   "WHERE chain = 'operation_log'") == 3
    finally:
        await conn.execute("RESET ROLE")
    await _as_superuser(conn, "UPDATE operation_log SET note = '改' WHERE id = 1")
    await conn.execute("SET ROLE scg_app")
    try:
        snap = await evaluate(conn, COMMUNITY, AS_OF + timedelta(minutes=5))
        assert snap is not None
        assert snap.overview["information_security"]["verdict"] == "fail"
        assert snap.overview["information_security"]["checks"]["tamper_proof_records"] == \
            "fail"
        assert snap.overview["tiers"]["basic"]["counts"]["fail"] == 1
    finally:
        await conn.execute("RESET ROLE")
