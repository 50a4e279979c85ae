"""Fixtures of the gateway tests: a fake driver importable as `drivers.fake`."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from gateway_support import FakeDriver, fake_driver_module


@pytest.fixture
def fake_driver(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeDriver]]:
    """Make `drivers.fake` (and `drivers.fake2`) importable; reset its run counters."""
    monkeypatch.setitem(sys.modules, "drivers.fake", fake_driver_module("fake"))
    monkeypatch.setitem(sys.modules, "drivers.fake2", fake_driver_module("fake2"))
    FakeDriver.runs.clear()
    yield FakeDriver
    FakeDriver.runs.clear()
