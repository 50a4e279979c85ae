"""What can happen to a simulated transmission device, in one shape for the story file and
the control channel: a flat mapping with `action` and its arguments.

    {"action": "fire", "panel": 1, "loop": 1, "point": 3}          # a detector goes off
    {"action": "fire", "panel": 1, "loop": 1, "point": 3, "active": false}
    {"action": "reset", "panel": 1}                                  # the panel's reset key
    {"action": "device", "flag": "main_power_fault"}                 # the device's own state
    {"action": "stop"}   {"action": "resume"}   {"action": "disconnect"}

A story is a YAML list of those with `at` (seconds after start, or "90s", "2m"), or
`{every: SECONDS, story: [...]}` to play it again and again. The control channel is one JSON
object per line on a local TCP port; each gets one JSON line back ({"ok": true, ...} or
{"error": "..."}). `status` returns what is abnormal and the link counters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulators.gb26875.config import parse_seconds

Check = Callable[[Any], Any]


def _whole(low: int, high: int) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected a whole number {low}..{high}, got {value!r}")
        return value
    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a name, got {value!r}")
    return value


_PANEL = {"panel": (_whole(0, 255), True)}
_POINT = {**_PANEL, "loop": (_whole(0, 0xFFFF), True), "point": (_whole(0, 0xFFFF), True)}
_ACTIVE = {"active": (_bool, False)}  # not `on`: YAML reads an unquoted on as true
_OPERATOR = {"operator": (_whole(0, 255), False)}

#: action -> {argument: (check, required)}
ACTIONS: dict[str, dict[str, tuple[Check, bool]]] = {
    "fire": {**_POINT, **_ACTIVE},            # 火警
    "fault": {**_POINT, **_ACTIVE},           # 故障
    "shield": {**_POINT, **_ACTIVE},          # 屏蔽
    "supervise": {**_POINT, **_ACTIVE},       # 监管
    "start": {**_POINT, **_ACTIVE},           # 启动
    "feedback": {**_POINT, **_ACTIVE},        # 反馈
    "power_fault": {**_POINT, **_ACTIVE},     # 电源故障 of the component
    "restore": dict(_POINT),              # the point back to normal
    "reset": {**_PANEL, **_OPERATOR},     # 复位
    "silence": {**_PANEL, **_OPERATOR},   # 消音
    "self_test": {**_PANEL, **_OPERATOR},  # 自检
    "manual_alarm": {**_PANEL, **_OPERATOR},  # 手动报警
    "panel_power": {**_PANEL, "which": (_text, True), **_ACTIVE},
    "device": {"flag": (_text, True), **_ACTIVE},
    "device_reset": dict(_OPERATOR),
    "stop": {},        # the device goes quiet: no heartbeat, no reports, no answers
    "resume": {},      # ... and talks again (what happened meanwhile is sent then)
    "disconnect": {},  # drops its connection; it redials with backoff
    "status": {},      # control channel only: what is abnormal, and the counters
}
#: actions that change a point's flag, and which flag
COMPONENT_ACTIONS = {"fire": "fire_alarm", "fault": "fault", "shield": "shielded",
                     "supervise": "supervisory", "start": "started", "feedback": "feedback",
                     "power_fault": "power_fault"}


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    args: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"action": self.name, **self.args}


@dataclass(frozen=True, slots=True)
class Story:
    steps: tuple[tuple[float, Action], ...] = ()
    every: float | None = None


def parse_action(doc: Any, *, where: str, extra: frozenset[str] = frozenset()) -> Action:
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: must be a mapping like {{action: fire, panel: 1, loop: 1, "
                         "point: 3}")
    name = doc.get("action")
    if name not in ACTIONS:
        raise ValueError(f"{where}: action must be one of {', '.join(ACTIONS)}, got {name!r}")
    spec = ACTIONS[name]
    args: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "action" or key in extra:
            continue
        if isinstance(key, bool):
            raise ValueError(f"{where}: a key reads as {key} (YAML takes on/off/yes/no for "
                             "true/false); to turn a state on or off write active: true|false")
        if key not in spec:
            raise ValueError(f"{where}: action {name} has no argument {key!r} (its arguments: "
                             f"{', '.join(spec) or 'none'})")
        try:
            args[key] = spec[key][0](value)
        except ValueError as exc:
            raise ValueError(f"{where}: argument {key} of {name}: {exc}") from None
    missing = [k for k, (_, required) in spec.items() if required and k not in args]
    if missing:
        raise ValueError(f"{where}: action {name} needs {', '.join(missing)}")
    return Action(name, args)


def load_story(path: str | Path) -> Story:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"story {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"story {path}: not valid YAML: {exc}") from None
    return parse_story(doc, source=f"story {path}")


def parse_story(doc: Any, *, source: str = "story") -> Story:
    every = None
    if isinstance(doc, dict):
        if set(map(str, doc)) - {"story", "every"} or "story" not in doc:
            raise ValueError(f"{source}: must be a list of {{at, action, ...}} or "
                             "{every: SECONDS, story: [...]}")
        if doc.get("every") is not None:
            every = parse_seconds(doc["every"], f"{source}: every")
        doc = doc["story"]
    if not isinstance(doc, list):
        raise ValueError(f"{source}: must be a list of {{at, action, ...}} entries")
    steps = []
    for i, entry in enumerate(doc):
        where = f"{source}: entry {i}"
        if not isinstance(entry, dict) or "at" not in entry:
            raise ValueError(f"{where}: needs at (seconds after start), e.g. {{at: 30, action: "
                             "fire, panel: 1, loop: 1, point: 3}")
        action = parse_action(entry, where=where, extra=frozenset({"at"}))
        if action.name == "status":
            raise ValueError(f"{where}: status is for the control channel, not a story")
        at = 0.0 if entry["at"] in (0, "0") else parse_seconds(entry["at"], f"{where}: at")
        steps.append((at, action))
    steps.sort(key=lambda s: s[0])
    if every is not None and steps and steps[-1][0] >= every:
        raise ValueError(f"{source}: every ({every:g} s) must be longer than the last entry's "
                         f"at ({steps[-1][0]:g} s)")
    return Story(tuple(steps), every)


def parse_control_line(line: bytes) -> Action:
    try:
        doc = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"control line is not JSON: {exc}") from None
    return parse_action(doc, where="control")


async def send_control(host: str, port: int, action: dict[str, Any], *,
                       wait: float = 5.0) -> dict[str, Any]:
    """Send one action to a running simulator's control port; its answer."""
    import asyncio

    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), wait)
    try:
        writer.write(json.dumps(action, ensure_ascii=False).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), wait)
    finally:
        writer.close()
    if not line:
        raise ConnectionError(f"the simulator at {host}:{port} closed without answering")
    answer: dict[str, Any] = json.loads(line)
    return answer
