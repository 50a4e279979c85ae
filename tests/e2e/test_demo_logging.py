"""What the demo's processes log when the central broker goes away and comes back: one
WARNING from the gateway when the uplink drops and one line when it is back with the
number of attempts — no ERROR from paho's own logger for the broken socket."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scg.cli import _aiomqtt_closed_socket, _paho_socket_errors
from scg.scenario import CommunityScenario
from scg.stack import Stack


def test_pahos_broken_socket_line_is_dropped_and_its_callback_errors_kept() -> None:
    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("mqtt", logging.ERROR, "client.py", 1, msg, ("x",), None)

    assert not _paho_socket_errors(record("failed to receive on socket: %s"))
    assert not _paho_socket_errors(record("timeout on socket: %s"))
    assert _paho_socket_errors(record("Caught exception in on_message: %s"))


def test_asyncios_error_for_a_late_callback_on_a_closed_socket_is_dropped() -> None:
    def record(msg: str, exc: BaseException) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, "base_events.py", 1, msg, None,
                                 (type(exc), exc, None))

    late = "Exception in callback BaseSelectorEventLoop.add_writer(10, <function cb>)"
    assert not _aiomqtt_closed_socket(record(late, OSError(9, "Bad file descriptor")))
    assert _aiomqtt_closed_socket(record(late, ZeroDivisionError()))
    assert _aiomqtt_closed_socket(record("Exception in callback my_bug()", ValueError()))


@pytest.fixture
def uplink_stack(e2e_root: Path) -> Iterator[Stack]:
    stack = Stack(e2e_root, durable=False, separate_device_broker=True)
    stack.logs.mkdir(parents=True, exist_ok=True)
    stack.broker.start()
    stack.device_broker.start()
    try:
        yield stack
    finally:
        stack.stop_all()


@pytest.mark.integration
@pytest.mark.slow
def test_an_uplink_outage_is_one_warning_and_one_line_when_it_is_back(
        uplink_stack: Stack, e2e_root: Path) -> None:
    stack = uplink_stack
    scenario = CommunityScenario(community="e2e", gateway="e2e-gw1", lights=1, controllers=1)
    _, config = scenario.write(e2e_root / "community", stack.uplink("e2e", "e2e-gw1"),
                               stack.devices())
    stack.start("gateway", "gateway", "run", "--config", str(config))
    up = stack.wait_for_log("gateway", "uplink connected")
    stack.broker.stop()
    stack.wait_for_log("gateway", "is down", after=up)
    time.sleep(3)  # the outage itself: several reconnect attempts (0.2 s doubling to 2 s)
    stack.broker.start()  # the same port: the gateway's reconnect loop finds it again
    back = stack.wait_for_log("gateway", "is back after", after=up, timeout=60)
    during = stack.outputs["gateway"].lines_between(up, back)
    attempts = re.search(r"\((\d+) attempts\)", during[-1])
    assert attempts is not None and int(attempts.group(1)) >= 2, "it retried meanwhile"
    errors = [line for line in during if re.search(r"\bERROR\b|Traceback", line)]
    assert errors == [], "".join(during)
    uplink = [line for line in during if "WARNING" in line and "gateway.uplink" in line]
    assert len(uplink) == 1 and "is down" in uplink[0]
