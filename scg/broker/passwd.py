"""mosquitto's password file, written without `mosquitto_passwd`.

mosquitto 2.0 reads `user:$7$ITERATIONS$SALT$HASH`: PBKDF2-HMAC-SHA512 with a 12-byte
salt and a 64-byte hash, both base64. Writing it here lets `scg broker config` run on a
machine without mosquitto installed (the county's config host need not be the broker),
and the tests prove that a real mosquitto accepts what it writes. The passwords are
random 192-bit tokens, so the iteration count (mosquitto's own default) is not what
protects them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Final

ITERATIONS: Final = 101  # what mosquitto_passwd 2.0 writes
_SALT_BYTES: Final = 12
_HASH_BYTES: Final = 64


def new_password() -> str:
    """A random password of 32 URL-safe characters (no ':' or spaces to quote anywhere)."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, *, salt: bytes | None = None,
                  iterations: int = ITERATIONS) -> str:
    """The `$7$…` hash mosquitto 2.0 checks `password` against."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, _HASH_BYTES)
    return (f"$7${iterations}${base64.b64encode(salt).decode()}$"
            f"{base64.b64encode(digest).decode()}")


def verify_password(password: str, hashed: str) -> bool:
    """Whether `password` matches a `$7$` hash (as mosquitto would decide)."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        return False
    salt, digest = base64.b64decode(parts[3]), base64.b64decode(parts[4])
    again = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2]), len(digest))
    return hmac.compare_digest(again, digest)


def passwd_text(passwords: Mapping[str, str]) -> str:
    """The password file for {user: password}, one `user:hash` line each, sorted by user."""
    lines = []
    for user in sorted(passwords):
        if not user or ":" in user or "\n" in user:
            raise ValueError(f"user name {user!r} cannot go in mosquitto's password file "
                             "(it must be non-empty, without ':' or line breaks)")
        lines.append(f"{user}:{hash_password(passwords[user])}")
    return "\n".join(lines) + "\n"
