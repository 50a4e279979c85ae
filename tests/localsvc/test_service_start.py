"""Local services start where the demo puts them: under a long state folder, and on
another port when the one picked for them is taken in the meantime."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from scg.localsvc import Mosquitto, PostgresCluster
from scg.localsvc.process import free_port


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other process listens on (as if it won the race after free_port())."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_postgres_runs_under_a_path_longer_than_a_unix_socket_allows(
        scratch_root: Path) -> None:
    deep = scratch_root / ("state-" + "x" * 60) / ("folder-" + "y" * 60) / "pg"
    assert len(str(deep)) > 107
    cluster = PostgresCluster(deep, durable=False)
    try:
        cluster.start()
        assert cluster.psql("select 6 * 7").strip() == "42"
    finally:
        cluster.stop()


def test_postgres_moves_to_another_port_when_its_port_was_taken(
        scratch_root: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    ports = iter([taken_port, free_port()])
    monkeypatch.setattr("scg.localsvc.postgres.free_port", lambda: next(ports))
    cluster = PostgresCluster(scratch_root / "pg-race" / "pg", durable=False)
    try:
        cluster.start()
        assert cluster.port != taken_port
        assert cluster.psql("select 1").strip() == "1"
    finally:
        cluster.stop()


def test_a_port_given_by_the_caller_is_not_changed(scratch_root: Path,
                                                    taken_port: int) -> None:
    cluster = PostgresCluster(scratch_root / "pg-fixed" / "pg", port=taken_port,
                              durable=False)
    with pytest.raises(RuntimeError, match="PostgreSQL exited"):
        cluster.start()
    cluster.stop()


def test_mosquitto_moves_to_another_port_when_its_port_was_taken(
        tmp_path: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    ports = iter([taken_port, free_port()])
    monkeypatch.setattr("scg.localsvc.mosquitto.free_port", lambda: next(ports))
    with Mosquitto(tmp_path / "mq") as broker:
        assert broker.port != taken_port
        with socket.create_connection(("127.0.0.1", broker.port), timeout=2):
            pass


def test_free_ports_lie_below_the_range_outgoing_connections_draw_from() -> None:
    with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
        ephemeral = int(f.read().split()[0])
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == 200, "a process is never handed the same port twice"
    assert all(max(1024, ephemeral // 2) <= p < ephemeral for p in ports)
    for port in ports[:20]:  # free when handed out
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
