"""The information-security row judged from facts, without a database: each check passing
and failing, in the published style, with what to do when it fails."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from acceptance.audit_progress import ChainProgress, Tampering
from acceptance.security_facts import (
    PersonalDataFacts,
    RecordFacts,
    RoleFacts,
    SecurityFacts,
    WriterRole,
)
from acceptance.security_texts import (
    failing_words,
    judge_personal_data,
    judge_records,
    judge_roles,
    security_text,
)

AT = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
CHECKS = ("personal_data_encrypted", "tiered_roles", "tamper_proof_records")
SEALED = PersonalDataFacts({"residents": 8, "device_credentials": 2}, ("3f9a0c1e",), {},
                           ("device_credentials", "residents"))
TWO_ROLES = RoleFacts({"admin": 1, "operator": 2}, scoped=2)
HEAD = "a" * 64
APP = WriterRole("scg_app")


def chains(*, log: int = 40, since: datetime | None = None, walked: int | None = None,
           tampering: Tampering | None = None, verified: int | None = None
           ) -> tuple[ChainProgress, ...]:
    done = log if verified is None else verified
    return (ChainProgress("alarm_changes", 3, 3, 3 if walked is None else 0, 3, "b" * 64,
                          since),
            ChainProgress("declarations", 0, 0, 0, None, None, since),
            ChainProgress("user_changes", 2, 2, 2 if walked is None else 0, 2, "c" * 64,
                          since),
            ChainProgress("operation_log", log, done, log if walked is None else walked,
                          log, HEAD, since, tampering))


def intact(*, since: datetime | None = None, walked: int | None = None,
           tampering: Tampering | None = None, verified: int | None = None) -> RecordFacts:
    return RecordFacts(chains(since=since, walked=walked, tampering=tampering,
                              verified=verified), (APP,), (), "scg")


def test_sealed_personal_data_passes_with_counts_and_key_ids() -> None:
    out = judge_personal_data(SEALED)
    assert (out.check, out.status) == ("personal_data_encrypted", "pass")
    assert out.clause.text == ("居民个人信息8条、设备凭据2条均以SM4-GCM加密存储（密钥编号"
                               "3f9a0c1e），数据库拒绝写入未加密的值")
    assert [(f.label, f.value, f.source) for f in out.clause.figures] == [
        ("加密存储的居民个人信息", 8, "system"), ("加密存储的设备凭据", 2, "system")]


def test_no_personal_data_registered_passes_as_nothing_is_held_in_the_clear() -> None:
    out = judge_personal_data(PersonalDataFacts({"residents": 0, "device_credentials": 0},
                                                (), {}, ("device_credentials", "residents")))
    assert out.status == "pass"
    assert out.clause.text == ("社区未登记居民个人信息和设备凭据（0条）；平台只以SM4-GCM加密"
                               "存储此类信息，数据库拒绝写入未加密的值")


def test_values_not_sealed_or_a_table_without_its_guard_fail_naming_them() -> None:
    out = judge_personal_data(PersonalDataFacts(
        {"residents": 8, "device_credentials": 0}, ("3f9a0c1e",), {"residents": 3},
        ("device_credentials",)))
    assert out.status == "fail"
    assert out.clause.text == (
        "居民个人信息8条，其中3条未加密存储（居民个人信息3条），应以SM4-GCM加密后重新导入"
        "设备台账（scg inventory import --key-file）；数据库中居民个人信息表缺少拒绝未加密值"
        "的约束，个人信息可被明文写入（应恢复迁移0040_personal_data建立的约束）")


def test_two_roles_pass_one_role_or_nobody_fails_with_the_command_to_fix_it() -> None:
    ok = judge_roles(TWO_ROLES)
    assert (ok.status, ok.clause.text) == ("pass", "可访问本社区的在用账号3个，按角色分级授权："
                                                   "管理员1个、操作员2个（其中限定社区范围的2个）")
    assert [(f.label, f.value) for f in ok.clause.figures] == [("管理员账号", 1),
                                                                ("操作员账号", 2)]
    alone = judge_roles(RoleFacts({"admin": 3}))
    assert (alone.status, alone.clause.text) == (
        "fail", "可访问本社区的在用账号只有管理员3个，未分级授权：应至少再设一种角色的账号（如"
                "操作员：scg user add NAME --role operator）")
    nobody = judge_roles(RoleFacts({}))
    assert nobody.status == "fail"
    assert nobody.clause.text.startswith("没有可访问本社区的在用账号，未实现分级授权")


def test_intact_chains_and_an_append_only_runtime_role_pass_with_counts_and_heads() -> None:
    out = judge_records(intact())
    assert out.status == "pass"
    assert out.clause.text == (
        "平台的操作记录40条、告警变更3条、申报值0条、用户变更2条以SM3哈希链相连，已逐条核验全部"
        "45条（至各链最新一条），均一致（链头：操作记录aaaaaaaa、告警变更bbbbbbbb、用户变更"
        "cccccccc）；运行账号scg_app不拥有数据表，对这些记录只能查询和追加，记录表的防改删触发器均已启用")
    assert out.clause.figures[0].label == "操作记录"
    assert out.clause.figures[0].note == "SM3哈希链，链头aaaaaaaa"


def test_a_report_resuming_from_earlier_checks_says_how_much_it_walked() -> None:
    out = judge_records(intact(since=AT, walked=4))
    assert out.status == "pass"
    assert ("；其中本次新核验4条、重新核验0条，其余41条为此前核验（自2026-11-24 16:00起逐次核验"
            "新增记录，并逐轮重新核验已核验的记录，首轮尚未完成），全部重验用scg audit verify；"
            ) in out.clause.text


def test_it_says_when_the_verified_rows_were_last_all_walked_again() -> None:
    day_before = AT - timedelta(days=1)
    rounds = tuple(replace(c, rechecked_from=day_before, rechecked_at=day_before)
                   for c in chains(since=AT, walked=4))
    rounds = tuple(replace(c, rechecked=10) if c.chain == "operation_log" else c
                   for c in rounds)
    out = judge_records(RecordFacts(rounds, (APP,), (), "scg"))
    assert ("；其中本次新核验4条、重新核验10条，其余31条为此前核验（自2026-11-24 16:00起逐次"
            "核验新增记录，并逐轮重新核验已核验的记录，最近一轮于2026-11-23 16:00完成），"
            "全部重验用scg audit verify；") in out.clause.text


def test_a_report_that_walked_every_row_again_says_nothing_of_earlier_checks() -> None:
    again = tuple(replace(c, rechecked=c.verified - c.walked)
                  for c in chains(since=AT, walked=4))
    text = judge_records(RecordFacts(again, (APP,), (), "scg")).clause.text
    assert "此前核验" not in text
    assert "已逐条核验全部45条（至各链最新一条），均一致" in text


def test_a_broken_chain_fails_naming_the_chain_and_the_row() -> None:
    broken = Tampering("operation_log", 17, "id为17的记录内容被改动（其内容的SM3值与所存哈希"
                                            "不符）")
    out = judge_records(intact(tampering=broken, verified=0))
    assert out.status == "fail"
    assert out.clause.text == (
        "平台的操作记录40条、告警变更3条、申报值0条、用户变更2条以SM3哈希链相连；审计链核验不符："
        "操作记录中id为17的记录内容被改动（其内容的SM3值与所存哈希不符），记录已被修改或删除（scg "
        "audit verify 列出详情，应按备份恢复）")


def test_a_runtime_role_that_could_rewrite_records_or_lifted_triggers_fail() -> None:
    rec = RecordFacts(chains(), (WriterRole("scg_app", owns=("scratch",),
                                            rewrites=("operation_log",),
                                            member_of_owner=True),),
                      ("declarations",), "scg")
    text = judge_records(rec).clause.text
    assert text.endswith(
        "以SM3哈希链相连；运行账号scg_app拥有数据表scratch，可解除记录的防改删保护；运行账号"
        "scg_app可修改、删除或清空操作记录；运行账号scg_app是数据表所有者scg的成员，可解除防改删"
        "保护；申报值表的防改删触发器缺失或已停用")
    nobody = judge_records(RecordFacts(chains(), (), (), "scg"))
    assert nobody.status == "fail"
    assert "没有只能追加记录的运行账号：服务只能以数据表所有者scg或超级用户身份写入记录" in \
        nobody.clause.text


def test_a_verification_still_under_way_leaves_the_row_without_data() -> None:
    out = judge_records(intact(verified=25, walked=25))
    assert out.status == "no_data"
    assert out.clause.text.endswith("审计链核验进行中：已逐条核验30条，共45条，其余由此后的"
                                    "报告接续核验（或运行scg audit verify）")


def test_the_row_passes_only_when_every_check_passes_and_numbers_its_clauses() -> None:
    facts = SecurityFacts(SEALED, TWO_ROLES, intact(), AT, "demo")
    verdict, text, figures, outcomes = security_text(CHECKS, facts)
    assert verdict == "pass"
    assert text.startswith("达标。\n1.居民个人信息8条")
    assert "；\n2.可访问本社区的在用账号3个" in text and "；\n3.平台的操作记录40条" in text
    assert text.endswith("记录表的防改删触发器均已启用。")
    assert [f.source for f in figures] == ["system"] * len(figures)
    failing = SecurityFacts(SEALED, RoleFacts({"admin": 1}), intact(), AT, "demo")
    verdict, text, _, outcomes = security_text(CHECKS, failing)
    assert verdict == "fail" and text.startswith("未达标。\n1.")
    assert failing_words(outcomes) == "分级授权管理"


def test_a_past_report_says_its_security_facts_are_of_today() -> None:
    facts = SecurityFacts(SEALED, TWO_ROLES, intact(), AT, "demo")
    _, text, _, _ = security_text(CHECKS, facts, as_of=datetime(2026, 10, 1, tzinfo=UTC))
    assert text.endswith("。（信息安全为2026-11-24 16:00（北京时间）核验的平台现状，非"
                         "2026-10-01 08:00时的状况。）")


def test_without_facts_the_row_has_no_data() -> None:
    assert security_text(CHECKS, None) == (
        "no_data", "无数据。平台信息安全状况未核验（报告未读取数据库）。", (), ())
