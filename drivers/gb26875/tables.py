"""The code tables of GB 26875.3-2011 (城市消防远程监控系统 第3部分：报警传输网络通信协议) as data,
one row per code, so a reviewer can hold them against the standard line by line. The codec
and the interpreter read these tables; nothing else in the driver repeats a code.

Names: `name` is scg's snake_case name (used in logs, event data and profiles), `title`
the standard's Chinese name. Bits count from 0 = least significant; a state bit's `name`
says what the bit means when SET, and `clear` what it means when clear.

Where the rows come from is listed in the package docstring (drivers/gb26875/__init__.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Code:
    code: int
    name: str
    title: str


@dataclass(frozen=True, slots=True)
class Bit:
    bit: int
    name: str      # meaning when set, e.g. fire_alarm
    title: str     # the standard's words for set
    clear: str     # the standard's words for clear


@dataclass(frozen=True, slots=True)
class AnalogType:
    code: int
    name: str
    title: str
    unit: str
    scale: float   # engineering value = raw (signed 16 bit) x scale
    metric: str    # the reading's metric name


@dataclass(frozen=True, slots=True)
class UnitType:
    """A type flag (类型标志) of an application data unit and the layout of its objects.

    `answer` is the layout a response (command 5) to a read of this type carries: a read of
    the system state (61) is answered with system-state objects, like type 1 uploads."""

    code: int
    name: str
    title: str
    layout: str
    answer: str = ""


# ---------------------------------------------------------------- frame

START: Final = b"@@"           # 启动符 0x40 0x40
END: Final = b"##"             # 结束符 0x23 0x23
MAX_DATA: Final = 1024         # 应用数据单元 at most 1024 bytes
HEADER_SIZE: Final = 27        # @@, serial 2, version 2, time 6, source 6, destination 6,
#                                length 2, command 1 (the checksum covers bytes 2 .. 27+L)
FRAME_OVERHEAD: Final = 30     # header + checksum 1 + ##
ADDRESS_MAX: Final = (1 << 48) - 1

# 控制单元 命令字节 (§ 8.1): 0 and 7..127 reserved, 128..255 user-defined.
CONTROL, SEND_DATA, CONFIRM, REQUEST, RESPONSE, DENY = 1, 2, 3, 4, 5, 6
COMMANDS: Final[dict[int, Code]] = {c.code: c for c in (
    Code(1, "control", "控制命令"),      # the centre commands the device (clock, init, 查岗)
    Code(2, "send_data", "发送数据"),    # the device reports; the receiver confirms
    Code(3, "confirm", "确认"),          # answers a control command or sent data
    Code(4, "request", "请求"),          # the centre reads something
    Code(5, "response", "应答"),         # answers a request with the data read
    Code(6, "deny", "否认"),             # refuses a control command, request or sent data
)}


def command_name(code: int) -> str:
    known = COMMANDS.get(code)
    if known is not None:
        return f"{code} ({known.name})"
    return f"{code} ({'user-defined' if code >= 128 else 'reserved'})"


# ---------------------------------------------------------------- application data units

#: Object layouts: (field, bytes, kind). kind: u = unsigned little-endian, s = signed
#: little-endian, time = 6-byte time label, text = GB 18030 text of fixed size, ltext =
#: one length byte then that much GB 18030 text.
LAYOUTS: Final[dict[str, tuple[tuple[str, int, str], ...]]] = {
    "system_state": (("system_type", 1, "u"), ("system_address", 1, "u"), ("flags", 2, "u"),
                     ("time", 6, "time")),
    "component_state": (("system_type", 1, "u"), ("system_address", 1, "u"),
                        ("component_type", 1, "u"), ("component_address", 4, "u"),
                        ("flags", 2, "u"), ("description", 31, "text"), ("time", 6, "time")),
    "analog_value": (("system_type", 1, "u"), ("system_address", 1, "u"),
                     ("component_type", 1, "u"), ("component_address", 4, "u"),
                     ("analog_type", 1, "u"), ("value", 2, "s"), ("time", 6, "time")),
    "system_operation": (("system_type", 1, "u"), ("system_address", 1, "u"),
                         ("flags", 1, "u"), ("operator", 1, "u"), ("time", 6, "time")),
    "system_version": (("system_type", 1, "u"), ("system_address", 1, "u"), ("major", 1, "u"),
                       ("minor", 1, "u")),
    "system_config": (("system_type", 1, "u"), ("system_address", 1, "u"),
                      ("description", 1, "ltext")),
    "component_config": (("system_type", 1, "u"), ("system_address", 1, "u"),
                         ("component_type", 1, "u"), ("component_address", 4, "u"),
                         ("description", 31, "text")),
    "system_time": (("system_type", 1, "u"), ("system_address", 1, "u"), ("time", 6, "time")),
    "device_state": (("flags", 1, "u"), ("time", 6, "time")),
    "device_operation": (("flags", 1, "u"), ("operator", 1, "u"), ("time", 6, "time")),
    "device_version": (("major", 1, "u"), ("minor", 1, "u")),
    "device_config": (("description", 1, "ltext"),),
    "device_time": (("time", 6, "time"),),
    # What the centre sends in requests and control commands.
    "system_read": (("system_type", 1, "u"), ("system_address", 1, "u")),
    "component_read": (("system_type", 1, "u"), ("system_address", 1, "u"),
                       ("component_address", 4, "u")),
    "record_read": (("system_type", 1, "u"), ("system_address", 1, "u"), ("count", 1, "u"),
                    ("since", 6, "time")),
    "device_read": (("reserved", 1, "u"),),
    "device_record_read": (("count", 1, "u"), ("since", 6, "time")),
    "clock_sync": (("time", 6, "time"),),
    "inspection": (("timeout_minutes", 1, "u"),),
}

# 类型标志 (§ 8.2.1): 1..8 building fire facilities up, 21..28 the transmission device up,
# 61..68 / 81..91 the centre reads or commands; the others reserved, 128..255 user-defined.
UNIT_TYPES: Final[dict[int, UnitType]] = {u.code: u for u in (
    UnitType(1, "system_state", "上传建筑消防设施系统状态", "system_state"),
    UnitType(2, "component_state", "上传建筑消防设施部件运行状态", "component_state"),
    UnitType(3, "analog_value", "上传建筑消防设施部件模拟量值", "analog_value"),
    UnitType(4, "system_operation", "上传建筑消防设施操作信息", "system_operation"),
    UnitType(5, "system_version", "上传建筑消防设施软件版本", "system_version"),
    UnitType(6, "system_config", "上传建筑消防设施系统配置情况", "system_config"),
    UnitType(7, "component_config", "上传建筑消防设施部件配置情况", "component_config"),
    UnitType(8, "system_time", "上传建筑消防设施系统时间", "system_time"),
    UnitType(21, "device_state", "上传用户信息传输装置运行状态", "device_state"),
    UnitType(24, "device_operation", "上传用户信息传输装置操作信息", "device_operation"),
    UnitType(25, "device_version", "上传用户信息传输装置软件版本", "device_version"),
    UnitType(26, "device_config", "上传用户信息传输装置配置情况", "device_config"),
    UnitType(28, "device_time", "上传用户信息传输装置系统时间", "device_time"),
    UnitType(61, "read_system_state", "读建筑消防设施系统状态", "system_read", "system_state"),
    UnitType(62, "read_component_state", "读建筑消防设施部件运行状态", "component_read",
             "component_state"),
    UnitType(63, "read_analog_value", "读建筑消防设施部件模拟量值", "component_read",
             "analog_value"),
    UnitType(64, "read_system_operation", "读建筑消防设施操作信息", "record_read",
             "system_operation"),
    UnitType(65, "read_system_version", "读建筑消防设施软件版本", "system_read",
             "system_version"),
    UnitType(66, "read_system_config", "读建筑消防设施系统配置情况", "system_read",
             "system_config"),
    UnitType(67, "read_component_config", "读建筑消防设施部件配置情况", "component_read",
             "component_config"),
    UnitType(68, "read_system_time", "读建筑消防设施系统时间", "system_read", "system_time"),
    UnitType(81, "read_device_state", "读用户信息传输装置运行状态", "device_read",
             "device_state"),
    UnitType(84, "read_device_operation", "读用户信息传输装置操作信息记录",
             "device_record_read", "device_operation"),
    UnitType(85, "read_device_version", "读用户信息传输装置软件版本", "device_read",
             "device_version"),
    UnitType(86, "read_device_config", "读用户信息传输装置配置情况", "device_read",
             "device_config"),
    UnitType(88, "read_device_time", "读用户信息传输装置系统时间", "device_read",
             "device_time"),
    UnitType(89, "initialise_device", "初始化用户信息传输装置", "device_read"),
    UnitType(90, "sync_device_clock", "同步用户信息传输装置时钟", "clock_sync"),
    UnitType(91, "inspection", "查岗命令", "inspection"),
)}

# ---------------------------------------------------------------- systems and components

# 系统类型标志 (§ 8.2.1.1): 2..9 and 25..127 reserved, 128..255 user-defined.
SYSTEM_TYPES: Final[dict[int, Code]] = {c.code: c for c in (
    Code(0, "general", "通用"),
    Code(1, "fire_alarm_system", "火灾报警系统"),
    Code(10, "fire_linkage_controller", "消防联动控制器"),
    Code(11, "hydrant_system", "消火栓系统"),
    Code(12, "sprinkler_system", "自动喷水灭火系统"),
    Code(13, "gas_extinguishing_system", "气体灭火系统"),
    Code(14, "water_spray_pump_system", "水喷雾灭火系统（泵启动方式）"),
    Code(15, "water_spray_pressure_system", "水喷雾灭火系统（压力容器启动方式）"),
    Code(16, "foam_extinguishing_system", "泡沫灭火系统"),
    Code(17, "dry_powder_system", "干粉灭火系统"),
    Code(18, "smoke_control_system", "防烟排烟系统"),
    Code(19, "fire_door_shutter_system", "防火门及卷帘系统"),
    Code(20, "fire_elevator", "消防电梯"),
    Code(21, "emergency_broadcast", "消防应急广播"),
    Code(22, "emergency_lighting", "消防应急照明和疏散指示系统"),
    Code(23, "fire_power_supply", "消防电源"),
    Code(24, "fire_telephone", "消防电话"),
)}

# 部件类型 (§ 8.2.1.2): the gaps are reserved, 128..255 user-defined.
COMPONENT_TYPES: Final[dict[int, Code]] = {c.code: c for c in (
    Code(0, "general", "通用"),
    Code(1, "fire_alarm_controller", "火灾报警控制器"),
    Code(10, "combustible_gas_detector", "可燃气体探测器"),
    Code(11, "point_combustible_gas_detector", "点型可燃气体探测器"),
    Code(12, "standalone_combustible_gas_detector", "独立式可燃气体探测器"),
    Code(13, "line_combustible_gas_detector", "线型可燃气体探测器"),
    Code(16, "electrical_fire_monitor", "电气火灾监控报警器"),
    Code(17, "residual_current_fire_monitor", "剩余电流式电气火灾监控探测器"),
    Code(18, "temperature_fire_monitor", "测温式电气火灾监控探测器"),
    Code(21, "detection_loop", "探测回路"),
    Code(22, "fire_display_panel", "火灾显示盘"),
    Code(23, "manual_call_point", "手动火灾报警按钮"),
    Code(24, "hydrant_button", "消火栓按钮"),
    Code(25, "fire_detector", "火灾探测器"),
    Code(30, "heat_detector", "感温火灾探测器"),
    Code(31, "point_heat_detector", "点型感温火灾探测器"),
    Code(32, "point_heat_detector_s", "点型感温火灾探测器（S型）"),
    Code(33, "point_heat_detector_r", "点型感温火灾探测器（R型）"),
    Code(34, "line_heat_detector", "线型感温火灾探测器"),
    Code(35, "line_heat_detector_s", "线型感温火灾探测器（S型）"),
    Code(36, "line_heat_detector_r", "线型感温火灾探测器（R型）"),
    Code(37, "fibre_heat_detector", "光纤感温火灾探测器"),
    Code(40, "smoke_detector", "感烟火灾探测器"),
    Code(41, "point_ionisation_smoke_detector", "点型离子感烟火灾探测器"),
    Code(42, "point_photoelectric_smoke_detector", "点型光电感烟火灾探测器"),
    Code(43, "beam_smoke_detector", "线型光束感烟火灾探测器"),
    Code(44, "aspirating_smoke_detector", "吸气式感烟火灾探测器"),
    Code(50, "multi_sensor_detector", "复合式火灾探测器"),
    Code(51, "smoke_heat_detector", "复合式感烟感温火灾探测器"),
    Code(52, "flame_heat_detector", "复合式感光感温火灾探测器"),
    Code(53, "flame_smoke_detector", "复合式感光感烟火灾探测器"),
    Code(61, "uv_flame_detector", "紫外火焰探测器"),
    Code(62, "ir_flame_detector", "红外火焰探测器"),
    Code(69, "flame_detector", "感光火灾探测器"),
    Code(74, "gas_detector", "气体探测器"),
    Code(78, "video_fire_detector", "图像摄像方式火灾探测器"),
    Code(79, "acoustic_fire_detector", "感声火灾探测器"),
    Code(81, "gas_extinguishing_controller", "气体灭火控制器"),
    Code(82, "fire_electrical_control", "消防电气控制装置"),
    Code(83, "control_room_graphic_display", "消防控制室图形显示装置"),
    Code(84, "module", "模块"),
    Code(85, "input_module", "输入模块"),
    Code(86, "output_module", "输出模块"),
    Code(87, "input_output_module", "输入/输出模块"),
    Code(88, "repeater_module", "中继模块"),
    Code(91, "fire_pump", "消防水泵"),
    Code(92, "fire_water_tank", "消防水箱"),
    Code(95, "sprinkler_pump", "喷淋泵"),
    Code(96, "water_flow_indicator", "水流指示器"),
    Code(97, "signal_valve", "信号阀"),
    Code(98, "alarm_valve", "报警阀"),
    Code(99, "pressure_switch", "压力开关"),
    Code(101, "valve_actuator", "阀驱动装置"),
    Code(102, "fire_door", "防火门"),
    Code(103, "fire_valve", "防火阀"),
    Code(104, "ventilation_air_conditioning", "通风空调"),
    Code(105, "foam_pump", "泡沫液泵"),
    Code(106, "pipe_solenoid_valve", "管网电磁阀"),
    Code(111, "smoke_exhaust_fan", "防烟排烟风机"),
    Code(113, "smoke_exhaust_fire_damper", "排烟防火阀"),
    Code(114, "normally_closed_air_inlet", "常闭送风口"),
    Code(115, "smoke_outlet", "排烟口"),
    Code(116, "smoke_curtain", "电控挡烟垂壁"),
    Code(117, "fire_shutter_controller", "防火卷帘控制器"),
    Code(118, "fire_door_monitor", "防火门监控器"),
    Code(121, "alarm_sounder", "警报装置"),
)}

# 模拟量类型 (§ 8.2.1.3): value 2 bytes signed, in the resolution listed.
ANALOG_TYPES: Final[dict[int, AnalogType]] = {a.code: a for a in (
    AnalogType(1, "event_count", "事件计数", "", 1.0, "event_count"),
    AnalogType(2, "height", "高度", "m", 0.01, "height_m"),
    AnalogType(3, "temperature", "温度", "℃", 0.1, "temperature_c"),
    AnalogType(4, "pressure_mpa", "压力（兆帕）", "MPa", 0.1, "pressure_mpa"),
    AnalogType(5, "pressure_kpa", "压力（千帕）", "kPa", 0.1, "pressure_kpa"),
    AnalogType(6, "gas_concentration", "气体浓度", "%LEL", 0.1, "gas_lel_pct"),
    AnalogType(7, "time", "时间", "s", 1.0, "time_s"),
    AnalogType(8, "voltage", "电压", "V", 0.1, "voltage_v"),
    AnalogType(9, "current", "电流", "A", 0.1, "current_a"),
    AnalogType(10, "flow", "流量", "L/s", 0.1, "flow_l_s"),
    AnalogType(11, "air_volume", "风量", "m³/min", 0.1, "air_volume_m3_min"),
    AnalogType(12, "wind_speed", "风速", "m/s", 1.0, "wind_speed_m_s"),
)}

# ---------------------------------------------------------------- state and operation flags

# 建筑消防设施系统状态 (§ 8.2.1.1), 2 bytes; bits 14, 15 reserved.
SYSTEM_STATE_BITS: Final[tuple[Bit, ...]] = (
    Bit(0, "normal_operation", "正常运行状态", "测试状态"),
    Bit(1, "fire_alarm", "火警", "无火警"),
    Bit(2, "fault", "故障", "无故障"),
    Bit(3, "shielded", "屏蔽", "无屏蔽"),
    Bit(4, "supervisory", "监管", "无监管"),
    Bit(5, "started", "启动（开启）", "停止（关闭）"),
    Bit(6, "feedback", "反馈", "无反馈"),
    Bit(7, "delay", "延时状态", "未延时"),
    Bit(8, "main_power_fault", "主电故障", "主电正常"),
    Bit(9, "backup_power_fault", "备电故障", "备电正常"),
    Bit(10, "bus_fault", "总线故障", "总线正常"),
    Bit(11, "manual_mode", "手动状态", "自动状态"),
    Bit(12, "config_changed", "配置改变", "无配置改变"),
    Bit(13, "reset", "复位", "正常"),
)

# 建筑消防设施部件状态 (§ 8.2.1.2), 2 bytes; bits 9..15 reserved.
COMPONENT_STATE_BITS: Final[tuple[Bit, ...]] = (
    Bit(0, "normal_operation", "正常运行状态", "测试状态"),
    Bit(1, "fire_alarm", "火警", "无火警"),
    Bit(2, "fault", "故障", "无故障"),
    Bit(3, "shielded", "屏蔽", "无屏蔽"),
    Bit(4, "supervisory", "监管", "无监管"),
    Bit(5, "started", "启动（开启）", "停止（关闭）"),
    Bit(6, "feedback", "反馈", "无反馈"),
    Bit(7, "delay", "延时状态", "未延时"),
    Bit(8, "power_fault", "电源故障", "电源正常"),
)

# 建筑消防设施操作信息 (§ 8.2.1.4), 1 byte; bit 7 reserved. A set bit is an operation done.
SYSTEM_OPERATION_BITS: Final[tuple[Bit, ...]] = (
    Bit(0, "reset", "复位", "无操作"),
    Bit(1, "silence", "消音", "无操作"),
    Bit(2, "manual_alarm", "手动报警", "无操作"),
    Bit(3, "alarm_cleared", "警情消除", "无操作"),
    Bit(4, "self_test", "自检", "无操作"),
    Bit(5, "confirm", "确认", "无操作"),
    Bit(6, "test", "测试", "无操作"),
)

# 用户信息传输装置运行状态 (§ 8.2.1.8), 1 byte; bit 7 reserved.
DEVICE_STATE_BITS: Final[tuple[Bit, ...]] = (
    Bit(0, "normal_operation", "正常监视状态", "测试状态"),
    Bit(1, "fire_alarm", "火警", "无火警"),
    Bit(2, "fault", "故障", "无故障"),
    Bit(3, "main_power_fault", "主电故障", "主电正常"),
    Bit(4, "backup_power_fault", "备电故障", "备电正常"),
    Bit(5, "centre_link_fault", "与监控中心通信信道故障", "通信信道正常"),
    Bit(6, "panel_link_fault", "监测连接线路故障", "监测连接线路正常"),
)

# 用户信息传输装置操作信息 (§ 8.2.1.9), 1 byte; bit 7 reserved.
DEVICE_OPERATION_BITS: Final[tuple[Bit, ...]] = (
    Bit(0, "reset", "复位", "无操作"),
    Bit(1, "silence", "消音", "无操作"),
    Bit(2, "manual_alarm", "手动报警", "无操作"),
    Bit(3, "alarm_cleared", "警情消除", "无操作"),
    Bit(4, "self_test", "自检", "无操作"),
    Bit(5, "inspection_reply", "查岗应答", "无操作"),
    Bit(6, "test", "测试", "无操作"),
)

#: Which flag table each kind of flags field uses, for profiles and messages.
FLAG_TABLES: Final[dict[str, tuple[Bit, ...]]] = {
    "system_states": SYSTEM_STATE_BITS,
    "component_states": COMPONENT_STATE_BITS,
    "system_operations": SYSTEM_OPERATION_BITS,
    "device_states": DEVICE_STATE_BITS,
    "device_operations": DEVICE_OPERATION_BITS,
}


def set_bits(flags: int, table: tuple[Bit, ...]) -> list[str]:
    """The names of the bits of `table` set in `flags`."""
    return [b.name for b in table if flags >> b.bit & 1]


def code_name(table: dict[int, Code], code: int) -> str:
    known = table.get(code)
    if known is not None:
        return known.name
    return "user_defined" if code >= 128 else "reserved"
