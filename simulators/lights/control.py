"""Run-time control of a running fleet over MQTT, so that a separate process (the demo,
an operator) can silence controllers or raise faults: `{prefix}/_control` with JSON

    {"silence": ["light-001"]}   {"resume": ["light-001"]}
    {"fault": {"light": "light-001", "flag": "lamp", "on": true}}   ("fault" may be a list)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from simulators.lights.model import FLAGS

DEFAULT_PREFIX = "scg-sim/lights"


def control_topic(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}/_control"


@dataclass(frozen=True, slots=True)
class ControlCommand:
    silence: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()
    faults: tuple[tuple[str, str, bool], ...] = ()  # (light, flag, on)


def parse_control(payload: bytes) -> ControlCommand:
    """Decode one control message; ValueError says what is wrong and what is expected."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"control message is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not doc:
        raise ValueError("control message must be a JSON object with silence, resume or fault")
    unknown = set(doc) - {"silence", "resume", "fault"}
    if unknown:
        raise ValueError(f"control message has unknown keys {sorted(unknown)}; "
                         "allowed: silence, resume, fault")
    faults_doc = doc.get("fault", [])
    if isinstance(faults_doc, dict):
        faults_doc = [faults_doc]
    if not isinstance(faults_doc, list):
        raise ValueError("control 'fault' must be an object or a list of objects")
    return ControlCommand(_ids(doc, "silence"), _ids(doc, "resume"),
                          tuple(_fault(f) for f in faults_doc))


def _ids(doc: dict[str, Any], key: str) -> tuple[str, ...]:
    value = doc.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"control {key!r} must be a list of light ids, got {value!r}")
    return tuple(value)


def _fault(f: Any) -> tuple[str, str, bool]:
    if not isinstance(f, dict) or set(f) != {"light", "flag", "on"}:
        raise ValueError(f"control fault must be {{\"light\": id, \"flag\": one of "
                         f"{', '.join(FLAGS)}, \"on\": true|false}}, got {f!r}")
    if not isinstance(f["light"], str) or f["flag"] not in FLAGS or not isinstance(f["on"], bool):
        raise ValueError(f"control fault {f!r}: light must be an id, flag one of "
                         f"{', '.join(FLAGS)}, on true or false")
    return f["light"], f["flag"], f["on"]


async def send_control(host: str, port: int, command: dict[str, Any], *,
                       prefix: str = DEFAULT_PREFIX, username: str | None = None,
                       password: str | None = None, broker_timeout: float = 5.0) -> None:
    """Publish one control message (QoS 1) to a fleet listening on `prefix`."""
    import aiomqtt

    payload = json.dumps(command).encode()
    parse_control(payload)  # refuse here what the fleet would refuse, where the caller sees it
    async with aiomqtt.Client(host, port, username=username, password=password,
                              timeout=broker_timeout) as client:
        await client.publish(control_topic(prefix), payload, qos=1, timeout=broker_timeout)
