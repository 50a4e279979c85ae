"""Fixtures shared by the whole suite: a private PostgreSQL cluster for the session, a
fresh database per test, and a fresh mosquitto per test (tests stop and restart brokers).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scg.localsvc import Mosquitto, PostgresCluster

# migrated / conn / loaded: fixtures of the central side's tests (tests/support/).
pytest_plugins = ["central_fixtures"]


@pytest.fixture(scope="session")
def scratch_root() -> Iterator[Path]:
    """A world-traversable scratch folder (the postgres OS user must reach its data dir)."""
    root = Path(tempfile.mkdtemp(prefix="scg-test-"))
    os.chmod(root, 0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster(scratch_root: Path) -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(scratch_root / "pg", durable=False)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def database(pg_cluster: PostgresCluster, request: pytest.FixtureRequest) -> str:
    """DSN of an empty database of this test's own (not migrated)."""
    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]
    return pg_cluster.create_database(name)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A mosquitto of this test's own on a free loopback port. It refuses anonymous
    clients: log in with `broker.login(name)` as the role a client plays — "scg-ingest",
    "devices" (topics under scg-sim/), or a gateway "COMMUNITY/GATEWAY" (its account is
    made when first asked for); tests/support/broker_support.py has shortcuts."""
    with Mosquitto(tmp_path / "mosquitto") as mq:
        yield mq
