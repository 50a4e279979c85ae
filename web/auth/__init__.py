"""People: users with roles scoped to the county or to communities, their passwords
(argon2id), tokens and sessions, the throttle on failed sign-ins, and the one dependency
by which every route says which permission it needs (`require`) or that it is open
(`public`)."""

from web.auth.actor import Actor
from web.auth.deps import public, require

__all__ = ["Actor", "public", "require"]
