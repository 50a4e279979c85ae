"""A PostgreSQL server that preloads TimescaleDB, for tests that compare the two storage
paths; every fixture here skips, with the reason, where the extension is not installed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from scg.localsvc import PostgresCluster

#: The server settings TimescaleDB needs; telemetry off: these servers must not phone home.
PRELOAD = {"shared_preload_libraries": "timescaledb", "timescaledb.telemetry_level": "off"}
NOT_INSTALLED = ("the timescaledb extension is not installed on this PostgreSQL server (not in "
                 "pg_available_extensions); the plain-PostgreSQL path is tested on its own")


def timescaledb_installed(cluster: PostgresCluster) -> bool:
    return cluster.psql("SELECT count(*) FROM pg_available_extensions "
                        "WHERE name = 'timescaledb'").strip() == "1"


@pytest.fixture(scope="module")
def timescale_server(pg_cluster: PostgresCluster,
                     scratch_root: Path, request: pytest.FixtureRequest
                     ) -> Iterator[PostgresCluster]:
    """A server of this test module's own that preloads TimescaleDB (skips without it)."""
    if not timescaledb_installed(pg_cluster):
        pytest.skip(NOT_INSTALLED)
    name = "pg-ts-" + re.sub(r"[^a-z0-9]+", "-", request.module.__name__.lower())[-40:]
    cluster = PostgresCluster(scratch_root / name, durable=False, settings=PRELOAD)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def ts_database(timescale_server: PostgresCluster, request: pytest.FixtureRequest) -> str:
    """DSN of an empty database of this test's own on the TimescaleDB server."""
    name = "ts_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]
    return timescale_server.create_database(name)
