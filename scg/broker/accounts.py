"""Broker accounts and what each may publish and read, written as mosquitto's `acl_file`.

A gateway's account is named `{community}/{gateway}`: ids cannot hold '/', so the name
says which community and gateway it speaks for without ambiguity, and no two gateways of
different communities can share one. Its ACL block names both levels literally, because
mosquitto's `pattern` substitution offers only the whole user name or client id, which
cannot be split into two topic levels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from telemetry.topics import PREFIX, STATUS, STREAMS, TopicError, check_id

#: The central ingest service (and the API when it sends commands).
INGEST_USER: Final = "scg-ingest"
#: The device side: simulated (or real) MQTT devices and the gateway's mqtt driver, on
#: the broker the devices talk to.
DEVICES_USER: Final = "devices"
#: Topic prefixes of the device side in the demo and the tests (`scg sim` defaults).
DEVICE_PREFIXES: Final[tuple[str, ...]] = ("scg-sim",)

Access = Literal["read", "write", "readwrite"]


class AccountError(ValueError):
    """A user name that names no account this product knows how to grant."""


@dataclass(frozen=True, slots=True)
class Grant:
    access: Access
    topic: str


@dataclass(frozen=True, slots=True)
class Account:
    """A broker user and the topics it may use; `about` is the ACL comment above it."""

    username: str
    grants: tuple[Grant, ...]
    about: str


def gateway_username(community: str, gateway: str) -> str:
    """The broker user of one gateway: `community/gateway`."""
    check_id(community, "community")
    check_id(gateway, "gateway")
    return f"{community}/{gateway}"


def split_gateway_username(username: str) -> tuple[str, str] | None:
    """(community, gateway) of a gateway user name, or None if it is not one."""
    community, sep, gateway = username.partition("/")
    if not sep:
        return None
    try:
        return check_id(community, "community"), check_id(gateway, "gateway")
    except TopicError:
        return None


def gateway_account(community: str, gateway: str) -> Account:
    """Publish only its own streams and status (not its own commands), read only the
    commands addressed to it."""
    base = f"{PREFIX}/{community}/{gateway}"
    grants = [Grant("write", f"{base}/{stream}") for stream in (*STREAMS, STATUS)]
    grants.append(Grant("read", f"{base}/cmd/#"))
    return Account(gateway_username(community, gateway), tuple(grants),
                   f'Community "{community}", gateway "{gateway}".')


def ingest_account() -> Account:
    return Account(INGEST_USER, (Grant("read", f"{PREFIX}/#"),
                                 Grant("write", f"{PREFIX}/+/+/cmd/#")),
                   "The central ingest service (and the API when it sends commands).")


def device_account(username: str = DEVICES_USER,
                   prefixes: Iterable[str] = DEVICE_PREFIXES) -> Account:
    """The device side: reports and commands under the device prefixes, nothing of scg/."""
    return Account(username, tuple(Grant("readwrite", f"{p}/#") for p in prefixes),
                   "Devices and the gateway's mqtt driver, on the broker the devices use.")


def account_for(username: str) -> Account:
    """The account a user name stands for: `scg-ingest`, `devices`, or `community/gateway`."""
    if username == INGEST_USER:
        return ingest_account()
    if username == DEVICES_USER:
        return device_account()
    ids = split_gateway_username(username)
    if ids is None:
        raise AccountError(f"no account is known for user {username!r}: use {INGEST_USER!r}, "
                           f"{DEVICES_USER!r} or COMMUNITY/GATEWAY (e.g. 'demo/demo-gw1')")
    return gateway_account(*ids)


def acl_text(accounts: Iterable[Account], header: str = "") -> str:
    """mosquitto's acl_file: one `user` block per account, in the order given."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for account in accounts:
        if "\n" in account.username or account.username != account.username.strip():
            raise AccountError(f"user name {account.username!r} cannot be written to an "
                               "ACL: no line breaks or surrounding spaces")
        if lines:
            lines.append("")
        lines.append(f"# {account.about}")
        lines.append(f"user {account.username}")
        lines += [f"topic {g.access} {g.topic}" for g in account.grants]
    return "\n".join(lines) + "\n"
