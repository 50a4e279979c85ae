"""Every route of the application says who may call it, only the routes the permissions
table lists are open, and an anonymous request to any other gets 401 (a program) or is sent
to /login (a page) — before its body or parameters are even looked at."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from ingest_support import client_for

from web import create_app
from web.auth.deps import NOT_SIGNED_IN, DeclaredRoute, Public, Requirement, route_table
from web.auth.roles import PERMISSIONS, PUBLIC, ROLE_NAMES, allows

APP = create_app("postgresql://route-table-only/")
#: A value for each path parameter of the routes (the route need not find anything).
SAMPLE = {"community_id": "demo", "alarm_id": "1", "row_id": "growth-01", "sha256": "0" * 64,
          "name": "swagger-ui.css", "device_id": "cam-01", "gateway_id": "demo-gw1",
          "indicator_id": "smart_lighting_rate"}


def routes(app: FastAPI) -> list[DeclaredRoute]:
    return route_table(app)


def concrete(path: str) -> str:
    for name, value in SAMPLE.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no sample value for a parameter of {path}"
    return path


def undeclared(app: FastAPI) -> list[str]:
    """Routes that declare neither a requirement nor that they are public."""
    return [f"{sorted(r.methods)} {r.path} ({type(r.route).__name__})"
            for r in routes(app) if r.access is None]


def test_every_route_declares_who_may_call_it() -> None:
    assert len(routes(APP)) >= 27
    assert undeclared(APP) == []


def test_the_walk_finds_a_route_that_declares_nothing() -> None:
    app = create_app("postgresql://route-table-only/")

    @app.get("/api/forgotten")
    async def forgotten() -> dict[str, str]:
        return {}

    app.mount("/static", FastAPI())
    assert undeclared(app) == ["['GET'] /api/forgotten (APIRoute)", "[] /static (Mount)"]


def test_only_the_routes_the_table_lists_are_public() -> None:
    public = {r.path for r in routes(APP) if isinstance(r.access, Public)}
    assert public == {"/healthz", "/metrics", "/login", "/api/auth/token",
                      "/docs-assets/{name}", "/static/{name}"}
    assert public == set(PUBLIC)


def test_an_auditor_may_change_nothing_and_a_viewer_only_reads_indicators() -> None:
    assert [p.name for p in PERMISSIONS.values() if p.changes and allows("auditor", p.name)] \
        == []
    assert [p.name for p in PERMISSIONS.values() if allows("viewer", p.name)] == [
        "indicators.read", "overview.read", "api.docs", "session.end"]
    assert all(allows("admin", name) for name in PERMISSIONS)
    assert ROLE_NAMES == ("admin", "operator", "auditor", "viewer")


def test_the_routes_ask_for_the_permissions_of_their_purpose() -> None:
    asked = {(m, r.path): r.access for r in routes(APP) for m in r.methods}
    wanted = {
        ("POST", "/api/alarms/{alarm_id}/acknowledge"): "alarms.act",
        ("POST", "/api/alarms/{alarm_id}/close"): "alarms.act",
        ("GET", "/api/communities/{community_id}/alarms"): "alarms.read",
        ("GET", "/api/communities/{community_id}/alarms/stream"): "alarms.read",
        ("POST", "/api/communities/{community_id}/declared/{row_id}"): "declared.enter",
        ("POST", "/communities/{community_id}/declared/{row_id}"): "declared.enter",
        ("GET", "/api/evidence/{sha256}"): "declared.read",
        ("GET", "/api/communities/{community_id}/indicators"): "indicators.read",
        ("GET", "/communities/{community_id}/acceptance.html"): "indicators.read",
        ("GET", "/openapi.json"): "api.docs",
    }
    for key, name in wanted.items():
        access = asked[key]
        assert isinstance(access, Requirement) and access.permission.name == name, key


@pytest.mark.asyncio
async def test_anonymous_requests_get_401_or_are_sent_to_sign_in(migrated: str) -> None:
    checked = 0
    async for client in client_for(migrated, user=None):
        for route in routes(APP):
            access = route.access
            for method in sorted(route.methods - {"HEAD"}):
                path = concrete(route.path)
                r = await client.request(method, path, json={"note": "x"}
                                         if method == "POST" else None)
                where = f"{method} {route.path}"
                if isinstance(access, Public):
                    assert r.status_code not in (401, 403), where
                    continue
                assert isinstance(access, Requirement)
                checked += 1
                if access.page:
                    assert r.status_code == 303, where
                    assert r.headers["location"].startswith("/login?next="), where
                else:
                    assert r.status_code == 401, where
                    assert r.headers["www-authenticate"] == "Bearer", where
                    assert r.json()["detail"] == NOT_SIGNED_IN, where
    assert checked >= 23


@pytest.mark.asyncio
async def test_a_page_sends_the_browser_back_to_itself_after_signing_in(migrated: str) -> None:
    async for client in client_for(migrated, user=None):
        r = await client.get("/communities/demo/declared.html", params={"tier": "basic"})
        assert (r.status_code, r.headers["location"]) == (
            303, "/login?next=/communities/demo/declared.html%3Ftier%3Dbasic")
        r = await client.get("/docs")
        assert (r.status_code, r.headers["location"]) == (303, "/login?next=/docs")
        # A bearer token that is not valid is refused, not redirected: a program sent it.
        r = await client.get("/docs", headers={"Authorization": "Bearer scg_nonsense"})
        assert r.status_code == 401
