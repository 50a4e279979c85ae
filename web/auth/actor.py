"""The person (or program) behind a request: who, in which role, over which communities,
and how they signed in. Every change the API makes is recorded in `Actor.name`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from web.auth.roles import Role, allows

#: How a request was authenticated: a long-lived API token, a short-lived access token from
#: POST /api/auth/token, or a browser session cookie.
Via = Literal["api", "access", "session"]


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    name: str
    role: Role
    communities: frozenset[str] | None   # None: the whole county
    via: Via
    token_id: int

    @property
    def county_wide(self) -> bool:
        return self.communities is None

    def sees(self, community: str) -> bool:
        return self.communities is None or community in self.communities

    def visible(self, communities: Iterable[str]) -> list[str]:
        return [c for c in communities if self.sees(c)]

    def may(self, permission: str) -> bool:
        return allows(self.role, permission)

    @property
    def scope(self) -> str:
        """The scope in words, for messages: 'the whole county' or 'communities a, b'."""
        if self.communities is None:
            return "the whole county"
        return "community " + ", ".join(sorted(self.communities))
