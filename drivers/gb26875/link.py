"""What the centre keeps about one transmission device's link: the connection it is on, when
it was last heard, the serial numbers already handled (a resend is confirmed again but not
reported twice), and the words that explain a silence to whoever reads a panel's state.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

from drivers.gb26875.devices import TransmissionDevice
from drivers.gb26875.interpret import Interpreter

_RECENT = 64  # frames remembered per device to recognise resends


@dataclass(slots=True)
class DeviceLink:
    box: TransmissionDevice
    interpreter: Interpreter
    writer: asyncio.StreamWriter | None = None
    peer: str = ""
    #: when the last frame came (monotonic), None: never since the gateway started
    heard: float | None = None
    started: float = field(default_factory=time.monotonic)
    closed: float | None = None
    #: when silence was last reported as a failure (one per period of silence)
    failed: float | None = None
    frames: int = 0
    duplicates: int = 0
    malformed: int = 0
    connections: int = 0
    crashed: bool = False  # the driver failed on one of its frames (logged once)
    _serial: int = 0
    _recent: deque[tuple[int, bytes]] = field(default_factory=lambda: deque(maxlen=_RECENT))
    _recent_set: set[tuple[int, bytes]] = field(default_factory=set)

    @property
    def id(self) -> str:
        return self.box.id

    @property
    def period(self) -> float:
        return self.box.period

    def next_serial(self) -> int:
        """Serial numbers of the centre's own requests and commands: 1 .. 65535, again."""
        self._serial = self._serial % 0xFFFF + 1
        return self._serial

    def seen_before(self, serial: int, data: bytes) -> bool:
        """True for a frame already handled (the device resent it: our confirm was lost)."""
        key = (serial, data)
        if key in self._recent_set:
            return True
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(key)
        self._recent_set.add(key)
        return False

    def silence_due(self, now: float) -> bool:
        """A whole heartbeat period passed with no frame (and no failure said for it)."""
        since = max(x for x in (self.heard, self.failed, self.started) if x is not None)
        return now - since >= self.period

    def silence_reason(self, now: float) -> str:
        every = f"heartbeat expected every {_human(self.period)}"
        who = f"transmission device {self.id} (address {self.box.address})"
        if self.heard is None:
            return (f"{who} has not reported in the {_human(now - self.started)} since the "
                    f"gateway started ({every})")
        if self.writer is None and self.closed is not None:
            return (f"{who} is disconnected: its connection closed {_human(now - self.closed)}"
                    f" ago and it has not reported since ({every})")
        return f"{who} has been silent for {_human(now - self.heard)} ({every})"


def through(panel: str, reason: str) -> str:
    """A panel's reason, when it is its transmission device that fails."""
    return f"panel {panel} reports through {reason[0].lower()}{reason[1:]}" if reason \
        else f"panel {panel}: its transmission device is not heard"


def _human(seconds: float) -> str:
    if seconds >= 7200:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 120:
        return f"{seconds / 60:.3g} min"
    if seconds >= 10:
        return f"{seconds:.0f} s"
    return f"{seconds:.2g} s"
