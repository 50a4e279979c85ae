"""The one mechanism by which a route says who may call it.

Every route declares either `require(PERMISSION)` — as a dependency, or as the parameter
that hands it the `Actor` — or `public(WHY)`; `route_table(app)` lists what each route
declares, and a test fails on any route with neither. `require`:

1. authenticates: a bearer token (`Authorization: Bearer …`: an API token or a
   short-lived access token), else the browser's session cookie. Nobody signed in: 401
   with `WWW-Authenticate: Bearer`, or, for a page, a redirect to /login;
2. checks the CSRF token of an unsafe request signed in by cookie (`web.auth.csrf`);
3. checks the role against the permissions table (`web.auth.roles`): 403;
4. checks the community of the route's `community_id` path parameter against the user's
   scope: 403. Routes that reach a community through something else (an alarm, an
   evidence file) check it themselves with `Actor.sees`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import OAuth2PasswordBearer
from starlette.routing import BaseRoute

from web.auth import csrf, tokens
from web.auth.actor import Actor
from web.auth.roles import PERMISSIONS, ROLE_NAMES, Permission, permission

SESSION_COOKIE: Final = "scg_session"
#: Where a person lands after signing in when no page asked for it: the console's overview.
LANDING: Final = "/overview"

bearer_scheme: Final = OAuth2PasswordBearer(
    tokenUrl="/api/auth/token", auto_error=False, scheme_name="bearer",
    description="A short-lived token from POST /api/auth/token (user name and password), "
                "or a long-lived API token from `scg user token NAME`. Pages also accept "
                "the session cookie of /login.")

NOT_SIGNED_IN: Final = (
    "sign in first: send `Authorization: Bearer <token>` with a token from POST "
    "/api/auth/token (user name and password) or from `scg user token NAME`, or sign in "
    "at /login in a browser")
BAD_TOKEN: Final = ("the bearer token is not valid: unknown, expired or revoked, or its user "
                    "is disabled; get a new one from POST /api/auth/token or `scg user token`")
BAD_CSRF: Final = ("the form's CSRF token is missing or wrong: reload the page and send the "
                   "form again (a program should use a bearer token, not the session cookie)")


class LoginRequired(Exception):
    """A page asked for by someone not signed in: answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def forbidden(message: str) -> HTTPException:
    return HTTPException(403, message)


class Requirement:
    """The dependency of a route that needs a signed-in user holding `permission`."""

    def __init__(self, name: str, *, page: bool = False) -> None:
        self.permission: Permission = permission(name)
        self.page = page

    def __repr__(self) -> str:
        return f"require({self.permission.name!r}{', page=True' if self.page else ''})"

    async def __call__(self, request: Request,
                       bearer: Annotated[str | None, Depends(bearer_scheme)]) -> Actor:
        actor = await signed_in(request, bearer)
        if actor is None:
            if self.page:
                raise LoginRequired(_next_url(request))
            raise unauthorized(NOT_SIGNED_IN)
        if actor.via == "session" and request.method not in csrf.SAFE_METHODS:
            expected = getattr(request.state, "csrf_token", "")
            if not csrf.same(expected, await csrf.sent_token(request)):
                raise forbidden(BAD_CSRF)
        wanted = self.permission
        if actor.role not in wanted.roles:
            holders = " or ".join(r for r in ROLE_NAMES if r in wanted.roles)
            raise forbidden(f"user {actor.name!r} ({actor.role}) may not {wanted.does}; that "
                            f"needs the role {holders}")
        community = request.path_params.get("community_id")
        if community is not None and not actor.sees(community):
            raise forbidden(out_of_scope(actor, f"community {community!r}"))
        return actor


def out_of_scope(actor: Actor, what: str) -> str:
    return (f"user {actor.name!r} may see and act only in {actor.scope}, not in {what}; ask "
            "an admin for access to it")


class Public:
    """The dependency of a route anyone may call; `why` says why it is open."""

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return f"public({self.why!r})"

    async def __call__(self) -> None:
        return None


def require(name: str, *, page: bool = False) -> Requirement:
    """`Depends(require("alarms.act"))`: the route needs a user holding that permission;
    the dependency's value is the `Actor`. `page=True`: redirect to /login instead of 401."""
    return Requirement(name, page=page)


def public(why: str) -> Public:
    return Public(why)


async def signed_in(request: Request, bearer: str | None) -> Actor | None:
    """The actor of the request's bearer token, else of its session cookie; None when it
    carries neither (401 for a bearer token that is not valid)."""
    pool = request.app.state.pool
    if bearer:
        async with pool.acquire() as conn:
            actor = await tokens.authenticate(conn, bearer, ("api", "access"))
        if actor is None:
            raise unauthorized(BAD_TOKEN)
    else:
        session = request.cookies.get(SESSION_COOKIE)
        if not session:
            return None
        async with pool.acquire() as conn:
            actor = await tokens.authenticate(conn, session, ("session",))
        if actor is None:
            return None   # an expired session: sign in again
        request.state.csrf_token = csrf.for_session(session)
    request.state.actor = actor
    return actor


def _next_url(request: Request) -> str:
    if request.method in csrf.SAFE_METHODS:
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return LANDING


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in; anything else (another site, `//host`)
    becomes the landing page."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return LANDING
    return target


def declared_access(dependant: Dependant) -> Requirement | Public | None:
    """The requirement or public marker in a route's dependencies (None: it declares
    nothing)."""
    pending: list[Dependant] = [dependant]
    while pending:
        current = pending.pop()
        if isinstance(current.call, Requirement | Public):
            return current.call
        pending.extend(current.dependencies)
    return None


@dataclass(frozen=True, slots=True)
class DeclaredRoute:
    path: str                    # as served, router prefixes included
    methods: frozenset[str]
    access: Requirement | Public | None
    route: BaseRoute


def route_table(app: FastAPI) -> list[DeclaredRoute]:
    """Every route of `app`, included routers flattened, with what it declares (a route
    that is not an APIRoute, e.g. a mount, cannot declare anything: access None)."""
    out = []
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        dependant = getattr(context, "dependant", None)
        access = (declared_access(dependant)
                  if isinstance(original, APIRoute) and isinstance(dependant, Dependant)
                  else None)
        out.append(DeclaredRoute(str(context.path), frozenset(context.methods or ()),
                                 access, original))
    return out


def install(app: FastAPI) -> None:
    """Answer LoginRequired with a redirect to the sign-in page."""

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", 303)

__all__ = ["PERMISSIONS", "Actor", "DeclaredRoute", "LoginRequired", "Public", "Requirement",
           "declared_access", "public", "require", "route_table", "safe_next", "signed_in"]
