"""Passwords: argon2id hashes (argon2-cffi, RFC 9106 parameters), the policy a new password
must meet, and a check that costs the same whether or not the user exists, so that the
time of an answer does not tell which names are accounts."""

from __future__ import annotations

import contextlib
import secrets
from functools import cache
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024

_HASHER: Final = PasswordHasher(type=Type.ID)


class PasswordRefused(ValueError):
    """A new password that does not meet the policy; the message says what it needs."""


def check_policy(password: str) -> None:
    """PasswordRefused unless `password` has 12 to 1024 characters, not all blank."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"the password has {len(password)} characters; it needs at "
                              f"least {MIN_LENGTH} (a few words make a long one easy to "
                              "remember)")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"the password has {len(password)} characters; at most "
                              f"{MAX_LENGTH}")
    if not password.strip():
        raise PasswordRefused("the password is only blanks; choose one with words in it")


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (a PHC string: algorithm, parameters, salt, hash).
    Takes tens of milliseconds of CPU: call it from a worker thread in async code."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash. A missing hash (an unknown user, or an
    account without password) is checked against a decoy so that it takes as long."""
    if stored is None:
        with contextlib.suppress(VerificationError):
            _HASHER.verify(_decoy(), password)
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def random_password() -> str:
    """A password for an account made by a program (the demo's admin): 24 characters from
    an alphabet without look-alikes, about 140 bits."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(24))


@cache
def _decoy() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))
