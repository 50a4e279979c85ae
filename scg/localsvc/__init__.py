"""Private mosquitto and PostgreSQL instances as supervised child processes."""

from scg.localsvc.mosquitto import BrokerLogin, ListenerTls, Mosquitto
from scg.localsvc.postgres import PostgresCluster

__all__ = ["BrokerLogin", "ListenerTls", "Mosquitto", "PostgresCluster"]
