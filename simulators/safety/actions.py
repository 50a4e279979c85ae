"""What can be done to a running safety fleet, in one shape for the scripted story, the
control topic and the command line: `{action, device, args}` (plus `at` in a story).

    {"action": "press_sos", "device": "sos-001"}
    {"action": "ebike_enters", "device": "lift-cam-1", "args": {"confidence": 0.9}}
    {"action": "silence", "device": ["sos-001", "sos-002"]}

A story is a YAML list of such entries with `at` (seconds after the fleet starts, or
"90s" / "2m"), or `{every: SECONDS, story: [...]}` to play it again and again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulators.safety.config import parse_period
from simulators.safety.model import CREDENTIALS, DIRECTIONS, SUBJECTS

CONTROL_TOPIC = "scg-sim/safety/_control"

Check = Callable[[Any], Any]  # returns the value, or raises ValueError saying what it expected


def _number(lo: float | None = None, hi: float | None = None, *, whole: bool = False,
            what: str = "a number") -> Check:
    def check(value: Any) -> Any:
        ok = (not isinstance(value, bool) and isinstance(value, int | float)
              and math.isfinite(value) and (not whole or isinstance(value, int))
              and (lo is None or value >= lo) and (hi is None or value <= hi))
        if not ok:
            raise ValueError(f"expected {what}, got {value!r}")
        return value
    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _one_of(options: tuple[str, ...]) -> Check:
    def check(value: Any) -> Any:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {value!r}")
        return value
    return check


_FRACTION = _number(0.0, 1.0, what="a confidence 0.0..1.0")

#: action -> (the device kind it needs, None: any kind; {argument: (check, required)})
ACTIONS: dict[str, tuple[str | None, dict[str, tuple[Check, bool]]]] = {
    "ebike_enters": ("ebike_detector", {
        "confidence": (_FRACTION, False),
        "hits": (_number(1, 100, whole=True, what="a whole number 1..100"), False),
        "interval": (_number(0, 60, what="seconds 0..60"), False)}),
    "ebike_leaves": ("ebike_detector", {}),
    "false_hit": ("ebike_detector", {"confidence": (_FRACTION, False)}),
    "door_hold": ("elevator_controller", {"hold": (_bool, False)}),
    "press_sos": ("sos_button", {}),
    "set_battery": ("sos_button", {"pct": (_number(0, 100, what="a percentage"), True)}),
    "set_hazard": ("fire_hazard_sensor", {"alarm": (_bool, False),
                                          "value": (_number(), False)}),
    "intrusion": ("perimeter_detector", {"active": (_bool, False)}),
    "tamper": ("perimeter_detector", {"active": (_bool, False)}),
    "gate_pass": ("access_gate", {"direction": (_one_of(DIRECTIONS), False),
                                  "subject": (_one_of(SUBJECTS), False),
                                  "credential": (_one_of(CREDENTIALS), False)}),
    "throw": ("throw_detector", {"floor": (_number(1, whole=True,
                                                   what="a floor number >= 1"), True)}),
    "tilt": ("manhole_cover", {"degrees": (_number(0, 90, what="degrees 0..90"), True)}),
    "open_cover": ("manhole_cover", {"open": (_bool, False)}),
    "set_water": ("manhole_cover", {"cm": (_number(0, what="centimetres >= 0"), True)}),
    "silence": (None, {}),
    "resume": (None, {}),
}


@dataclass(frozen=True, slots=True)
class Action:
    """One validated thing to do: `name` on `devices` (one, or several for silence/resume)."""

    name: str
    devices: tuple[str, ...]
    args: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        device: str | list[str] = (self.devices[0] if len(self.devices) == 1
                                   else list(self.devices))
        return {"action": self.name, "device": device, "args": dict(self.args)}


@dataclass(frozen=True, slots=True)
class StoryStep:
    at: float
    action: Action


@dataclass(frozen=True, slots=True)
class Story:
    """Steps in time order; with `every`, the whole story starts again every that many s."""

    steps: tuple[StoryStep, ...] = ()
    every: float | None = None


def parse_action(doc: Any, kinds: Mapping[str, str], *, where: str,
                 extra: frozenset[str] = frozenset()) -> Action:
    """Validate one `{action, device, args}` against the fleet's devices (id -> kind)."""
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: must be a mapping like {{action: press_sos, device: "
                         "sos-001}}")
    unknown = sorted(set(map(str, doc)) - {"action", "device", "args"} - extra)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted({'action', 'device', 'args'} | extra))}")
    name = doc.get("action")
    if name not in ACTIONS:
        raise ValueError(f"{where}: action must be one of {', '.join(ACTIONS)}, got {name!r}")
    kind, spec = ACTIONS[name]
    raw = doc.get("device")
    devices = tuple(raw) if isinstance(raw, list) and kind is None else (raw,)
    if not devices or not all(isinstance(d, str) for d in devices):
        several = " or a list of ids" if kind is None else ""
        raise ValueError(f"{where}: device must be a device id{several}, got {raw!r}")
    for d in devices:
        if d not in kinds:
            raise ValueError(f"{where}: device {d!r} is not in the fleet ({_span(kinds)})")
        if kind is not None and kinds[d] != kind:
            raise ValueError(f"{where}: action {name} needs a {kind}, but {d} is of kind "
                             f"{kinds[d]}")
    args = doc.get("args") or {}
    if not isinstance(args, dict):
        raise ValueError(f"{where}: args must be a mapping, got {args!r}")
    checked: dict[str, Any] = {}
    for key, value in args.items():
        if key not in spec:
            allowed = ", ".join(spec) or "none"
            raise ValueError(f"{where}: action {name} has no argument {key!r} "
                             f"(its arguments: {allowed})")
        try:
            checked[key] = spec[key][0](value)
        except ValueError as exc:
            raise ValueError(f"{where}: argument {key} of {name}: {exc}") from None
    missing = [k for k, (_, required) in spec.items() if required and k not in args]
    if missing:
        raise ValueError(f"{where}: action {name} needs argument(s) {', '.join(missing)}")
    return Action(name, devices, checked)


def parse_control(payload: bytes, kinds: Mapping[str, str]) -> list[Action]:
    """A control message (one action or a list of them); ValueError says what is wrong."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"control message is not JSON: {exc}") from None
    docs = doc if isinstance(doc, list) else [doc]
    return [parse_action(d, kinds, where=f"control message, action {i}")
            for i, d in enumerate(docs)]


def load_story(path: str | Path, kinds: Mapping[str, str]) -> Story:
    """Read a story file; ValueError names the file, the entry and the fix."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"story {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"story {path}: not valid YAML: {exc}") from None
    return parse_story(doc, kinds, source=f"story {path}")


def parse_story(doc: Any, kinds: Mapping[str, str], *, source: str = "story") -> Story:
    every = None
    if isinstance(doc, dict):
        unknown = sorted(set(map(str, doc)) - {"story", "every"})
        if unknown or "story" not in doc:
            raise ValueError(f"{source}: must be a list of {{at, action, device, args}} or "
                             "{every: SECONDS, story: [...]}")
        if doc.get("every") is not None:
            every = parse_period(doc["every"], f"{source}: every")
        doc = doc["story"]
    if not isinstance(doc, list):
        raise ValueError(f"{source}: must be a list of {{at, action, device, args}} entries")
    steps = []
    for i, entry in enumerate(doc):
        where = f"{source}: entry {i}"
        if not isinstance(entry, dict) or "at" not in entry:
            raise ValueError(f"{where}: must be a mapping with at, action, device (args "
                             "optional), e.g. {at: 30, action: press_sos, device: sos-001}")
        action = parse_action(entry, kinds, where=where, extra=frozenset({"at"}))
        steps.append(StoryStep(parse_period(entry["at"], f"{where}: at", allow_zero=True), action))
    steps.sort(key=lambda s: s.at)  # stable: entries at the same time keep their order
    if every is not None and steps and steps[-1].at >= every:
        raise ValueError(f"{source}: every ({every:g} s) must be longer than the last entry's "
                         f"at ({steps[-1].at if steps else 0:g} s)")
    return Story(tuple(steps), every)


def _span(kinds: Mapping[str, str]) -> str:
    ids = list(kinds)
    if len(ids) > 4:
        return f"{len(ids)} devices, {ids[0]} … {ids[-1]}"
    return ", ".join(ids) or "no devices"


async def send_control(host: str, port: int, actions: list[dict[str, Any]], *,
                       topic: str = CONTROL_TOPIC, username: str | None = None,
                       password: str | None = None, broker_timeout: float = 5.0) -> None:
    """Publish one control message (QoS 1) to a safety fleet listening on `topic`."""
    import aiomqtt

    payload = json.dumps(actions[0] if len(actions) == 1 else actions).encode()
    async with aiomqtt.Client(host, port, username=username, password=password,
                              timeout=broker_timeout) as client:
        await client.publish(topic, payload, qos=1, timeout=broker_timeout)
