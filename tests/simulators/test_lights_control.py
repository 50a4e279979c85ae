"""Control messages steer a fleet from another process; bad ones are refused with a reason."""

from __future__ import annotations

import pytest

from simulators.lights import ControlCommand, parse_control


def test_control_message_carries_silence_resume_and_faults() -> None:
    cmd = parse_control(b'{"silence": ["light-001"], "resume": "light-002", '
                        b'"fault": {"light": "light-003", "flag": "gear", "on": true}}')
    assert cmd == ControlCommand(("light-001",), ("light-002",), (("light-003", "gear", True),))


@pytest.mark.parametrize(("payload", "message"), [
    (b"[]", "must be a JSON object"),
    (b'{"mute": ["light-001"]}', "unknown keys"),
    (b'{"silence": [1]}', "must be a list of light ids"),
    (b'{"fault": {"light": "light-001", "flag": "lamp"}}', "control fault must be"),
])
def test_bad_control_message_is_refused(payload: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_control(payload)
