"""Who may do what, as data: the four roles, the permissions routes ask for, and the few
routes anyone may call. A reviewer checks this table, not the routes one by one; the
routes name a permission (`web.auth.deps.require`) and a test walks them all.

Scope is separate from role: a user sees and acts in the whole county, or only in the
communities listed on the user; a route about one community is checked against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

Role = Literal["admin", "operator", "auditor", "viewer"]
ROLE_NAMES: Final[tuple[Role, ...]] = get_args(Role)

#: What each role is for (README and `scg user add --help` quote this).
ROLES: Final[dict[Role, str]] = {
    "admin": "users, inventory and configuration, and everything an operator may do",
    "operator": "alarms, declared values and device commands, residents' data unmasked "
                "(logged), and what a viewer reads",
    "auditor": "reads everything, the operation log and the audit chain included; changes "
               "nothing",
    "viewer": "indicators, acceptance reports and device health",
}


@dataclass(frozen=True, slots=True)
class Permission:
    name: str
    does: str                     # "acknowledge and close alarms": completes "may not …"
    roles: frozenset[Role]
    changes: bool                 # it writes something (an auditor never may)


_EVERYONE: Final[frozenset[Role]] = frozenset(ROLE_NAMES)
_READERS: Final[frozenset[Role]] = frozenset({"admin", "operator", "auditor"})
_ACTORS: Final[frozenset[Role]] = frozenset({"admin", "operator"})
_ADMIN: Final[frozenset[Role]] = frozenset({"admin"})
_AUDITORS: Final[frozenset[Role]] = frozenset({"admin", "auditor"})

PERMISSIONS: Final[dict[str, Permission]] = {p.name: p for p in (
    Permission("indicators.read", "read indicators, acceptance reports and device health",
               _EVERYONE, changes=False),
    # Each community of the user's scope; alarm counts only for who may read alarms.
    Permission("overview.read", "read the county overview of the communities in scope",
               _EVERYONE, changes=False),
    Permission("alarms.read", "read alarms or follow their stream", _READERS, changes=False),
    Permission("alarms.act", "acknowledge or close alarms", _ACTORS, changes=True),
    Permission("declared.read", "read declared values or their evidence", _READERS,
               changes=False),
    Permission("declared.enter", "enter declared values", _ACTORS, changes=True),
    Permission("devices.command", "send commands to devices", _ACTORS, changes=True),
    # Personal data (residents' names, phones, rooms, contacts): shown masked to readers,
    # whole only to those who answer SOS calls, and every whole read is logged.
    Permission("residents.read", "read the resident register (names, phones and rooms "
               "masked)", _READERS, changes=False),
    Permission("personal.read", "see residents' names, phones and rooms unmasked (each such "
               "read is logged)", _ACTORS, changes=False),
    # Cameras' picture thumbnails show people and places: for those who act on or check a
    # failing camera, not for every viewer of the indicators.
    Permission("pictures.read", "see the thumbnails of cameras' latest pictures", _READERS,
               changes=False),
    Permission("audit.read", "read the operation log or the audit chain",
               _AUDITORS, changes=False),
    Permission("users.manage", "manage users and their tokens", _ADMIN, changes=True),
    Permission("inventory.manage", "import or change inventories", _ADMIN, changes=True),
    Permission("config.manage", "change the configuration", _ADMIN, changes=True),
    Permission("api.docs", "read the API documentation", _EVERYONE, changes=False),
    # Ending one's own session changes no record; everyone signed in may.
    Permission("session.end", "sign out", _EVERYONE, changes=False),
)}

#: Routes anyone may call, and why: `/metrics` carries counts and timings only (no device,
#: community or person is named in it); the sign-in routes must be reachable before signing
#: in, and the docs page's script and style files are public code.
PUBLIC: Final[dict[str, str]] = {
    "/healthz": "load balancers and monitoring probe it without credentials",
    "/metrics": "Prometheus scrapes it without credentials",
    "/login": "the sign-in form",
    "/api/auth/token": "programs exchange a password for a short-lived bearer token",
    "/docs-assets/{name}": "Swagger UI's script and style files (public code)",
    "/static/{name}": "the console's own style sheet, script and icon (no data; the sign-in "
                      "page needs its style before anyone is signed in)",
}


def permission(name: str) -> Permission:
    try:
        return PERMISSIONS[name]
    except KeyError:
        raise ValueError(f"unknown permission {name!r}; known: "
                         f"{', '.join(PERMISSIONS)}") from None


def allows(role: str, name: str) -> bool:
    """Whether `role` holds the permission `name` (scope aside)."""
    return role in permission(name).roles


def permissions_of(role: Role) -> list[str]:
    return [p.name for p in PERMISSIONS.values() if role in p.roles]
