"""Configuration of the `ebike_lift_lockout` rule, validated at load:

    - name: ebike-lockout-north-e1
      kind: ebike_lift_lockout
      detector: lift-cam-north-e1     # device id of the e-bike detector in the lift
      controller: lift-north-e1       # device id of that lift's controller
      confirm: {hits: 2, within: 3s, min_confidence: 0.6}   # ignore single false hits
      release_when: ebike_left        # the detector event that releases the hold
      max_hold: 10m                   # never hold the door longer than this
      command_timeout: 3s             # optional: how long the controller may take to show
                                      # the door held / released before the command is
                                      # sent again and `ebike_lockout_failed` is raised
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from drivers.base import DeviceSpec
from gateway import configread as cr
from gateway.rules.base import RuleSpec, device_ref

KIND = "ebike_lift_lockout"
RELEASE_EVENTS = ("ebike_left",)
KEYS = ("name", "kind", "detector", "controller", "confirm", "release_when", "max_hold",
         "command_timeout")
_CONFIRM = ("hits", "within", "min_confidence")
_MAX_HITS = 100


@dataclass(frozen=True, slots=True)
class EbikeLockoutSpec(RuleSpec):
    detector: str
    controller: str
    hits: int
    within: timedelta
    min_confidence: float
    release_when: str
    max_hold: timedelta
    command_timeout: timedelta

    def commands(self) -> tuple[tuple[str, str], ...]:
        return (("controller", self.controller),)


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise cr.Bad(f"must be a number from 0 to 1 (a detector's confidence), got {value!r}")
    return float(value)


def _release_event(value: Any) -> str:
    if value not in RELEASE_EVENTS:
        raise cr.Bad(f"must be {' or '.join(RELEASE_EVENTS)} (the detector's event that the "
                     f"bike has left the lift), got {value!r}")
    return str(value)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def parse_spec(sec: cr.Section, name: str, devices: Mapping[str, DeviceSpec]) -> RuleSpec:
    """The spec of one `ebike_lift_lockout` entry; problems go to the section's list."""
    detector = sec.required("detector", device_ref(devices, "detector"), "",
                            "lift-cam-north-e1")
    controller = sec.required("controller", device_ref(devices, "controller"), "",
                              "lift-north-e1")
    if detector and detector == controller:
        sec.problems.add(sec.line_of("controller"), sec.key_path("controller"),
                         f"`controller` is the detector itself ({detector!r}); name the "
                         "lift's controller, a device of its own")
    confirm = sec.section("confirm", _CONFIRM, required=True,
                          example="{hits: 2, within: 3s, min_confidence: 0.6}")
    hits = confirm.required("hits", cr.int_between(1, _MAX_HITS), 1, "2")
    within = confirm.required("within", cr.parse_duration, 1.0, "3s")
    min_confidence = confirm.required("min_confidence", _fraction, 1.0, "0.6")
    max_hold = sec.required("max_hold", cr.parse_duration, 600.0, "10m")
    command_timeout = sec.optional("command_timeout", cr.seconds_at_least(0.1), 3.0)
    if command_timeout >= max_hold:
        sec.problems.add(sec.line_of("max_hold"), sec.key_path("max_hold"),
                         f"`max_hold` ({max_hold:g} s) must be longer than `command_timeout` "
                         f"({command_timeout:g} s), or the door is released before the "
                         "controller could confirm the hold; raise max_hold")
    return EbikeLockoutSpec(
        name=name, kind=KIND, path=sec.path, line=sec.line, lines=dict(sec.lines),
        detector=detector, controller=controller, hits=hits, within=_seconds(within),
        min_confidence=min_confidence,
        release_when=sec.optional("release_when", _release_event, RELEASE_EVENTS[0]),
        max_hold=_seconds(max_hold), command_timeout=_seconds(command_timeout))
