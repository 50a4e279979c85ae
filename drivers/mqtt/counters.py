"""Counters that only grow (energy in kWh): a value below the last accepted one is rejected.

A meter's count going down is garbage (a bit flip, a byte-swapped float, another device's
message) far more often than news; but a meter that was replaced or reset really does
start again near zero. So a drop is rejected, and a new, lower count is accepted as a
reset once `CONFIRM` messages in a row agree with it (each at least the one before).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

#: Messages in a row that must agree on a lower count before it is taken as a reset.
CONFIRM: Final = 3


@dataclass(slots=True)
class _Track:
    last: float
    candidates: list[float] = field(default_factory=list)


class Counters:
    """The last accepted value of each counter of each device."""

    def __init__(self, confirm: int = CONFIRM) -> None:
        self.confirm = confirm
        self._tracks: dict[tuple[str, str], _Track] = {}

    def check(self, device: str, metric: str, value: float) -> str | None:
        """None to accept `value` (then remembered); otherwise why it is rejected."""
        key = (device, metric)
        track = self._tracks.get(key)
        if track is None or value >= track.last:
            self._tracks[key] = _Track(value)
            return None
        runs = track.candidates
        if runs and value < runs[-1]:
            runs.clear()
        runs.append(value)
        if len(runs) >= self.confirm:
            self._tracks[key] = _Track(value)
            return None
        return (f"{metric} went down from {track.last:g} to {value:g}, and a counter only "
                f"grows; the reading was rejected (a meter that was reset or replaced is "
                f"believed after {self.confirm} messages in a row agree)")
