"""The demo's two accounts, made with `scg user` as an operator would make them.

- `admin`: a random password, printed once at the first start and written to
  STATE/admin-password (mode 0600); later starts say where it is and never print it again.
- `duty-officer`: an operator of community `demo` without a password; the simulated duty
  officer acts through an API token of it, kept in STATE/duty-officer.token (0600) and
  handed to it in memory — never on a command line.

No other account exists and no password is a default.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from scg.stack import Stack

ADMIN: Final = "admin"
DUTY_OFFICER: Final = "duty-officer"
COMMUNITY: Final = "demo"


@dataclass(frozen=True)
class DemoAccounts:
    password_file: Path
    password: str | None      # only when made by this start (to print once)
    officer_token: str


def _scg(stack: Stack, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(stack.scg_command(*args), input=stdin, capture_output=True,
                          text=True, env=stack.env(), timeout=120, check=False)


def _add(stack: Stack, *args: str, stdin: str = "") -> bool:
    """Add a user; False when it already exists; RuntimeError on any other failure."""
    done = _scg(stack, "user", "add", *args, stdin=stdin)
    if done.returncode == 0:
        return True
    if "already exists" in done.stderr:
        return False
    raise RuntimeError(f"scg user add {args[0]} failed: {done.stderr.strip()}")


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner may read (created 0600, never wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)


def ensure_accounts(stack: Stack) -> DemoAccounts:
    from web.auth.passwords import random_password

    password_file = stack.state_dir / "admin-password"
    token_file = stack.state_dir / "duty-officer.token"
    password: str | None = random_password()
    if _add(stack, ADMIN, "--role", "admin", "--password-stdin", stdin=f"{password}\n"):
        _write_private(password_file, f"{password}\n")
    else:
        password = None
    made = _add(stack, DUTY_OFFICER, "--role", "operator", "--community", COMMUNITY,
                "--no-password")
    if made or not token_file.exists():
        done = _scg(stack, "user", "token", DUTY_OFFICER, "--expires", "3650d", "--label",
                    "scg demo: the simulated duty officer")
        if done.returncode != 0:
            raise RuntimeError(f"scg user token {DUTY_OFFICER} failed: {done.stderr.strip()}")
        _write_private(token_file, done.stdout.strip() + "\n")
    return DemoAccounts(password_file, password, token_file.read_text().strip())


def describe(accounts: DemoAccounts) -> str:
    """What the demo prints about its accounts."""
    if accounts.password is not None:
        return (f"  sign in     user {ADMIN}, password {accounts.password}\n"
                f"              (shown only now; also in {accounts.password_file}, mode 0600)")
    where = (f"in {accounts.password_file}" if accounts.password_file.exists()
             else f"printed at the first start; set a new one with `scg user passwd {ADMIN}`")
    return f"  sign in     user {ADMIN}, password {where}"
