"""The state of a simulated transmission device and its panels, and the reports a change
makes: a detector going into fire sends its component state and, when the panel as a whole
changes, the panel's system state, as a real panel does.

Every method returns the data units (payloads of send-data frames) to send, in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulators.gb26875 import wire
from simulators.gb26875.config import Detector, PanelSpec, SimConfig

NORMAL = 1  # bit 0 set: normal running (clear: test mode)
#: Component flags a panel reset clears; faults, shielding and power stay until mended.
LATCHED = ("fire_alarm", "supervisory", "started", "feedback", "delay")
#: Component flags that also show on the panel's system state.
ROLLED_UP = ("fire_alarm", "fault", "shielded", "supervisory", "started", "feedback", "delay")
PANEL_POWER = ("main_power_fault", "backup_power_fault", "bus_fault")
COMPONENT_FLAGS = ("fire_alarm", "fault", "shielded", "supervisory", "started", "feedback",
                   "delay", "power_fault")


def bit(name: str) -> int:
    return 1 << wire.STATE_BITS[name]


class PanelState:
    def __init__(self, spec: PanelSpec) -> None:
        self.spec = spec
        self.detectors: dict[tuple[int, int], Detector] = {
            (d.loop, d.point): d for d in spec.detectors}
        self.flags: dict[tuple[int, int], int] = dict.fromkeys(self.detectors, NORMAL)
        self.power = 0  # main / backup / bus fault bits of the panel itself

    def detector(self, loop: int, point: int) -> Detector:
        found = self.detectors.get((loop, point))
        if found is None:
            raise ValueError(f"panel {self.spec.address} has no detector at loop {loop} point "
                             f"{point}")
        return found

    def system_flags(self) -> int:
        flags = NORMAL | self.power
        for name in ROLLED_UP:
            if any(f & bit(name) for f in self.flags.values()):
                flags |= bit(name)
        return flags


class DeviceModel:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.panels = {p.address: PanelState(p) for p in config.panels}
        self.flags = NORMAL  # the transmission device's own running state

    def panel(self, address: int) -> PanelState:
        self.config.panel(address)  # ValueError naming the panels
        return self.panels[address]

    # ------------------------------------------------------------ reports

    def component_report(self, panel: PanelState, d: Detector, at: bytes) -> bytes:
        return wire.unit(wire.COMPONENT_STATE, [wire.component_state(
            panel.spec.system_type, panel.spec.address, d.type, d.address,
            panel.flags[(d.loop, d.point)], d.description, at)])

    def system_report(self, panel: PanelState, at: bytes, extra: int = 0) -> bytes:
        return wire.unit(wire.SYSTEM_STATE, [wire.system_state(
            panel.spec.system_type, panel.spec.address, panel.system_flags() | extra, at)])

    def device_report(self, at: bytes) -> bytes:
        return wire.unit(wire.DEVICE_STATE, [wire.device_state(self.flags, at)])

    # ------------------------------------------------------------ changes

    def set_component(self, address: int, loop: int, point: int, flag: str, on: bool,
                      at: bytes) -> list[bytes]:
        if flag not in COMPONENT_FLAGS:
            raise ValueError(f"component flag must be one of {', '.join(COMPONENT_FLAGS)}, "
                             f"got {flag!r}")
        panel = self.panel(address)
        d = panel.detector(loop, point)
        before = panel.system_flags()
        key = (loop, point)
        panel.flags[key] = panel.flags[key] | bit(flag) if on else panel.flags[key] & ~bit(flag)
        out = [self.component_report(panel, d, at)]
        if panel.system_flags() != before:
            out.append(self.system_report(panel, at))
        return out

    def restore(self, address: int, loop: int, point: int, at: bytes) -> list[bytes]:
        panel = self.panel(address)
        d = panel.detector(loop, point)
        before = panel.system_flags()
        panel.flags[(loop, point)] = NORMAL
        out = [self.component_report(panel, d, at)]
        if panel.system_flags() != before:
            out.append(self.system_report(panel, at))
        return out

    def operation(self, address: int, name: str, at: bytes, operator: int = 1) -> list[bytes]:
        """An operation on a panel's keyboard (reset, silence, self_test ...). A reset
        clears latched states, then the panel reports what is still abnormal."""
        panel = self.panel(address)
        flags = 1 << wire.OPERATION_BITS[name]
        out = [wire.unit(wire.SYSTEM_OPERATION, [wire.system_operation(
            panel.spec.system_type, panel.spec.address, flags, operator, at)])]
        if name != "reset":
            return out
        latched = sum(bit(n) for n in LATCHED)
        for key in panel.flags:
            panel.flags[key] &= ~latched
        for key, value in sorted(panel.flags.items()):
            if value != NORMAL:
                out.append(self.component_report(panel, panel.detectors[key], at))
        out.append(self.system_report(panel, at))
        return out

    def set_panel_power(self, address: int, which: str, on: bool, at: bytes) -> list[bytes]:
        if which not in PANEL_POWER:
            raise ValueError(f"which must be one of {', '.join(PANEL_POWER)}, got {which!r}")
        panel = self.panel(address)
        panel.power = panel.power | bit(which) if on else panel.power & ~bit(which)
        return [self.system_report(panel, at)]

    def set_device(self, flag: str, on: bool, at: bytes) -> list[bytes]:
        if flag not in wire.DEVICE_BITS or flag == "normal":
            raise ValueError(f"device flag must be one of "
                             f"{', '.join(f for f in wire.DEVICE_BITS if f != 'normal')}, got "
                             f"{flag!r}")
        mask = 1 << wire.DEVICE_BITS[flag]
        self.flags = self.flags | mask if on else self.flags & ~mask
        return [self.device_report(at)]

    def device_operation(self, name: str, at: bytes, operator: int = 1) -> list[bytes]:
        flags = 1 << wire.OPERATION_BITS[name]
        return [wire.unit(wire.DEVICE_OPERATION, [wire.device_operation(flags, operator, at)])]

    # ------------------------------------------------------------ what the centre reads

    def answer(self, type_flag: int, objects: bytes, at: bytes) -> bytes | None:
        """The data unit answering a read (request), or None when it cannot be answered."""
        if type_flag == wire.READ_DEVICE_STATE:
            return wire.unit(type_flag, [wire.device_state(self.flags, at)])
        if type_flag == wire.READ_SYSTEM_STATE and len(objects) == 2:
            panel = self.panels.get(objects[1])
            if panel is None or panel.spec.system_type != objects[0]:
                return None
            return wire.unit(type_flag, [wire.system_state(
                panel.spec.system_type, panel.spec.address, panel.system_flags(), at)])
        if type_flag == wire.READ_COMPONENT_STATE and len(objects) == 6:
            panel = self.panels.get(objects[1])
            component = int.from_bytes(objects[2:6], "little")
            if panel is None:
                return None
            key = (component >> 16, component & 0xFFFF)
            if key not in panel.detectors:
                return None
            # The same object as an upload, under the read's type flag.
            report = self.component_report(panel, panel.detectors[key], at)
            return wire.unit(type_flag, [report[2:]])
        return None

    def snapshot(self) -> dict[str, Any]:
        """What is abnormal now, for the control channel's `status`."""
        out: dict[str, Any] = {"device_flags": self.flags, "panels": {}}
        for address, panel in self.panels.items():
            abnormal = {f"{k[0]}-{k[1]}": [n for n in COMPONENT_FLAGS if v & bit(n)]
                        for k, v in panel.flags.items() if v != NORMAL}
            out["panels"][str(address)] = {"system_flags": panel.system_flags(),
                                           "abnormal": abnormal}
        return out


def now_label(now: datetime, config: SimConfig) -> bytes:
    return wire.stamp(now, config.tz)
