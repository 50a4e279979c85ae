"""The Chinese name of every event type the drivers, profiles and gateway rules emit, as
one table a reviewer reads line by line against the sources named in each block. The
console shows these names; an alarm or event of a type not listed keeps its code (shown,
never hidden), and a test walks the profiles so that a new type cannot go unnamed.
"""

from __future__ import annotations

from typing import Final

EVENT_TYPES: Final[dict[str, str]] = {
    # drivers/onvif/topics.py: camera conditions from ONVIF event topics
    "tamper": "视频遮挡/破坏",
    "video_loss": "视频信号丢失",
    "motion": "移动侦测",
    # drivers/mqtt/profiles/street_light.yaml, drivers/modbus/profiles/street_light_controller.yaml
    "lamp_fault": "灯具故障",
    "gear_fault": "驱动电源故障",
    "relay_fault": "继电器故障",
    # drivers/mqtt/profiles/sos_button.yaml
    "sos_pressed": "紧急呼叫",
    # drivers/mqtt/profiles/ebike_detector.yaml and gateway/rules/ebike.py
    "ebike_detected": "电动车进电梯",
    "ebike_left": "电动车离开电梯",
    "ebike_lockout": "电梯阻停（电动车）",
    "ebike_lockout_failed": "电梯阻停失败",
    # drivers/mqtt/profiles/fire_hazard_sensor.yaml
    "fire_lane_blocked": "消防通道占用",
    "hydrant_pressure_low": "消防栓水压低",
    "fire_door_open": "防火门打开",
    "electrical_abnormal": "电气设施异常",
    # drivers/mqtt/profiles/perimeter_detector.yaml
    "perimeter_intrusion": "周界入侵",
    # drivers/mqtt/profiles/access_gate.yaml
    "gate_pass": "门禁通行",
    # drivers/mqtt/profiles/throw_detector.yaml
    "object_thrown": "高空抛物",
    # drivers/mqtt/profiles/manhole_cover.yaml
    "manhole_open": "井盖打开",
    "manhole_tilt": "井盖倾斜",
    # drivers/modbus/profiles/ebike_charger_10p.yaml
    "over_temperature": "充电桩过温",
    "smoke": "充电桩烟雾",
    "door_open": "柜门打开",
    "self_test": "自检",
    "charge_stopped": "充电结束",
    "port_fault": "充电端口故障",
    # drivers/modbus/profiles/fire_alarm_gateway.yaml (and GB 26875 components, below)
    "zone_fire": "防区火警",
    "zone_fault": "防区故障",
    "zone_supervisory": "防区监管",
    "zone_disabled": "防区屏蔽",
    "residual_current_high": "剩余电流超限",
    # drivers/gb26875/profiles/fire_alarm_controller.yaml, transmission_device.yaml
    "fire_alarm": "火警",
    "fault": "故障",
    "disabled": "屏蔽",
    "supervisory": "监管",
    "started": "启动",
    "feedback": "反馈",
    "delay": "延时",
    "main_power_fault": "主电故障",
    "backup_power_fault": "备电故障",
    "bus_fault": "总线故障",
    "manual_mode": "手动状态",
    "test_mode": "测试状态",
    "config_changed": "配置改变",
    "reset": "复位",
    "component_started": "部件启动",
    "component_feedback": "部件反馈",
    "component_delay": "部件延时",
    "component_power_fault": "部件电源故障",
    "component_test_mode": "部件测试状态",
    "silence": "消音",
    "manual_alarm": "手动报警",
    "alarm_cleared": "警情消除",
    "confirm": "确认",
    "test": "测试",
    "centre_link_fault": "监控中心通信故障",
    "panel_link_fault": "控制器通信故障",
    "inspection_reply": "查岗应答",
}


def event_name(code: str) -> str:
    """The Chinese name of event type `code`; the code itself when the table lacks it."""
    return EVENT_TYPES.get(code, code)
