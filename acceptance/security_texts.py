"""The information-security row (信息安全) judged from `acceptance.security_facts`: each
check passes or fails with its evidence, in the published style, and the row is 达标 only
when all of them pass.

- personal_data_encrypted: every resident record and device credential of the community
  is sealed (SM4-GCM) and the database refuses unsealed values. A community with none
  registered passes, as the tables write a row with nothing eligible (`社区内…0个`): there
  is nothing held in the clear, and nothing can be.
- tiered_roles: the enabled users who may see the community hold at least two roles
  (e.g. an administrator and an operator): one role for everybody is no tiering.
- tamper_proof_records: every record chain verifies up to its newest row, the record
  tables' append-only triggers are on, and every role the services could write records
  with can only add them (owns no table, may not update, delete or truncate them, is no
  member of the owner). A chain whose verification is still under way (a large backlog
  is walked over several reports) leaves the row 无数据, saying how far it got.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from acceptance.audit_progress import ChainProgress
from acceptance.names import local_time
from acceptance.phrasing import Clause, Figure
from acceptance.security_facts import PersonalDataFacts, RecordFacts, RoleFacts, SecurityFacts
from acceptance.texts import compose

ROLE_WORDS: Final = {"admin": "管理员", "operator": "操作员", "auditor": "审计员",
                     "viewer": "查看员"}
#: The chains in the order the row names them: the operation log (人员操作记录) first.
CHAIN_WORDS: Final = {"operation_log": "操作记录", "alarm_changes": "告警变更",
                      "declarations": "申报值", "user_changes": "用户变更"}
TABLE_WORDS: Final = {"residents": "居民个人信息", "device_credentials": "设备凭据",
                      **CHAIN_WORDS, "declaration_evidence": "申报证明材料",
                      "evidence_files": "证明材料文件"}
#: Each check by what the requirement calls it.
CHECK_NAMES: Final = {"personal_data_encrypted": "居民个人信息加密",
                      "tiered_roles": "分级授权管理", "tamper_proof_records": "记录不可修改删除"}
#: How many hex digits of a chain head the text shows (the JSON has them whole).
HEAD_DIGITS: Final = 8
NOT_CHECKED: Final = "无数据。平台信息安全状况未核验（报告未读取数据库）。"


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One check of the row: its status (pass | fail | no_data) and its clause."""

    check: str
    status: str
    clause: Clause

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status, "text": self.clause.text,
                "figures": [f.to_dict() for f in self.clause.figures]}


def _words(tables: Sequence[str]) -> str:
    return "、".join(TABLE_WORDS.get(t, t) for t in tables)


def judge_personal_data(p: PersonalDataFacts) -> CheckOutcome:
    held = [(TABLE_WORDS.get(t, t), n) for t, n in p.rows.items() if n]
    figures = tuple(Figure(f"加密存储的{TABLE_WORDS.get(t, t)}", n, "条", "system",
                           "SM4-GCM") for t, n in p.rows.items())
    unguarded = [t for t in p.rows if t not in p.guarded]
    problems: list[str] = []
    if p.unsealed:
        problems.append(
            f"其中{sum(p.unsealed.values())}条未加密存储（"
            + "、".join(f"{TABLE_WORDS.get(t, t)}{n}条" for t, n in p.unsealed.items())
            + "），应以SM4-GCM加密后重新导入设备台账（scg inventory import --key-file）")
    if unguarded:
        problems.append(f"数据库中{_words(unguarded)}表缺少拒绝未加密值的约束，个人信息可被"
                        "明文写入（应恢复迁移0040_personal_data建立的约束）")
    listed = "、".join(f"{what}{n}条" for what, n in held)
    if problems:
        start = f"{listed or '个人信息0条'}，" if held or p.unsealed else ""
        return CheckOutcome("personal_data_encrypted", "fail",
                            Clause(start + "；".join(problems), figures))
    if not held:
        return CheckOutcome("personal_data_encrypted", "pass", Clause(
            "社区未登记居民个人信息和设备凭据（0条）；平台只以SM4-GCM加密存储此类信息，"
            "数据库拒绝写入未加密的值", figures))
    keys = "、".join(p.key_ids)
    return CheckOutcome("personal_data_encrypted", "pass", Clause(
        f"{listed}均以SM4-GCM加密存储（密钥编号{keys}），数据库拒绝写入未加密的值",
        figures))


def judge_roles(r: RoleFacts) -> CheckOutcome:
    figures = tuple(Figure(f"{ROLE_WORDS.get(role, role)}账号", n, "个", "system")
                    for role, n in r.by_role.items())
    listed = "、".join(f"{ROLE_WORDS.get(role, role)}{n}个" for role, n in r.by_role.items())
    scoped = f"（其中限定社区范围的{r.scoped}个）" if r.scoped else ""
    if len(r.by_role) >= 2:
        return CheckOutcome("tiered_roles", "pass", Clause(
            f"可访问本社区的在用账号{r.users}个，按角色分级授权：{listed}{scoped}", figures))
    if not r.by_role:
        return CheckOutcome("tiered_roles", "fail", Clause(
            "没有可访问本社区的在用账号，未实现分级授权：应按角色建立账号（scg user add "
            "NAME --role admin|operator|auditor|viewer）", figures))
    return CheckOutcome("tiered_roles", "fail", Clause(
        f"可访问本社区的在用账号只有{listed}{scoped}，未分级授权：应至少再设一种角色的账号"
        "（如操作员：scg user add NAME --role operator）", figures))


def _heads(chains: Sequence[ChainProgress]) -> str:
    shown = [f"{CHAIN_WORDS.get(c.chain, c.chain)}{c.head[:HEAD_DIGITS]}" for c in chains
             if c.head and c.rows]
    return f"（链头：{'、'.join(shown)}）" if shown else ""


def _earlier(chains: Sequence[ChainProgress]) -> str:
    """Which rows this report took as verified before without walking them again, and
    when they were last all walked again; nothing when it walked every row itself."""
    taken = [c for c in chains if c.earlier]
    if not taken:
        return ""
    walked = sum(c.walked for c in chains)
    rechecked = sum(c.rechecked for c in chains)
    earlier = sum(c.earlier for c in chains)
    since = min((c.since for c in taken if c.since is not None), default=None)
    rounds = [c.rechecked_at for c in taken]
    last = (f"最近一轮于{local_time(min(r for r in rounds if r is not None))}完成"
            if all(r is not None for r in rounds) else "首轮尚未完成")
    started = f"自{local_time(since)}起" if since is not None else ""
    return (f"；其中本次新核验{walked}条、重新核验{rechecked}条，其余{earlier}条为此前核验"
            f"（{started}逐次核验新增记录，并逐轮重新核验已核验的记录，{last}），"
            "全部重验用scg audit verify")


def _writer_problems(rec: RecordFacts) -> list[str]:
    out: list[str] = []
    if not rec.writers:
        out.append(f"没有只能追加记录的运行账号：服务只能以数据表所有者{rec.owner}或超级用户"
                   "身份写入记录，可解除防改删保护（应用 scg db migrate --app-role scg_app "
                   "建立运行账号，服务以它连接数据库）")
    for w in rec.writers:
        if w.owns:
            out.append(f"运行账号{w.name}拥有数据表{'、'.join(w.owns[:5])}"
                       f"{'等' if len(w.owns) > 5 else ''}，可解除记录的防改删保护")
        if w.rewrites:
            out.append(f"运行账号{w.name}可修改、删除或清空{_words(w.rewrites)}")
        if w.member_of_owner:
            out.append(f"运行账号{w.name}是数据表所有者{rec.owner}的成员，可解除防改删保护")
    if rec.unguarded:
        out.append(f"{_words(rec.unguarded)}表的防改删触发器缺失或已停用")
    return out


def judge_records(rec: RecordFacts) -> CheckOutcome:
    order = list(CHAIN_WORDS)
    chains = sorted(rec.chains, key=lambda c: order.index(c.chain) if c.chain in order
                    else len(order))
    figures = tuple(Figure(CHAIN_WORDS.get(c.chain, c.chain), c.rows, "条", "system",
                           f"SM3哈希链，链头{c.head[:HEAD_DIGITS]}" if c.head and c.rows
                           else "SM3哈希链") for c in chains)
    # The chains are the platform's, not one community's: said so, lest the counts read
    # as this community's records.
    counts = "平台的" + "、".join(f"{CHAIN_WORDS.get(c.chain, c.chain)}{c.rows}条"
                                 for c in chains)
    total = sum(c.rows for c in chains)
    broken = [c.tampering for c in chains if c.tampering is not None]
    problems = [f"审计链核验不符：{CHAIN_WORDS.get(t.chain, t.chain)}中{t.words}，记录已被"
                "修改或删除（scg audit verify 列出详情，应按备份恢复）" for t in broken]
    problems += _writer_problems(rec)
    if problems:
        return CheckOutcome("tamper_proof_records", "fail", Clause(
            f"{counts}以SM3哈希链相连；" + "；".join(problems), figures))
    pending = [c for c in chains if not c.complete]
    if pending:
        done = sum(c.verified for c in chains)
        return CheckOutcome("tamper_proof_records", "no_data", Clause(
            f"{counts}以SM3哈希链相连，审计链核验进行中：已逐条核验{done}条，共{total}条，"
            "其余由此后的报告接续核验（或运行scg audit verify）", figures))
    writers = "、".join(w.name for w in rec.writers)
    return CheckOutcome("tamper_proof_records", "pass", Clause(
        f"{counts}以SM3哈希链相连，已逐条核验全部{total}条（至各链最新一条），均一致"
        f"{_heads(chains)}{_earlier(chains)}；运行账号{writers}不拥有数据表，对这些记录只能"
        "查询和追加，记录表的防改删触发器均已启用", figures))


#: Each check of SYSTEM_CHECKS and how it is judged from the facts.
JUDGES: Final[dict[str, Callable[[SecurityFacts], CheckOutcome]]] = {
    "personal_data_encrypted": lambda f: judge_personal_data(f.personal),
    "tiered_roles": lambda f: judge_roles(f.roles),
    "tamper_proof_records": lambda f: judge_records(f.records)}


def security_verdict(outcomes: Sequence[CheckOutcome]) -> str:
    statuses = [o.status for o in outcomes]
    if "fail" in statuses:
        return "fail"
    return "pass" if statuses and all(s == "pass" for s in statuses) else "no_data"


def security_text(checks: Sequence[str], facts: SecurityFacts | None, *,
                  as_of: datetime | None = None
                  ) -> tuple[str, str, tuple[Figure, ...], tuple[CheckOutcome, ...]]:
    """(verdict, completion text, figures, outcomes) of a system row checking `checks`.
    `as_of`: the report's time when it is a past one (the facts are today's: said so)."""
    if facts is None:
        return "no_data", NOT_CHECKED, (), ()
    outcomes = tuple(JUDGES[c](facts) for c in checks)
    verdict = security_verdict(outcomes)
    past = as_of is not None and local_time(as_of) != local_time(facts.checked_at)
    suffix = (f"（信息安全为{local_time(facts.checked_at)}（北京时间）核验的平台现状，"
              f"非{local_time(as_of)}时的状况。）" if past and as_of is not None else "")
    text = compose(verdict, [o.clause for o in outcomes], suffix)
    return verdict, text, tuple(f for o in outcomes for f in o.clause.figures), outcomes


def failing_words(outcomes: Sequence[CheckOutcome]) -> str:
    """`居民个人信息加密、记录不可修改删除` — the checks that do not pass, for summaries."""
    return "、".join(CHECK_NAMES[o.check] for o in outcomes if o.status != "pass")

