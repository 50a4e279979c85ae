"""A Sink that records what a driver emits and observes, for driver tests."""

from __future__ import annotations

from drivers.base import Observation
from telemetry import Event, Item, Reading


class RecordingSink:
    def __init__(self) -> None:
        self.items: list[Item] = []
        self.observations: list[Observation] = []

    def emit(self, item: Item) -> None:
        self.items.append(item)

    def observe(self, observation: Observation) -> None:
        self.observations.append(observation)

    def events(self) -> list[Event]:
        return [i for i in self.items if isinstance(i, Event)]

    def readings(self) -> list[Reading]:
        return [i for i in self.items if isinstance(i, Reading)]
