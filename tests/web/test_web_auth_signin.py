"""Signing in: bearer tokens from the password flow, the sign-in page and its session
cookie (HttpOnly, SameSite=Strict, Secure over https), CSRF tokens on the pages' forms,
signing out, disabled users and expired tokens; every change in the user's own name."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
from auth_support import user_with_password
from declared_support import PDF

from web import create_app
from web.auth.deps import BAD_CSRF, BAD_TOKEN

PASSWORD = "correct horse battery"


@asynccontextmanager
async def anonymous(dsn: str, base_url: str = "http://scg") -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dsn)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


async def token_for(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", data={"username": name, "password": password})


async def test_the_password_flow_gives_a_short_lived_bearer_token(loaded: str) -> None:
    await user_with_password(loaded, "wang.fang", PASSWORD, "operator", ["demo"])
    async with anonymous(loaded) as client:
        r = await token_for(client, "wang.fang", PASSWORD)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
        assert body["access_token"].startswith("scg_") and len(body["access_token"]) > 40
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        r = await client.get("/api/communities/demo/indicators", headers=bearer)
        assert r.status_code == 200
        for name, password in (("wang.fang", "wrong password!"), ("nobody", PASSWORD)):
            r = await token_for(client, name, password)
            assert (r.status_code, r.json()["detail"]) == (401, "wrong user name or password")
            assert r.headers["www-authenticate"] == "Bearer"
    conn = await asyncpg.connect(loaded)
    try:
        row = await conn.fetchrow(
            "SELECT t.kind, t.digest, t.expires_at - t.created_at AS ttl, u.last_login_at IS "
            "NOT NULL AS seen FROM auth_tokens t JOIN users u ON u.id = t.user_id "
            "WHERE u.name = $1",
            "wang.fang")
        assert (row["kind"], row["ttl"].total_seconds(), row["seen"]) == ("access", 3600, True)
        # Only the hash is kept: the token itself appears nowhere in the database.
        assert body["access_token"] not in str(dict(row))
        assert len(row["digest"]) == 64
    finally:
        await conn.close()


async def test_failed_sign_ins_slow_down_the_user_in_every_api_process(loaded: str) -> None:
    await user_with_password(loaded, "li.qiang", PASSWORD)
    async with anonymous(loaded) as first, anonymous(loaded) as second:
        for _ in range(5):   # mistakes cost nothing at first
            assert (await token_for(first, "li.qiang", "not the password")).status_code == 401
        r = await token_for(first, "li.qiang", "not the password")
        assert (r.status_code, r.json()["detail"]) == (
            401, "wrong user name or password; the next attempt must wait 1 s")
        # Even the right password waits, in another API process over the same database.
        r = await token_for(second, "li.qiang", PASSWORD)
        assert r.status_code == 429
        assert r.headers["retry-after"] == "1"
        assert r.json()["detail"].startswith("too many failed sign-ins for this user")
    conn = await asyncpg.connect(loaded)
    try:
        await conn.execute("UPDATE login_failures SET wait_until = now() "
                           "WHERE key = 'user:li.qiang'")   # the second has passed
        async with anonymous(loaded) as client:
            assert (await token_for(client, "li.qiang", PASSWORD)).status_code == 200
        assert await conn.fetchval(
            "SELECT count(*) FROM login_failures WHERE key = 'user:li.qiang'") == 0
    finally:
        await conn.close()


async def test_many_names_guessed_from_one_address_slow_that_address_down(
        loaded: str) -> None:
    await user_with_password(loaded, "zhao.min", PASSWORD)
    async with anonymous(loaded) as client:
        for n in range(20):
            assert (await token_for(client, f"guess{n}", "x" * 12)).status_code == 401
        r = await token_for(client, "guess20", "x" * 12)
        assert r.json()["detail"].endswith("the next attempt must wait 1 s")
        r = await token_for(client, "zhao.min", PASSWORD)
        assert r.status_code == 429


async def test_the_sign_in_page_sets_a_strict_http_only_session_and_forms_carry_csrf(
        loaded: str, tmp_path: object) -> None:
    await user_with_password(loaded, "wang.fang", PASSWORD, "operator", ["demo"])
    async with anonymous(loaded) as client:
        page = await client.get("/login", params={"next": "/communities/demo/declared.html"})
        assert page.status_code == 200
        assert '<html lang="zh-CN">' in page.text and "用户名" in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        r = await client.post("/login", data={"username": "wang.fang", "password": "nope",
                                              "csrf_token": csrf.group(1)})
        assert r.status_code == 401 and "用户名或密码不正确" in r.text
        r = await client.post("/login", data={"username": "wang.fang", "password": PASSWORD,
                                              "csrf_token": "forged"})
        assert r.status_code == 403   # the form's token must match its cookie
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
        assert csrf is not None
        r = await client.post("/login", data={
            "username": "wang.fang", "password": PASSWORD, "csrf_token": csrf.group(1),
            "next": "/communities/demo/declared.html"})
        assert (r.status_code, r.headers["location"]) == (303,
                                                          "/communities/demo/declared.html")
        [cookie] = [c for c in r.headers.get_list("set-cookie")
                    if c.startswith("scg_session=")]
        assert cookie.startswith("scg_session=scg_")
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= flags
        assert "secure" not in flags   # plain http here; see the https test

        page = await client.get("/communities/demo/declared.html")
        assert page.status_code == 200
        assert 'id="who-name">wang.fang<' in page.text and 'id="who-role">操作员<' in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None and token.group(1)
        form = {"one_stop_service": "yes"}
        files = [("evidence", ("a.pdf", PDF, "application/pdf"))]
        r = await client.post("/communities/demo/declared/growth-09", data=form, files=files)
        assert (r.status_code, r.json()["detail"]) == (403, BAD_CSRF)
        r = await client.post("/communities/demo/declared/growth-09",
                              data={**form, "csrf_token": token.group(1)}, files=files)
        assert r.status_code == 303, r.text
        r = await client.post("/api/alarms/1/acknowledge", json={},
                              headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 403

        r = await client.post("/logout")
        assert r.status_code == 403
        r = await client.post("/logout", data={"csrf_token": token.group(1)})
        assert (r.status_code, r.headers["location"]) == (303, "/login")
        r = await client.get("/communities/demo/declared.html")
        assert r.status_code == 303   # signed out: back to the sign-in page
    conn = await asyncpg.connect(loaded)
    try:
        assert await conn.fetchval("SELECT entered_by FROM declarations") == "wang.fang"
        assert await conn.fetchval("SELECT revoked_at IS NOT NULL FROM auth_tokens "
                                   "WHERE kind = 'session'")
    finally:
        await conn.close()


async def test_over_https_the_session_cookie_is_secure_and_next_stays_on_this_site(
        loaded: str) -> None:
    await user_with_password(loaded, "wang.fang", PASSWORD)
    async with anonymous(loaded, "https://scg.example") as client:
        page = await client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        r = await client.post("/login", data={
            "username": "wang.fang", "password": PASSWORD, "csrf_token": csrf.group(1),
            "next": "//evil.example/steal"})
        assert (r.status_code, r.headers["location"]) == (303, "/overview")
        [cookie] = [c for c in r.headers.get_list("set-cookie")
                    if c.startswith("scg_session=")]
        assert "; secure" in cookie.lower()


async def test_disabled_users_and_expired_tokens_are_refused(loaded: str) -> None:
    from auth_support import user_headers

    from web.auth.users import set_disabled

    headers = await user_headers(loaded, "expiring", "viewer")
    other = await user_headers(loaded, "leaving", "viewer")
    await user_with_password(loaded, "gone", PASSWORD, "viewer")
    conn = await asyncpg.connect(loaded)
    try:
        await conn.execute("UPDATE auth_tokens SET created_at = now() - interval '2 days', "
                           "expires_at = now() - interval '1 day' WHERE user_id = "
                           "(SELECT id FROM users WHERE name = 'expiring')")
        async with anonymous(loaded) as client:
            assert (await client.get("/api/communities", headers=other)).status_code == 200
            for who in ("leaving", "gone"):
                await set_disabled(conn, who, True, actor="test",
                                   at=await conn.fetchval("SELECT now()"))
            for h in (headers, other):
                r = await client.get("/api/communities", headers=h)
                assert (r.status_code, r.json()["detail"]) == (401, BAD_TOKEN)
            r = await token_for(client, "gone", PASSWORD)
            assert (r.status_code, r.json()["detail"]) == (
                401, "user 'gone' is disabled; ask an admin to enable it (`scg user enable`)")
        changes = await conn.fetch("SELECT actor, action, user_name FROM user_changes "
                                   "WHERE action = 'user.disable' ORDER BY id")
        assert [tuple(c) for c in changes] == [("test", "user.disable", "leaving"),
                                               ("test", "user.disable", "gone")]
        with pytest.raises(asyncpg.RaiseError, match="cannot be altered or deleted"):
            await conn.execute("DELETE FROM user_changes")
    finally:
        await conn.close()
