"""Why a device is in its state, in Chinese: the reasons the gateway's health machine and
its drivers give most often (web/console shows these; the API keeps the gateway's words).

Each entry is a pattern over the gateway's English text and its Chinese words, `{0}`,
`{1}` being the pattern's groups; a group that is a duration (`31 s`) or a Modbus block or
DL/T 645 data item is put in Chinese too. A reason matching no pattern is the edge's own
diagnostic text and is shown as it came (the device page also shows the original).
Sources: gateway/health.py, gateway/rules/, drivers/onvif (picture.py, failures.py,
driver.py), drivers/modbus/poll.py and link.py, drivers/dlt645/driver.py.
"""

from __future__ import annotations

import re
from typing import Final

#: Modbus function names as drivers/modbus/model.py FUNCTIONS writes them.
MODBUS_TABLES: Final[dict[str, str]] = {
    "coils": "线圈", "discrete inputs": "离散输入", "holding registers": "保持寄存器",
    "input registers": "输入寄存器", "coil": "线圈", "discrete input": "离散输入",
    "holding register": "保持寄存器", "input register": "输入寄存器"}
#: DL/T 645-2007 data items as drivers/dlt645/codec.py STANDARD names them.
DLT645_ITEMS: Final[dict[str, str]] = {
    "total forward active energy": "正向有功总电能",
    "total reverse active energy": "反向有功总电能",
    "phase A voltage": "A 相电压", "phase B voltage": "B 相电压", "phase C voltage": "C 相电压",
    "voltage block (A, B, C)": "电压数据块", "phase A current": "A 相电流",
    "phase B current": "B 相电流", "phase C current": "C 相电流",
    "current block (A, B, C)": "电流数据块", "total active power": "总有功功率",
    "phase A active power": "A 相有功功率", "phase B active power": "B 相有功功率",
    "phase C active power": "C 相有功功率",
    "active power block (total, A, B, C)": "有功功率数据块",
    "total power factor": "总功率因数", "grid frequency": "电网频率"}

_DURATION = re.compile(r"^(\d+(?:\.\d+)?) ?s$")
_BLOCK = re.compile(r"^(coils?|discrete inputs?|holding registers?|input registers?) "
                    r"(0x[0-9A-F]{4}(?:\.\.0x[0-9A-F]{4})?) \((?:fc \d+|[^)]*)\)$")
_ITEM = re.compile(r"^([0-9A-F]{8}) \((.+)\)$")


def _part(text: str) -> str:
    """One group of a reason in Chinese where it is a duration, a Modbus block or a DL/T
    645 data item; otherwise as it is."""
    m = _DURATION.match(text)
    if m:
        return f"{m[1]} 秒"
    m = _BLOCK.match(text)
    if m:
        return f"{MODBUS_TABLES[m[1]]} {m[2]}"
    m = _ITEM.match(text)
    if m:
        return f"{m[1]}（{DLT645_ITEMS.get(m[2], m[2])}）"
    return text


_MODBUS_WHO = r"device (\S+) \(unit (\d+) on link (\S+)\)"

_REASONS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(p), w) for p, w in (
        # gateway/health.py and the state view
        (r"^no answer for (.+) \(expected every (.+)\)$", "{0}无应答（应每 {1}上报一次）"),
        (r"^no answer in the (.+) since the gateway started \(expected every (.+)\)$",
         "网关启动后 {0}内无应答（应每 {1}上报一次）"),
        (r"^no answer (\d+) times in a row$", "连续 {0} 次无应答"),
        (r"^wrong answers (\d+) times in a row$", "连续 {0} 次应答错误"),
        (r"^no controller: not monitored$", "无控制器，不监测"),
        (r"^gateway (.+) is offline \(last will\); the device's own state is unknown$",
         "网关 {0} 离线（遗嘱消息），设备自身状态未知"),
        (r"^no state reported yet by gateway (.+)$", "网关 {0} 尚未上报该设备状态"),
        # Cameras
        (r"^picture black \(mean grey (\S+) < (\S+)\)$", "画面黑屏（平均灰度 {0} < {1}）"),
        (r"^picture white \(mean grey (\S+) > (\S+)\)$", "画面过亮发白（平均灰度 {0} > {1}）"),
        (r"^picture blank \(grey std (\S+) < (\S+)\)$", "画面无内容（灰度标准差 {0} < {1}）"),
        (r"^picture frozen .*$", "画面冻结（与上一次抽检的图像完全相同）"),
        (r"^snapshot JPEG does not decode.*$", "抓图无法解码（图像损坏）"),
        (r"^unreachable at (\S+) .*$", "无法连接 {0}"),
        (r"^no answer to (\S+) within (\S+) s from (\S+)$", "{2} 在 {1} 秒内未应答（{0}）"),
        (r"^wrong credentials or clock skew: .*$", "用户名/密码错误或时钟偏差，摄像机拒绝访问"),
        (r"^wrong credentials: .*$", "用户名或密码错误，摄像机拒绝访问"),
        (r"^ONVIF access refused: .*$", "ONVIF 访问被拒：该用户在摄像机上没有操作员权限"),
        (r"^camera clock (\d+) s ahead of the gateway's .*$",
         "摄像机时钟比网关快 {0} 秒，录像和事件时间不准；请校时（NTP）"),
        (r"^camera clock (\d+) s behind the gateway's .*$",
         "摄像机时钟比网关慢 {0} 秒，录像和事件时间不准；请校时（NTP）"),
        (r"^camera answered (\S+) with HTTP (\d+)$", "摄像机对 {0} 请求返回 HTTP {1}"),
        # Modbus (drivers/modbus/poll.py, link.py)
        (rf"^{_MODBUS_WHO}: no answer within (\S+ s) to the read of (.+); check its power, "
         r"wiring, unit id and the link's baud rate and parity$",
         "读取{4} 时 {3}内无应答（链路 {2}，从站地址 {1}）：请检查供电、接线、从站地址及"
         "链路的波特率和校验位"),
        (rf"^{_MODBUS_WHO}: the gateway answered the read of (.+) with exception (\d+) .*: "
         r"the device behind it is silent$",
         "协议网关对读取{3} 回复异常码 {4}：其后的设备无应答（链路 {2}，从站地址 {1}）"),
        (rf"^{_MODBUS_WHO}: cannot connect to (\S+) \(refused, or no answer within (\S+ s)\)$",
         "无法连接 {3}（被拒绝，或 {4}内无应答）"),
        (rf"^{_MODBUS_WHO}: serial port (\S+) does not exist .*$",
         "串口 {3} 不存在（转换器未插？）"),
        # DL/T 645 (drivers/dlt645/driver.py, link.py)
        (r"^meter (\S+): no reply within (\S+ s) to the read of (.+)$",
         "电表 {0} 读取 {2}时 {1}内无应答"),
        (r"^meter (\S+): link (\S+) \((.+)\) is down: (.+)$", "电表 {0}：链路 {1}（{2}）中断：{3}"),
    ))


def reason_words(text: str | None) -> str:
    """A device state's reason in Chinese where it is one of the common ones, else as the
    gateway wrote it; `—` for none."""
    if not text:
        return "—"
    for pattern, words in _REASONS:
        m = pattern.match(text)
        if m:
            return words.format(*(_part(g or "") for g in m.groups()))
    return text
