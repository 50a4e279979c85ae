"""GB 26875 profiles are DATA: `drivers/gb26875/profiles/<name>.yaml` (or a site folder)
says which flag of the standard becomes which scg event, how severe, and how a kind of
panel packs loop and point into the 4-byte component address. The standard's own codes
stay in `tables.py`; a profile only names them.

    name: fire_alarm_controller
    role: system                 # a system (panel) behind a transmission device
    system_type: 1               # its 系统类型标志 (1 火灾报警系统)
    component_address:           # the 4 address bytes, little-endian, split in two
      loop: {byte: 2, size: 2}
      point: {byte: 0, size: 2}
    system_states:               # flag name (tables.SYSTEM_STATE_BITS) -> event
      fire_alarm: {event: fire_alarm, severity: critical}
      normal_operation: {event: test_mode, severity: info, when: clear}
      reset: {event: reset, severity: info, momentary: true, clears: true}
    component_states:            # per component; grouped by zone on the panel
      fire_alarm: {event: zone_fire, severity: critical}
    system_operations:           # operation records: each set flag is a momentary event
      reset: {event: reset, severity: info, clears: true}

A transmission-device profile (`role: transmission_device`) has `device_states` and
`device_operations` instead, and names in `unconfigured_systems` the system profile used
for panels that report through it but are not configured (their events land on the
transmission device, with the system's type and address in the data).

`clears: true` ends every condition the device (and, for a panel, each of its zones) has
raised: after a reset a panel reports again what is still wrong.

`summary_of: [zone_fire]` marks a flag that sums up others: a panel's own fire flag is set
because one of its detectors is in fire, and that detector's zone is already the alarm.
Such a condition is raised at its `severity` only when none of the named conditions is
open (on the same panel; for a transmission device's own flags, on any panel behind it),
and at `warning` otherwise, so one fire is one alarm for the duty officer, at the zone,
while a panel that reports a fire with no detail still raises one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NoReturn

import yaml

from drivers.base import DriverConfigError
from drivers.gb26875.tables import FLAG_TABLES, SYSTEM_TYPES
from telemetry import Severity

PROFILES_DIR: Final = Path(__file__).parent / "profiles"
ROLES: Final = ("system", "transmission_device")
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_EVENT_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SECTIONS: Final = {"system": ("system_states", "component_states", "system_operations"),
                    "transmission_device": ("device_states", "device_operations")}
_OPERATIONS: Final = ("system_operations", "device_operations")
_RULE_KEYS: Final = ("event", "severity", "when", "momentary", "clears", "summary_of")
#: The severity of a summary condition raised while what it sums up is already open.
SUMMARY_SEVERITY: Final = Severity.WARNING

_Fail = Callable[[str, str], NoReturn]


class ProfileError(DriverConfigError):
    """A profile file is unusable; the message names the file, the key and the fix."""


@dataclass(frozen=True, slots=True)
class FlagRule:
    """Flag `flag` (bit `bit`) of a flags field becomes event `event`.

    A condition is active while the flag is set (`when: clear`: while it is clear); a
    momentary rule fires once when the flag becomes set (operation records always do).
    `summary_of`: the events whose open condition makes this one a mere summary."""

    flag: str
    bit: int
    event: str
    severity: Severity
    when_set: bool = True
    momentary: bool = False
    clears: bool = False
    summary_of: tuple[str, ...] = ()

    def active(self, flags: int) -> bool:
        return bool(flags >> self.bit & 1) == self.when_set


@dataclass(frozen=True, slots=True)
class AddressPart:
    byte: int
    size: int

    def read(self, address: int) -> int:
        return address >> (8 * self.byte) & ((1 << (8 * self.size)) - 1)

    def write(self, value: int) -> int:
        return value << (8 * self.byte)

    @property
    def maximum(self) -> int:
        return (1 << (8 * self.size)) - 1


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    role: str
    description: str = ""
    source: str = ""
    system_type: int | None = None
    loop: AddressPart = AddressPart(2, 2)
    point: AddressPart = AddressPart(0, 2)
    rules: dict[str, tuple[FlagRule, ...]] | None = None
    unconfigured_systems: str | None = None

    def section(self, name: str) -> tuple[FlagRule, ...]:
        return (self.rules or {}).get(name, ())

    def split(self, address: int) -> tuple[int, int]:
        """(loop, point) of a 4-byte component address."""
        return self.loop.read(address), self.point.read(address)

    def join(self, loop: int, point: int) -> int:
        return self.loop.write(loop) | self.point.write(point)


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def find_profile(name: str, extra_dirs: Sequence[Path] = ()) -> Profile:
    """Profile `name` from the site folders (first match wins) or the shipped ones."""
    folders = (*extra_dirs, PROFILES_DIR)
    if isinstance(name, str) and _NAME_RE.match(name):
        for folder in folders:
            path = folder / f"{name}.yaml"
            if path.is_file():
                return load_profile(path)
    known = sorted({p.stem for d in folders for p in d.glob("*.yaml")})
    raise ProfileError(f"unknown GB 26875 profile {name!r}; known profiles: "
                       f"{', '.join(known)} (files in {', '.join(map(str, folders))})")


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from None
    return parse_profile(doc, source=str(path), expected_name=path.stem)


def parse_profile(doc: Any, *, source: str, expected_name: str | None = None) -> Profile:
    """Validate a profile already read from YAML; ProfileError names the key and the fix."""
    def fail(key: str, problem: str) -> NoReturn:
        raise ProfileError(f"{source}: {key + ': ' if key else ''}{problem}")

    if not isinstance(doc, dict):
        fail("", f"must be a mapping with name, role and its sections, got "
                 f"{type(doc).__name__}")
    role = doc.get("role")
    if role not in ROLES:
        fail("role", f"must be {' or '.join(ROLES)}, got {role!r}")
    allowed = {"name", "role", "description", "source", *_SECTIONS[role]} | (
        {"system_type", "component_address"} if role == "system"
        else {"unconfigured_systems"})
    unknown = sorted(map(str, set(doc) - allowed))
    if unknown:
        fail("", f"unknown key(s) {', '.join(unknown)} for a {role} profile; allowed: "
                 f"{', '.join(sorted(allowed))}")
    name = doc.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        fail("name", f"{name!r} is not valid; use lower-case letters, digits and '_'")
    if expected_name is not None and name != expected_name:
        fail("name", f"{name!r} differs from the file name {expected_name!r}; make them equal "
                     "(devices select a profile by its file name)")
    for key in ("description", "source"):
        if not isinstance(doc.get(key, ""), str):
            fail(key, "must be text")
    rules = {section: _rules(fail, section, doc.get(section)) for section in _SECTIONS[role]}
    if role == "transmission_device":
        other = doc.get("unconfigured_systems")
        if other is not None and (not isinstance(other, str) or not _NAME_RE.match(other)):
            fail("unconfigured_systems", f"must name a system profile, e.g. "
                                         f"fire_alarm_controller; got {other!r}")
        return Profile(name, role, doc.get("description", ""), doc.get("source", ""),
                       rules=rules, unconfigured_systems=other)
    system_type = doc.get("system_type")
    if isinstance(system_type, bool) or not isinstance(system_type, int) \
            or not 0 <= system_type <= 255:
        fail("system_type", f"must be the 系统类型标志 0..255 of this kind of system (1 for a "
                            f"fire alarm system), got {system_type!r}")
    if system_type not in SYSTEM_TYPES and system_type < 128:
        fail("system_type", f"{system_type} is reserved in GB 26875.3; known: "
                            f"{', '.join(f'{c.code} {c.name}' for c in SYSTEM_TYPES.values())}")
    loop, point = _address(fail, doc.get("component_address"))
    return Profile(name, role, doc.get("description", ""), doc.get("source", ""),
                   system_type, loop, point, rules)


def _rules(fail: _Fail, section: str, doc: Any) -> tuple[FlagRule, ...]:
    if doc is None:
        return ()
    bits = {b.name: b for b in FLAG_TABLES[section]}
    if not isinstance(doc, dict):
        fail(section, f"must map flag names ({', '.join(bits)}) to {{event, severity}}")
    out = []
    for flag, raw in doc.items():
        where = f"{section}.{flag}"
        if flag not in bits:
            fail(where, f"{flag!r} is not a flag of this field; flags: {', '.join(bits)}")
        if not isinstance(raw, dict):
            fail(where, "must be a mapping such as {event: zone_fire, severity: critical}")
        unknown = sorted(map(str, set(raw) - set(_RULE_KEYS)))
        if unknown or (section in _OPERATIONS
                       and {"when", "momentary", "summary_of"} & set(raw)):
            allowed = ("event", "severity", "clears") if section in _OPERATIONS else _RULE_KEYS
            fail(where, f"unknown key(s) {', '.join(unknown or ['when/momentary/summary_of'])}"
                        "; allowed: "
                        f"{', '.join(allowed)}"
                        + (" (an operation is always momentary)" if section in _OPERATIONS
                           else ""))
        event = raw.get("event")
        if not isinstance(event, str) or not _EVENT_RE.match(event):
            fail(f"{where}.event", f"must be an event type in lower-case letters, digits and "
                                   f"'_', got {event!r}")
        try:
            severity = Severity(str(raw.get("severity")))
        except ValueError:
            fail(f"{where}.severity", f"must be one of {', '.join(s.value for s in Severity)}, "
                                      f"got {raw.get('severity')!r}")
        when = raw.get("when", "set")
        if when not in ("set", "clear"):
            fail(f"{where}.when", f"must be set or clear, got {when!r}")
        flags = {k: raw.get(k, False) for k in ("momentary", "clears")}
        for key, value in flags.items():
            if not isinstance(value, bool):
                fail(f"{where}.{key}", f"must be true or false, got {value!r}")
        momentary = flags["momentary"] or section in _OPERATIONS
        if flags["clears"] and not momentary:
            fail(f"{where}.clears", "only a momentary rule (an operation, or momentary: true) "
                                    "can clear conditions")
        summary_of = raw.get("summary_of", [])
        if not isinstance(summary_of, list) or not all(
                isinstance(e, str) and _EVENT_RE.match(e) for e in summary_of):
            fail(f"{where}.summary_of", f"must be a list of event types this flag sums up, "
                                        f"e.g. [zone_fire], got {summary_of!r}")
        if summary_of and momentary:
            fail(f"{where}.summary_of", "only a condition (not momentary) can sum up others")
        out.append(FlagRule(flag, bits[flag].bit, event, severity, when == "set", momentary,
                            flags["clears"], tuple(summary_of)))
    return tuple(out)


def _address(fail: _Fail, doc: Any) -> tuple[AddressPart, AddressPart]:
    if doc is None:
        return AddressPart(2, 2), AddressPart(0, 2)
    if not isinstance(doc, dict) or set(doc) != {"loop", "point"}:
        fail("component_address", "must be {loop: {byte: B, size: N}, point: {byte: B, size: "
                                  "N}} (byte offsets 0..3 in the little-endian address)")
    parts = []
    for key in ("loop", "point"):
        raw = doc[key]
        ok = isinstance(raw, dict) and set(raw) == {"byte", "size"} and all(
            isinstance(raw[k], int) and not isinstance(raw[k], bool) for k in raw)
        if not ok or not 0 <= raw["byte"] <= 3 or not 1 <= raw["size"] <= 4 \
                or raw["byte"] + raw["size"] > 4:
            fail(f"component_address.{key}", f"must be {{byte: 0..3, size: 1..4}} within the "
                                             f"4 address bytes, got {raw!r}")
        parts.append(AddressPart(raw["byte"], raw["size"]))
    loop, point = parts
    if loop.byte < point.byte + point.size and point.byte < loop.byte + loop.size:
        fail("component_address", "loop and point overlap; give each its own bytes")
    return loop, point
