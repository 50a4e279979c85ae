"""The console's Chinese for codes and English texts: every event type a profile or rule
emits has a name, device-state reasons of the gateway and its drivers read in Chinese,
refusals of a page say why in Chinese, and places are written by their names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from web.console.event_types import EVENT_TYPES, event_name
from web.console.places import place_text
from web.console.reasons import reason_words
from web.console.refusals import refusal_words

ROOT = Path(__file__).resolve().parents[2]


def profile_event_types() -> set[str]:
    """The type of every event the shipped driver profiles can emit: each entry with a
    severity names it as `type` (MQTT profiles) or `event` (Modbus, GB 26875)."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "severity" in node:
                kind = node.get("type", node.get("event"))
                if isinstance(kind, str):
                    found.add(kind)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(ROOT.glob("drivers/*/profiles/*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


def code_event_types() -> set[str]:
    """Event types made in code rather than profiles: ONVIF conditions, gateway rules."""
    from drivers.onvif.topics import SEVERITY
    from gateway.rules.ebike import LOCKOUT, LOCKOUT_FAILED

    return {str(t) for t in SEVERITY} | {LOCKOUT, LOCKOUT_FAILED}


def test_every_event_type_of_the_drivers_and_rules_has_a_chinese_name() -> None:
    types = profile_event_types() | code_event_types()
    assert {"object_thrown", "sos_pressed", "lamp_fault", "zone_fire", "tamper",
            "port_fault", "main_power_fault", "ebike_lockout"} <= types
    assert sorted(types - EVENT_TYPES.keys()) == []
    assert event_name("object_thrown") == "高空抛物"
    assert event_name("a_new_type") == "a_new_type"   # shown as it is, never hidden


@pytest.mark.parametrize(("reason", "words"), [
    ("no answer for 31 s (expected every 30 s)", "31 秒无应答（应每 30 秒上报一次）"),
    ("no answer in the 16 s since the gateway started (expected every 5 s)",
     "网关启动后 16 秒内无应答（应每 5 秒上报一次）"),
    ("gateway demo-gw1 is offline (last will); the device's own state is unknown",
     "网关 demo-gw1 离线（遗嘱消息），设备自身状态未知"),
    ("picture black (mean grey 6.6 < 30)", "画面黑屏（平均灰度 6.6 < 30）"),
    ("device meter-080 (unit 80 on link mb0): no answer within 0.5 s to the read of "
     "holding registers 0x0014..0x0016 (fc 3); check its power, wiring, unit id and the "
     "link's baud rate and parity",
     "读取保持寄存器 0x0014..0x0016 时 0.5 秒内无应答（链路 mb0，从站地址 80）：请检查供电、"
     "接线、从站地址及链路的波特率和校验位"),
    ("device fp-2 (unit 2 on link fire): the gateway answered the read of input registers "
     "0x0000..0x0001 (fc 4) with exception 11 gateway target device failed to respond: "
     "the device behind it is silent",
     "协议网关对读取输入寄存器 0x0000..0x0001 回复异常码 11：其后的设备无应答（链路 fire，"
     "从站地址 2）"),
    ("meter dl1/000000000350: no reply within 0.5 s to the read of 00010000 (total forward "
     "active energy)", "电表 dl1/000000000350 读取 00010000（正向有功总电能）时 0.5 秒内无应答"),
    ("camera clock 300 s ahead of the gateway's (more than the 10 s allowed): set it",
     "摄像机时钟比网关快 300 秒，录像和事件时间不准；请校时（NTP）"),
    ("something only this gateway says", "something only this gateway says"),
    (None, "—"),
])
def test_reasons_read_in_chinese(reason: str | None, words: str) -> None:
    assert reason_words(reason) == words


@pytest.mark.parametrize(("detail", "words"), [
    ("user 'li.na' (viewer) may not acknowledge or close alarms; that needs the role admin "
     "or operator",
     "用户 li.na（查看员）无权确认或关闭告警；这需要管理员或操作员角色。"
     "如确需此权限，请联系管理员。"),
    ("user 'wang.fang' may see and act only in community demo, not in community 'other'; "
     "ask an admin for access to it",
     "用户 wang.fang 只能查看和处理社区 demo，不能访问社区 other；如需访问，请联系管理员开通。"),
    ("the form's CSRF token is missing or wrong: reload the page and send the form again "
     "(a program should use a bearer token, not the session cookie)",
     "表单已过期或缺少校验码：请刷新页面后重新提交。"),
    ("device 'cam-99' is not in community 'demo''s inventory; the device table lists its "
     "devices", "社区 demo 的台账中没有设备 cam-99：请从设备健康表中选择设备。"),
])
def test_refusals_of_pages_say_why_in_chinese(detail: str, words: str) -> None:
    assert refusal_words(detail) == words


def test_places_are_written_by_their_names() -> None:
    names = {"north": "北苑", "north-b2": "北苑2号楼", "b03": "3号楼"}
    assert place_text(names, "north", "north-b2", 9) == "北苑2号楼 / 9 层"
    assert place_text(names, "north", "b03") == "北苑 / 3号楼"
    assert place_text(names, "east", None) == "east"
    assert place_text(names, None, None) == "—"
