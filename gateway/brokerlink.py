"""Opening the uplink's connection to the central broker, and saying why it failed.

A broker that refuses the gateway's client certificate under TLS 1.3 does so only after
the handshake: paho logs the alert and closes the socket, while aiomqtt keeps waiting for
a CONNACK until its timeout and then reports only that. `PahoLines` keeps paho's last
error, and `connect` gives up as soon as one arrives before the CONNACK, so the gateway
says at once which setting to change instead of "Operation timed out" ten seconds later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from gateway.uplinkconfig import TLS_NAMES, UplinkConfig
from telemetry.tls import explain_failure

_LOGIN_REFUSED = (134, 135)  # CONNACK: bad user name or password, not authorised


class BrokerRefused(Exception):
    """The broker closed the connection before accepting it; the message says why."""


class PahoLines(logging.Logger):
    """The logger aiomqtt hands to paho: every line goes on to the "mqtt" logger as
    before (and its filters), and the last error paho reported is kept."""

    def __init__(self) -> None:
        super().__init__("mqtt")
        self.last_error: str | None = None
        #: called (from any thread) when paho reports an error
        self.on_error: Callable[[], None] | None = None
        self._target = logging.getLogger("mqtt")

    def isEnabledFor(self, level: int) -> bool:
        return level >= logging.ERROR or self._target.isEnabledFor(level)

    def handle(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.last_error = record.getMessage()
            if self.on_error is not None:
                self.on_error()
        if self._target.isEnabledFor(record.levelno):
            self._target.handle(record)


async def connect(stack: contextlib.AsyncExitStack, client: aiomqtt.Client,
                  lines: PahoLines) -> None:
    """Enter `client` on `stack` (so the stack disconnects it); raise BrokerRefused as soon
    as paho reports the connection broken before the broker accepted it."""
    loop = asyncio.get_running_loop()
    broken = asyncio.Event()
    lines.last_error = None

    def report() -> None:
        loop.call_soon_threadsafe(broken.set)

    lines.on_error = report
    entering = asyncio.ensure_future(stack.enter_async_context(client))
    watching = asyncio.ensure_future(broken.wait())
    try:
        await asyncio.wait({entering, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        lines.on_error = None
        watching.cancel()
        if not entering.done():
            entering.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await entering
    if entering.cancelled():
        raise BrokerRefused(lines.last_error or "the broker closed the connection")
    entering.result()  # the MqttError of a refused or failed connection, if any


def explain(exc: Exception, settings: UplinkConfig, lines: PahoLines) -> str:
    """Why a connection failed, naming the setting to change where that is known."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiomqtt.MqttCodeError) and isinstance(exc.rc, ReasonCode) \
            and exc.rc.packetType == PacketTypes.CONNACK and exc.rc.value in _LOGIN_REFUSED:
        if settings.username is None:
            return (f"the broker refused an anonymous login ({message}): set uplink.username "
                    "and uplink.password_file to this gateway's broker account")
        return (f"the broker refused the login of user {settings.username!r} ({message}): "
                "check uplink.username and the password (uplink.password_file) against "
                "the broker's account for this gateway (`scg broker config`)")
    if settings.tls is not None:
        for text in (lines.last_error, message):
            hint = explain_failure(text or "", TLS_NAMES)
            if hint is not None:
                return hint
    return message
