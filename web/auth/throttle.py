"""Failed sign-ins slow down the next ones, per user name and per client address.

The first few failures cost nothing (people mistype); after that each failure makes the
next attempt wait, doubling from one second up to a quarter of an hour, and an attempt
during the wait is refused (429 with Retry-After) without even checking the password. A
user name gets 5 free failures, an address 20 (several people may sit behind one address).
Failures are forgotten an hour after the last one, a user's at once on a successful
sign-in. The counts live in the database, so every API process applies the same wait.

API tokens are not affected: a program keeps working while someone guesses its user's
password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

Connection = Any  # asyncpg.Connection


@dataclass(frozen=True, slots=True)
class Policy:
    free_per_user: int = 5
    free_per_address: int = 20
    first_wait: timedelta = timedelta(seconds=1)
    longest_wait: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=1)


DEFAULT: Final = Policy()


def keys(user: str, address: str) -> tuple[str, str]:
    return f"user:{user}", f"address:{address}"


async def wait_left(conn: Connection, user: str, address: str) -> float:
    """Seconds before this user name may try again from this address (0: now)."""
    left = await conn.fetchval(
        """SELECT extract(epoch FROM max(wait_until) - now()) FROM login_failures
           WHERE key = ANY($1::text[]) AND wait_until > now()""", list(keys(user, address)))
    return max(0.0, float(left)) if left is not None else 0.0


def wait_after(failures: int, free: int, policy: Policy = DEFAULT) -> timedelta:
    """The wait imposed after `failures` failures of which `free` cost nothing."""
    if failures <= free:
        return timedelta(0)
    wait: timedelta = policy.first_wait * 2 ** min(failures - free - 1, 30)
    return min(wait, policy.longest_wait)


async def failed(conn: Connection, user: str, address: str,
                 policy: Policy = DEFAULT) -> float:
    """Count a failure for both keys; return the wait it imposes (seconds, 0 if none)."""
    longest = timedelta(0)
    user_key, address_key = keys(user, address)
    for key, free in ((user_key, policy.free_per_user),
                      (address_key, policy.free_per_address)):
        count = await conn.fetchval(
            """INSERT INTO login_failures AS f (key, failures, last_failed)
               VALUES ($1, 1, now())
               ON CONFLICT (key) DO UPDATE SET
                   failures = CASE WHEN f.last_failed < now() - $2::interval THEN 1
                                   ELSE f.failures + 1 END,
                   last_failed = now()
               RETURNING failures""", key, policy.forget_after)
        wait = wait_after(count, free, policy)
        await conn.execute(
            """UPDATE login_failures
               SET wait_until = CASE WHEN $2::interval > interval '0' THEN now() + $2 END
               WHERE key = $1""", key, wait)
        longest = max(longest, wait)
    await conn.execute("DELETE FROM login_failures WHERE last_failed < now() - $1::interval",
                       policy.forget_after)
    return longest.total_seconds()


async def succeeded(conn: Connection, user: str) -> None:
    """A correct password: the user's failures are forgotten (the address's are not, or
    one valid account would let a guesser reset them)."""
    await conn.execute("DELETE FROM login_failures WHERE key = $1", keys(user, "")[0])
