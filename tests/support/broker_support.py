"""Logging in to the tests' brokers: every broker refuses anonymous clients, so each test
client uses the account of the role it plays (devices, a gateway, ingest)."""

from __future__ import annotations

import os

from scg.localsvc import Mosquitto


def login_args(broker: Mosquitto, username: str = "devices") -> dict[str, str]:
    """username= and password= of `username` on `broker`, for an MQTT client or a fleet."""
    login = broker.login(username)
    return {"username": login.username, "password": login.password}


def login_env(broker: Mosquitto, username: str = "devices") -> dict[str, str]:
    """This process's environment plus SCG_BROKER_USERNAME / SCG_BROKER_PASSWORD of
    `username`, for an `scg` child process."""
    login = broker.login(username)
    return {**os.environ, "SCG_BROKER_USERNAME": login.username,
            "SCG_BROKER_PASSWORD": login.password}
