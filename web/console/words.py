"""Chinese words for the codes the API speaks (states, statuses, severities, kinds, roles,
operation-log actions), as tables: the console shows these words, the JSON keeps the codes.
A code missing from a table is shown as it is, so nothing disappears when a new one
appears before its word does."""

from __future__ import annotations

from typing import Final

from acceptance.phrasing import INDICATOR_NAMES
from inventory.model import KEY_POSITION_TYPES

#: Effective device states (`device_effective_state.state`).
DEVICE_STATES: Final[dict[str, str]] = {
    "online": "在线", "degraded": "降级", "offline": "离线", "unknown": "状态未知",
    "unmonitored": "未接入"}
#: An indicator's status on one tier (indicators.model.Status).
STATUSES: Final[dict[str, str]] = {
    "pass": "达标", "fail": "未达标", "not_required": "不要求", "not_applicable": "不适用",
    "no_data": "无数据"}
#: A tier table's overall verdict (the overview's `tiers[*].verdict`).
VERDICTS: Final[dict[str, str]] = {
    "pass": "达标", "fail": "未达标", "incomplete": "未完成", "not_judged": "未判定"}
TIERS: Final[dict[str, str]] = {"basic": "基础型", "growth": "成长型", "benchmark": "标杆型",
                                "db37": "DB37/T 3890.3"}
SEVERITIES: Final[dict[str, str]] = {"info": "提示", "warning": "预警", "alarm": "告警",
                                     "critical": "紧急"}
ALARM_STATES: Final[dict[str, str]] = {"open": "待处理", "acknowledged": "已确认",
                                       "closed": "已关闭"}
ALARM_CHANGES: Final[dict[str, str]] = {"opened": "产生", "cleared": "已消除",
                                        "acknowledged": "确认", "closed": "关闭"}
ROLES: Final[dict[str, str]] = {"admin": "管理员", "operator": "操作员", "auditor": "审计员",
                                "viewer": "查看员"}
#: Device kinds of the inventory (inventory.model.KINDS).
KINDS: Final[dict[str, str]] = {
    "light": "路灯", "camera": "摄像机", "meter": "电表", "charger": "充电桩",
    "fire_panel": "消防报警网关", "fire_detector": "火灾探测器",
    "fire_hazard_sensor": "消防隐患传感器", "ebike_detector": "电梯电动车识别",
    "elevator": "电梯", "elevator_controller": "电梯控制器", "sos_button": "紧急呼叫按钮",
    "manhole_cover": "智能井盖", "access_gate": "门禁道闸", "perimeter_detector": "周界探测器",
    "throw_camera": "高空抛物摄像机", "garbage_monitor": "垃圾分类监测",
    "fire_transmission_device": "用户信息传输装置"}
PROTOCOLS: Final[dict[str, str]] = {"mqtt": "MQTT", "modbus": "Modbus", "onvif": "ONVIF",
                                    "dlt645": "DL/T 645", "gb26875": "GB 26875"}
KEY_POSITIONS: Final[dict[str, str]] = dict(KEY_POSITION_TYPES)
#: Operation-log actions (`operation_log.action`) and user changes.
ACTIONS: Final[dict[str, str]] = {
    "alarm.acknowledge": "确认告警", "alarm.close": "关闭告警",
    "declared.enter": "填报申报值", "personal.read": "查看未脱敏居民信息",
    "user.add": "新增用户", "user.passwd": "修改密码", "user.disable": "停用用户",
    "user.enable": "启用用户", "user.token": "签发令牌"}
#: The hash chains (`ingest.schema.chain.CHAINS`).
CHAINS: Final[dict[str, str]] = {"operation_log": "操作记录", "alarm_changes": "告警变更",
                                 "declarations": "申报值", "user_changes": "用户变更"}
#: Record-compliance checks of a camera (inventory.records.RECORD_CHECKS).
RECORD_CHECKS: Final[dict[str, str]] = {"code": "设备编码", "civil_code": "行政区划",
                                        "name": "设备名称", "coordinates": "经纬度"}
#: The readings a gateway reports about itself (device id = the gateway id).
GATEWAY_METRICS: Final[dict[str, str]] = {
    "spool_items": "缓存条数", "spool_bytes": "缓存字节", "spool_writable": "缓存可写",
    "spool_dropped_total": "缓存丢弃（合计）", "spool_dropped_readings_total": "丢弃读数",
    "spool_dropped_events_total": "丢弃事件", "spool_dropped_states_total": "丢弃状态",
    "spool_dropped_probes_total": "丢弃抽检", "uplink_connected": "上行连接"}
#: Why ingest refused a message (`dead_letters.code`, ingest/metrics.py DEAD_LETTER_REASONS).
DEAD_LETTERS: Final[dict[str, str]] = {
    "malformed": "格式错误", "malformed_json": "不是有效的 JSON", "too_deep": "嵌套过深",
    "oversize": "消息过大", "unknown_version": "协议版本未知", "topic_mismatch": "主题与内容不符",
    "bad_topic": "主题格式错误", "unknown_gateway": "未登记的网关",
    "items_rejected": "条目被拒（设备未登记到该网关等）", "internal_error": "处理出错",
    "db_rejected": "数据库拒收"}
#: Gateway readings that are yes / no.
GATEWAY_FLAGS: Final[dict[str, tuple[str, str]]] = {
    "spool_writable": ("可写", "不可写（磁盘满或只读）"), "uplink_connected": ("已连接", "断开")}
#: Readings by what they measure (a unit suffix says the unit); the rest keep their code.
METRICS: Final[dict[str, str]] = {
    "power_w": "功率（W）", "energy_import_kwh": "正向有功电能（kWh）",
    "energy_export_kwh": "反向有功电能（kWh）", "energy_total_kwh": "总电能（kWh）",
    "energy_kwh": "电能（kWh）", "voltage_v": "电压（V）", "current_a": "电流（A）",
    "frequency_hz": "频率（Hz）", "on": "开关", "dim_pct": "调光（%）",
    "battery_pct": "电池电量（%）", "temperature_c": "温度（℃）", "tilt_deg": "倾角（°）",
    "water_level_cm": "水位（cm）", "hydrant_pressure_mpa": "消防栓水压（MPa）",
    "residual_current_ma": "剩余电流（mA）", "running": "运行", "door_open": "门开",
    "door_hold": "保持开门", "fire_door_open": "防火门打开", "floor": "楼层",
    "clock_offset_s": "时钟偏差（秒）", "probe_latency_ms": "抽图耗时（毫秒）",
    "power_l1_w": "L1 功率（W）", "power_l2_w": "L2 功率（W）", "power_l3_w": "L3 功率（W）",
    "voltage_l1_v": "L1 电压（V）", "voltage_l2_v": "L2 电压（V）",
    "voltage_l3_v": "L3 电压（V）", "current_l1_a": "L1 电流（A）",
    "current_l2_a": "L2 电流（A）", "current_l3_a": "L3 电流（A）"}
INDICATORS: Final[dict[str, str]] = {
    **INDICATOR_NAMES, "video_networked_time_rate": "联网率（按在线时长）"}
#: Short column heads of the county overview, where 18 indicators share one row.
INDICATOR_SHORT: Final[dict[str, str]] = {
    "smart_lighting_rate": "照明安装率", "video_key_coverage": "关键位置覆盖",
    "video_networked_rate": "联网率", "video_intact_rate": "完好率",
    "video_picture_out_rate": "出图率", "video_record_compliance": "档案合规率",
    "energy_collection_rate": "能源采集率", "smart_charging_compounds": "智能充电",
    "fire_hazard_compounds": "消防隐患识别", "fire_alarm_coverage": "火灾报警覆盖",
    "ebike_elevator_compounds": "电动车进电梯", "highrise_throw_coverage": "高空抛物",
    "access_control_compounds": "出入管理", "perimeter_compounds": "周界防范",
    "elderly_sos_response_rate": "呼叫15分钟响应", "elderly_sos_coverage": "呼叫装置覆盖",
    "video_networked_time_rate": "联网时长率", "lighting_energy_saving": "照明节能率"}


def word(table: dict[str, str], code: str | None, empty: str = "—") -> str:
    """`code` in words from `table`; `empty` for None or "", the code when not listed."""
    if code is None or code == "":
        return empty
    return table.get(code, code)


_KEY_WORDS: Final[dict[str, str]] = {"zone": "防区", "port": "端口", "door": "防火门",
                                      "system_address": "系统地址"}


def alarm_key(key: str | None) -> str:
    """What tells an alarm from another of its device and type (`zone=3` -> 防区 3)."""
    if not key:
        return ""
    name, _, value = key.partition("=")
    return f"{_KEY_WORDS.get(name, name)} {value}" if value else key
