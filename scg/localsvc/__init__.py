"""Private mosquitto and PostgreSQL instances as supervised child processes."""

from scg.localsvc.mosquitto import Mosquitto
from scg.localsvc.postgres import PostgresCluster

__all__ = ["Mosquitto", "PostgresCluster"]
