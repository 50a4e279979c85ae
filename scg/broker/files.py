"""The central broker's password file, ACL and credentials, derived from the inventories.

Every gateway named by a device of an inventory gets an account (`accounts`), plus the
ingest account. Each account's password lives in OUT/credentials/ (0600): it is the
store, so a second run keeps every password and only `rotate` replaces one; a gateway no
longer in any inventory loses its account and its password file, so a decommissioned
box cannot come back with its old password.

    OUT/passwd                                   mosquitto password_file (0600)
    OUT/acl                                      mosquitto acl_file
    OUT/credentials/scg-ingest.password          ingest's password (0600)
    OUT/credentials/scg-ingest.env               SCG_BROKER_USERNAME / _PASSWORD lines
    OUT/credentials/COMMUNITY/GATEWAY.password   the gateway's uplink.password_file
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scg.broker.accounts import (
    INGEST_USER,
    Account,
    acl_text,
    gateway_account,
    gateway_username,
    ingest_account,
)
from scg.broker.passwd import new_password, passwd_text

ACL_HEADER = """\
Written by `scg broker config` from the inventories; re-run it rather than editing.
Each gateway may publish only its own scg/v1/{community}/{gateway}/ streams and status
and read only the commands addressed to it; ingest reads everything."""


class BrokerConfigError(ValueError):
    """The broker configuration cannot be written; the message says what to change."""


@dataclass
class BrokerConfigResult:
    """What a run wrote: every account, and which passwords were new, rotated or kept."""

    out: Path
    accounts: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    #: gateways whose account was removed because no inventory names them any more
    retired: list[str] = field(default_factory=list)

    @property
    def passwd(self) -> Path:
        return self.out / "passwd"

    @property
    def acl(self) -> Path:
        return self.out / "acl"

    def password_file(self, username: str) -> Path:
        return password_path(self.out, username)


def gateways_in_inventories(paths: Sequence[str | Path]) -> list[tuple[str, str]]:
    """(community, gateway) of every gateway a device of these inventory files names."""
    from inventory import InventoryError, load_inventory

    found: set[tuple[str, str]] = set()
    problems: list[str] = []
    for path in paths:
        try:
            inventory = load_inventory(path)
        except InventoryError as exc:
            problems.append(str(exc))
            continue
        found.update((inventory.community.id, d.gateway) for d in inventory.devices
                     if d.gateway)
    if problems:
        raise BrokerConfigError("\n".join(problems))
    return sorted(found)


async def gateways_in_database(conn: Any) -> list[tuple[str, str]]:
    """(community, gateway) of every gateway a registered device names (asyncpg conn)."""
    rows = await conn.fetch("SELECT DISTINCT community, gateway FROM devices "
                            "WHERE gateway IS NOT NULL ORDER BY community, gateway")
    return [(r["community"], r["gateway"]) for r in rows]


def password_path(out: Path, username: str) -> Path:
    """Where the password of `username` is kept under OUT."""
    return out / "credentials" / f"{username}.password"


def resolve_rotation(names: Iterable[str], accounts: Sequence[str]) -> list[str]:
    """The accounts `names` mean: a user name (`demo/demo-gw1`, `scg-ingest`) or a gateway
    id that only one community uses."""
    chosen: list[str] = []
    for name in names:
        if name in accounts:
            chosen.append(name)
            continue
        matches = [a for a in accounts if a.partition("/")[2] == name]
        if len(matches) == 1:
            chosen.append(matches[0])
        elif matches:
            raise BrokerConfigError(f"--rotate {name}: gateway id {name!r} is used in several "
                                    f"communities ({', '.join(matches)}); name one of them")
        else:
            known = ", ".join(accounts) if len(accounts) <= 12 else \
                ", ".join(accounts[:12]) + f", … ({len(accounts)} in all)"
            raise BrokerConfigError(f"--rotate {name}: no such gateway or account in the "
                                    f"inventories; known: {known}")
    return chosen


def write_broker_config(out: Path, gateways: Iterable[tuple[str, str]], *,
                        rotate: Iterable[str] = ()) -> BrokerConfigResult:
    """Write OUT/passwd, OUT/acl and OUT/credentials/ for ingest and `gateways`, keeping
    stored passwords except those of `rotate` (names as `resolve_rotation` reads them)."""
    accounts: list[Account] = [ingest_account()]
    for community, gateway in sorted(set(gateways)):
        try:
            accounts.append(gateway_account(community, gateway))
        except ValueError as exc:
            raise BrokerConfigError(f"gateway {gateway!r} of community {community!r}: {exc}") \
                from None
    names = [a.username for a in accounts]
    to_rotate = set(resolve_rotation(rotate, names))
    result = BrokerConfigResult(out=out, accounts=names)

    out.mkdir(parents=True, exist_ok=True)
    (out / "credentials").mkdir(mode=0o700, exist_ok=True)
    passwords: dict[str, str] = {}
    for name in names:
        stored = _read_password(password_path(out, name))
        if stored is not None and name not in to_rotate:
            passwords[name] = stored
            result.kept.append(name)
            continue
        passwords[name] = new_password()
        (result.rotated if stored is not None else result.created).append(name)
        path = password_path(out, name)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(path, passwords[name] + "\n")

    _write_private(out / "credentials" / f"{INGEST_USER}.env",
                   f"SCG_BROKER_USERNAME={INGEST_USER}\n"
                   f"SCG_BROKER_PASSWORD={passwords[INGEST_USER]}\n")
    result.retired = _retire(out, set(names))
    _write_private(out / "passwd", passwd_text(passwords))
    _write(out / "acl", acl_text(accounts, ACL_HEADER), 0o644)
    return result


def _read_password(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokerConfigError(f"cannot read the stored password {path}: {exc}; fix its "
                                "permissions, or delete it to have a new password made") \
            from None
    if not text or any(c.isspace() for c in text):
        raise BrokerConfigError(f"the stored password {path} is empty or has spaces; "
                                "delete the file to have a new password made")
    return text


def _retire(out: Path, wanted: set[str]) -> list[str]:
    """Remove the password files of gateways no inventory names any more."""
    retired: list[str] = []
    folder = out / "credentials"
    for path in sorted(folder.glob("*/*.password")):
        name = f"{path.parent.name}/{path.name.removesuffix('.password')}"
        if name not in wanted:
            path.unlink()
            retired.append(name)
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
    return retired


def _write_private(path: Path, text: str) -> None:
    _write(path, text, 0o600)


def _write(path: Path, text: str, mode: int) -> None:
    """Replace `path` at once (a reader sees the old or the new file, never half of one),
    created with `mode` from the start so a secret is never readable by others."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["BrokerConfigError", "BrokerConfigResult", "gateway_username",
           "gateways_in_database", "gateways_in_inventories", "password_path",
           "resolve_rotation", "write_broker_config"]
