"""What a transmission device's reports mean for the inventory: system states, component
states, operation records, analog values and the device's own state become events and
readings on the configured panel (or on the transmission device, for a panel nobody
configured), by the profiles' rules.

Conditions are edges: an event when a condition starts or ends, none while it stays. A
panel's component conditions are kept per zone — the zone is what the inventory and the
alarm list know — so a zone is in `zone_fire` while any of its points is, and the clearing
event comes when the last one clears. Another point joining a zone already in alarm is
reported too (active again: the alarm list absorbs it, the history keeps it). A rule that
`clears` (a reset) ends every condition of its device at once. A summary flag (a panel's
or the device's own fire flag, `summary_of` in the profile) raised while what it sums up
is already open is raised as a warning: one fire, one alarm, at the zone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from drivers.gb26875.codec import parse_time_label
from drivers.gb26875.devices import Panel, TransmissionDevice
from drivers.gb26875.profile import SUMMARY_SEVERITY, FlagRule, Profile
from drivers.gb26875.settings import Gb26875Settings
from drivers.gb26875.tables import ANALOG_TYPES, COMPONENT_TYPES, SYSTEM_TYPES, code_name
from drivers.gb26875.units import DataUnit, InfoObject
from telemetry import Event, Item, Reading, Severity

log = logging.getLogger(__name__)

#: Where a condition lives: the device it is reported on, its event type, its zone, and
#: its scope on that device ("device", "system", or a (type, address) of an unconfigured
#: system reporting through the transmission device).
Key = tuple[str, str, int | None, object]
#: Components remembered (last flags, members of open conditions) per transmission device:
#: a real site has thousands; a device sending millions of made-up addresses must not eat
#: the gateway's memory.
MAX_TRACKED = 50_000


@dataclass(slots=True)
class _Condition:
    rule: FlagRule
    raised_at: datetime
    severity: Severity
    members: dict[object, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a system's reports go: the panel, or the transmission device for an unknown
    system (then `scope` names the system and `panel` is None)."""

    device: str
    profile: Profile
    scope: object
    panel: Panel | None
    extra: dict[str, Any]


class Interpreter:
    """Turns the data units of one transmission device into items. Not thread-safe; one
    per transmission device, fed in arrival order."""

    def __init__(self, box: TransmissionDevice, settings: Gb26875Settings) -> None:
        self.box = box
        self.tz = settings.tz
        self.skew = timedelta(seconds=settings.max_clock_skew)
        self._conditions: dict[Key, _Condition] = {}
        self._last_flags: dict[tuple[str, object, object], int] = {}
        #: objects of systems with no profile at all (no fallback configured), per system
        self.ignored: dict[tuple[int, int], int] = {}
        #: analog values of a type the standard does not define
        self.unknown_analog = 0
        self._tracked = 0  # members of open conditions
        self._overflowed = False

    # ------------------------------------------------------------ entry

    def unit(self, unit: DataUnit, received: datetime) -> list[Item]:
        items: list[Item] = []
        for obj in unit.objects:
            handler = _HANDLERS.get(obj.layout)
            if handler is not None:
                handler(self, obj, received, items)
        return items

    def active(self, device: str) -> list[str]:
        """Event types with an open condition on `device` (for diagnostics and tests)."""
        return sorted({k[1] for k in self._conditions if k[0] == device})

    def panel_link_down(self) -> bool:
        """The transmission device says its line to the panels is broken."""
        return any(k[0] == self.box.id and c.rule.flag == "panel_link_fault"
                   for k, c in self._conditions.items())

    # ------------------------------------------------------------ objects

    def _system_state(self, obj: InfoObject, received: datetime, items: list[Item]) -> None:
        target = self._target(obj)
        if target is not None:
            self._flags(target.device, target.scope, None, "system", obj["flags"],
                        target.profile.section("system_states"), self._when(obj, received),
                        dict(target.extra), items)

    def _component_state(self, obj: InfoObject, received: datetime,
                         items: list[Item]) -> None:
        target = self._target(obj)
        if target is None:
            return
        loop, point = target.profile.split(obj["component_address"])
        data: dict[str, Any] = {**target.extra, "loop": loop, "point": point}
        zone = target.panel.zone_of(loop, point) if target.panel else None
        if zone is not None:
            data["zone"] = zone
        detector = target.panel.detectors.get((loop, point)) if target.panel else None
        if detector is not None:
            data["detector"] = detector
        data["component_type"] = obj["component_type"]
        data["component"] = code_name(COMPONENT_TYPES, obj["component_type"])
        if obj["description"]:
            data["description"] = obj["description"]
        when = self._when(obj, received)
        self._device_time(obj, data)
        self._flags(target.device, target.scope, zone, obj["component_address"], obj["flags"],
                    target.profile.section("component_states"), when, data, items)

    def _system_operation(self, obj: InfoObject, received: datetime,
                          items: list[Item]) -> None:
        target = self._target(obj)
        if target is not None:
            self._operations(target.device, target.scope, obj,
                             target.profile.section("system_operations"),
                             self._when(obj, received), dict(target.extra), items)

    def _device_state(self, obj: InfoObject, received: datetime, items: list[Item]) -> None:
        self._flags(self.box.id, "device", None, "device", obj["flags"],
                    self.box.profile.section("device_states"), self._when(obj, received), {},
                    items)

    def _device_operation(self, obj: InfoObject, received: datetime,
                          items: list[Item]) -> None:
        self._operations(self.box.id, "device", obj,
                         self.box.profile.section("device_operations"),
                         self._when(obj, received), {}, items)

    def _analog(self, obj: InfoObject, received: datetime, items: list[Item]) -> None:
        target = self._target(obj)
        kind = ANALOG_TYPES.get(obj["analog_type"])
        if target is None:
            return
        if kind is None:
            self.unknown_analog += 1
            return
        loop, point = target.profile.split(obj["component_address"])
        prefix = "" if target.panel else f"s{obj['system_address']}_"
        items.append(Reading(target.device, f"{prefix}l{loop}p{point}_{kind.metric}",
                             self._when(obj, received), obj["value"] * kind.scale))

    def _clock(self, obj: InfoObject, received: datetime, items: list[Item]) -> None:
        """A device or system time: how far its clock is off, as a reading."""
        told = parse_time_label(obj["time"], self.tz)
        if told is None:
            return
        device = self.box.id
        if "system_type" in obj.fields:
            target = self._target(obj)
            if target is None or target.panel is None:
                return
            device = target.device
        items.append(Reading(device, "clock_offset_s", received,
                             round((told - received).total_seconds(), 3)))

    # ------------------------------------------------------------ rules

    def _flags(self, device: str, scope: object, zone: int | None, member: object, flags: int,
               rules: tuple[FlagRule, ...], when: datetime, data: dict[str, Any],
               items: list[Item]) -> None:
        before = self._last_flags.pop((device, scope, member), None)
        self._last_flags[(device, scope, member)] = flags  # newest last: evicted last
        if len(self._last_flags) > MAX_TRACKED:
            del self._last_flags[next(iter(self._last_flags))]
        # Momentary rules first: a reset in this very report ends the old conditions, and
        # what the same report still shows is raised again below.
        clear = False
        for rule in rules:
            was = before is not None and rule.active(before)
            if rule.momentary and rule.active(flags) and not was:
                items.append(Event(device, rule.event, rule.severity, when, None, dict(data)))
                clear = clear or rule.clears
        if clear:
            self._clear(device, scope, when, items)
        for rule in rules:
            if rule.momentary:
                continue
            key: Key = (device, rule.event, zone, scope)
            condition = self._conditions.get(key)
            if rule.active(flags):
                if condition is not None and member in condition.members:
                    continue  # still so: no news
                if self._tracked >= MAX_TRACKED:
                    self._overflow()
                    continue
                if condition is None:
                    condition = self._conditions[key] = _Condition(
                        rule, when, self._severity(rule, key))
                self._tracked += 1
                condition.members[member] = data
                items.append(Event(device, rule.event, condition.severity, when, True,
                                   dict(data)))
            elif condition is not None and member in condition.members:
                del condition.members[member]
                self._tracked -= 1
                if not condition.members:
                    del self._conditions[key]
                    items.append(Event(device, rule.event, condition.severity,
                                       max(when, condition.raised_at), False, dict(data)))

    def _severity(self, rule: FlagRule, key: Key) -> Severity:
        """The rule's severity, or SUMMARY_SEVERITY when what it sums up is already open:
        on the same device and scope (a panel's zones), or anywhere behind this
        transmission device for the device's own flags."""
        if not rule.summary_of:
            return rule.severity
        device, _, _, scope = key
        for k in self._conditions:
            if k != key and k[1] in rule.summary_of and (
                    scope == "device" or (k[0] == device and k[3] == scope)):
                return SUMMARY_SEVERITY
        return rule.severity

    def _operations(self, device: str, scope: object, obj: InfoObject,
                    rules: tuple[FlagRule, ...], when: datetime, data: dict[str, Any],
                    items: list[Item]) -> None:
        data["operator"] = obj["operator"]
        self._device_time(obj, data)
        clear = False
        for rule in rules:
            if rule.active(obj["flags"]):
                items.append(Event(device, rule.event, rule.severity, when, None, dict(data)))
                clear = clear or rule.clears
        if clear:
            self._clear(device, scope, when, items)

    def _clear(self, device: str, scope: object, when: datetime, items: list[Item]) -> None:
        """End every condition of `device` in `scope` (a reset): the panel re-reports what
        is still wrong, and that raises it again."""
        for key in [k for k in self._conditions if k[0] == device and k[3] == scope]:
            condition = self._conditions.pop(key)
            self._tracked -= len(condition.members)
            last = next(reversed(condition.members.values()), {})
            data = {k: v for k, v in last.items() if k in ("zone", "system_type",
                                                           "system_address")}
            data["cleared_by"] = "reset"
            items.append(Event(device, key[1], condition.severity,
                               max(when, condition.raised_at), False, data))
        # Components forget their last flags (their momentary rules fire again); the
        # system's own flags stay, so a reset bit still set in the next report is no news.
        for flags_key in [k for k in self._last_flags if k[0] == device and k[1] == scope
                          and k[2] not in ("system", "device")]:
            del self._last_flags[flags_key]

    # ------------------------------------------------------------ helpers

    def _overflow(self) -> None:
        if not self._overflowed:
            self._overflowed = True
            log.error("transmission device %s: more than %d components in open conditions; "
                      "further ones are not tracked (is it sending made-up addresses?)",
                      self.box.id, MAX_TRACKED)

    def _target(self, obj: InfoObject) -> _Target | None:
        system = (obj["system_type"], obj["system_address"])
        panel = self.box.panels.get(system)
        if panel is not None:
            return _Target(panel.id, panel.profile, "system", panel, {})
        if self.box.fallback is None:
            self.ignored[system] = self.ignored.get(system, 0) + 1
            if self.ignored[system] == 1:
                log.warning("transmission device %s reports system %d (type %d %s), which no "
                            "device in the config is and its profile has no rules for; "
                            "ignored (logged once)", self.box.id, system[1], system[0],
                            code_name(SYSTEM_TYPES, system[0]))
            return None
        return _Target(self.box.id, self.box.fallback, system, None,
                       {"system_type": system[0], "system_address": system[1],
                        "system": code_name(SYSTEM_TYPES, system[0])})

    def _when(self, obj: InfoObject, received: datetime) -> datetime:
        """The time label when it is believable, else the arrival time. A label ahead of
        arrival is arrival (nothing is reported before it happens)."""
        told = parse_time_label(obj.get("time", b""), self.tz)
        if told is None or abs(told - received) > self.skew:
            return received
        return min(told, received)

    def _device_time(self, obj: InfoObject, data: dict[str, Any]) -> None:
        told = parse_time_label(obj.get("time", b""), self.tz)
        if told is not None:
            data["device_time"] = told.isoformat()


_HANDLERS = {
    "system_state": Interpreter._system_state,
    "component_state": Interpreter._component_state,
    "system_operation": Interpreter._system_operation,
    "analog_value": Interpreter._analog,
    "device_state": Interpreter._device_state,
    "device_operation": Interpreter._device_operation,
    "system_time": Interpreter._clock,
    "device_time": Interpreter._clock,
}
