"""Why a page was refused, in Chinese, for the refusal page a browser gets.

The API words its refusals in English for programs (`web.auth.deps`, `web.deps`, the
pages' own 404s), in a few fixed shapes; each shape here becomes a Chinese sentence that
says what to do. A refusal of another shape keeps its words (the page shows the original
under the Chinese in any case, for whoever reports the problem).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from web.auth.roles import PERMISSIONS
from web.console.words import ROLES

#: What each permission lets one do, completing "无权…" (web.auth.roles PERMISSIONS).
PERMISSION_WORDS: Final[dict[str, str]] = {
    "indicators.read": "查看指标、验收报告和设备健康", "overview.read": "查看县域总览",
    "alarms.read": "查看告警", "alarms.act": "确认或关闭告警",
    "declared.read": "查看申报值及其证明材料", "declared.enter": "填报申报值",
    "devices.command": "向设备下发命令", "residents.read": "查看居民登记（脱敏）",
    "personal.read": "查看未脱敏的居民信息", "pictures.read": "查看摄像机画面缩略图",
    "audit.read": "查看操作记录和审计链", "users.manage": "管理用户和令牌",
    "inventory.manage": "导入或修改台账", "config.manage": "修改配置",
    "api.docs": "查看接口文档", "session.end": "退出登录"}
_BY_DOES: Final[dict[str, str]] = {p.does: name for name, p in PERMISSIONS.items()}


def _roles(text: str) -> str:
    """`admin or operator or auditor` -> 管理员、操作员或审计员."""
    names = [ROLES.get(r, r) for r in text.split(" or ")]
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + "或" + names[-1]


def _scope(text: str) -> str:
    if text == "the whole county":
        return "全县"
    return re.sub(r"^communit(?:y|ies) ", "社区 ", text).replace("'", "")


_SHAPES: Final[tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]] = (
    (re.compile(r"^user '(.+)' \((\w+)\) may not (.+); that needs the role (.+)$"),
     lambda m: f"用户 {m[1]}（{ROLES.get(m[2], m[2])}）无权"
               f"{PERMISSION_WORDS.get(_BY_DOES.get(m[3], ''), m[3])}；这需要{_roles(m[4])}"
               "角色。如确需此权限，请联系管理员。"),
    (re.compile(r"^user '(.+)' may see and act only in (.+), not in (.+); ask an admin .*$"),
     lambda m: f"用户 {m[1]} 只能查看和处理{_scope(m[2])}，不能访问{_scope(m[3])}；"
               "如需访问，请联系管理员开通。"),
    (re.compile(r"^the form's CSRF token is missing or wrong.*$"),
     lambda m: "表单已过期或缺少校验码：请刷新页面后重新提交。"),
    (re.compile(r"^community '(.+)' is not in the inventory \(known: (.+)\);.*$"),
     lambda m: f"台账中没有社区 {m[1]}（已有：{m[2].replace('none imported yet', '尚未导入')}）。"),
    (re.compile(r"^device '(.+)' is not in community '(.+)''s inventory.*$"),
     lambda m: f"社区 {m[2]} 的台账中没有设备 {m[1]}：请从设备健康表中选择设备。"),
    (re.compile(r"^gateway '(.+)' is not registered in community '(.+)' and has sent "
                r"nothing$"),
     lambda m: f"网关 {m[1]} 未登记在社区 {m[2]}，也从未上报数据。"),
    (re.compile(r"^'(.+)' is not a measured indicator; known: .*$"),
     lambda m: f"“{m[1]}”不是设备实测指标：请从社区页的指标表中选择。"),
    (re.compile(r"^alarm (\d+) is not an alarm of community '(.+)';.*$"),
     lambda m: f"告警 {m[1]} 不属于社区 {m[2]}：请在该社区的告警页处理。"),
)


def refusal_words(detail: str) -> str:
    """`detail` in Chinese where its shape is known, else as it is."""
    for pattern, words in _SHAPES:
        m = pattern.match(detail)
        if m:
            return words(m)
    return detail
