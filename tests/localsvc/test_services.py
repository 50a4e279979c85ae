from __future__ import annotations

import socket

from scg.localsvc import Mosquitto, PostgresCluster


def test_broker_fixture_listens_and_stops(broker: Mosquitto) -> None:
    with socket.create_connection(("127.0.0.1", broker.port), timeout=2):
        pass
    broker.stop()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", broker.port)) != 0


def test_database_fixture_gives_an_empty_database(pg_cluster: PostgresCluster,
                                                  database: str) -> None:
    name = database.rsplit("/", 1)[1]
    out = pg_cluster.psql("select current_database(), count(*) from pg_tables "
                          "where schemaname = 'public'", name)
    assert out.strip() == f"{name}|0"
