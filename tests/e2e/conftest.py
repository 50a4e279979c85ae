from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Community, start_community

from scg.camera_plan import CameraPlan
from scg.field_plan import FieldPlan
from scg.safety_plan import SafetyPlan
from scg.scenario import CommunityScenario


@pytest.fixture
def e2e_root() -> Iterator[Path]:
    # Not pytest's tmp_path: that is private to root, and PostgreSQL runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="scg-e2e-"))
    os.chmod(root, 0o755)
    yield root
    import shutil

    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def hundred_lights(e2e_root: Path) -> Iterator[Community]:
    """100 public lights, 80 with controllers reporting every 0.3 s."""
    yield from start_community(e2e_root, CommunityScenario(
        community="e2e", gateway="e2e-gw1", lights=100, controllers=80, period_s=0.3))


@pytest.fixture
def busy_lights(e2e_root: Path) -> Iterator[Community]:
    """20 controllers reporting every 0.1 s: 200 status messages, 800 readings a second."""
    yield from start_community(e2e_root, CommunityScenario(
        community="e2e", gateway="e2e-gw1", lights=20, controllers=20, period_s=0.1))


@pytest.fixture
def camera_community(e2e_root: Path) -> Iterator[Community]:
    """The 44 cameras of `CameraPlan` (faults from the start), probed every 2 s; no lights."""
    yield from start_community(e2e_root, CommunityScenario(
        community="e2e", gateway="e2e-gw1", lights=0, controllers=0,
        cameras=CameraPlan(period_s=2.0)))


@pytest.fixture
def safety_community(e2e_root: Path) -> Iterator[Community]:
    """The safety devices of `SafetyPlan` (heartbeats every 0.5 s) and 10 busy lights."""
    yield from start_community(e2e_root, CommunityScenario(
        community="e2e", gateway="e2e-gw1", lights=10, controllers=10, period_s=0.2,
        safety=SafetyPlan(period_s=0.5)))


@pytest.fixture
def field_community(e2e_root: Path) -> Iterator[Community]:
    """`FieldPlan`: 400 households (240 Modbus, 160 DL/T 645 meters; 40 silent, 12 garbage),
    a charging station per compound, a fire-alarm gateway per building (east-b2's dead)."""
    yield from start_community(e2e_root, CommunityScenario(
        community="e2e", gateway="e2e-gw1", lights=0, controllers=0,
        field_devices=FieldPlan(dead_panels=("east-b2",))))
