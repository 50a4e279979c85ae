"""What a local rule is: configuration parsed into a `RuleSpec`, which builds a running `Rule`
that watches the items of some devices and acts only through `Effects`.

Rules never talk to drivers or the spool themselves, so their logic is plain synchronous code
that a test drives with an injected clock, and the way a command reaches a device (an MQTT
publish today, a Modbus coil write later) can change without touching any rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from drivers.base import DeviceSpec
from gateway import configread as cr
from telemetry import Event, Item


class Effects(Protocol):
    """What a rule may do to the world. Both calls return at once and never raise."""

    def record(self, event: Event) -> None:
        """Put `event` on the normal path north (the spool, then the uplink when it is up)."""

    def command(self, device: str, payload: dict[str, Any]) -> None:
        """Ask device `device` to take the named settings in `payload`, e.g.
        `{"door_hold": True}`. Whether it obeyed shows in the device's own readings."""


class Rule(Protocol):
    """A running rule: sees the items of the devices it watches, and is ticked a few times
    a second so that it can act on time passing (timeouts) without any item arriving."""

    name: str

    def watches(self) -> frozenset[str]:
        """Ids of the devices whose items this rule must see."""

    def see(self, item: Item, now: datetime) -> None:
        """One item a driver emitted for a watched device; `now` is the gateway's clock."""

    def tick(self, now: datetime) -> None: ...

    def shift_clock(self, jump: timedelta) -> None:
        """The wall clock jumped by `jump` (an NTP sync on a box without a real-time
        clock): move every stored time with it, so timeouts and latencies stay true."""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """The parts every rule's configuration has. A rule kind derives from it and adds its
    own keys; `path`, `line` and `lines` let later checks point at the config file."""

    name: str
    kind: str
    path: str                                   # "rules[0]"
    line: int | None = field(compare=False)     # of the entry
    lines: Mapping[str, int] = field(compare=False, repr=False)  # of each key

    def where(self, key: str) -> str:
        """`line 41, rules[0].controller`: where a problem with `key` should point."""
        line = self.lines.get(key, self.line)
        return f"{f'line {line}, ' if line else ''}{self.path}.{key}"

    def commands(self) -> tuple[tuple[str, str], ...]:
        """(config key, device id) of each device the rule sends commands to."""
        return ()


#: Parses the keys of one rule entry (already checked against `RuleKind.keys`) into its
#: spec; reports mistakes into the section's problems and returns a spec regardless.
SpecParser = Callable[[cr.Section, str, Mapping[str, DeviceSpec]], RuleSpec]
#: Makes the running rule from its spec (the spec is of the kind's own RuleSpec subclass).
RuleBuilder = Callable[[RuleSpec, Effects], Rule]


@dataclass(frozen=True, slots=True)
class RuleKind:
    """One kind of rule as the config names it: its keys, how to parse them into a spec,
    and how to build the running rule from that spec."""

    name: str
    keys: tuple[str, ...]
    parse: SpecParser
    build: RuleBuilder
    example: str = ""


def device_ref(devices: Mapping[str, DeviceSpec], role: str) -> Callable[[Any], str]:
    """A value parser for a key naming one of this gateway's devices."""
    def parse(value: Any) -> str:
        name = cr.text(value)
        if name not in devices:
            close = difflib.get_close_matches(name, list(devices), n=1)
            hint = f"did you mean {close[0]!r}?" if close else \
                "add it to `devices` or name one of them"
            raise cr.Bad(f"{name!r} is not a device of this gateway (the {role} must be one "
                         f"of the devices listed under `devices`); {hint}")
        return name
    return parse
