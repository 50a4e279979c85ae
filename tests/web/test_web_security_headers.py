"""Security headers on every answer, pages whose inline style runs only under the page's
nonce, and /docs that works offline: Swagger UI's files come from the installed package,
the page names only local URLs, and only signed-in users read the API's description."""

from __future__ import annotations

import re

import httpx
import pytest
from ingest_support import client_for

from web.routes.docs import asset_names, swagger_dir

BASE = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
        "x-frame-options": "DENY"}


def assert_protected(r: httpx.Response) -> None:
    for name, value in BASE.items():
        assert r.headers[name] == value, (r.request.url, name)
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy, r.request.url
    assert "default-src 'self'" in policy or "default-src 'none'" in policy, r.request.url


async def test_every_answer_carries_the_security_headers(loaded: str) -> None:
    async for client in client_for(loaded):
        answers = [await client.get("/healthz"),
                   await client.get("/api/communities"),
                   await client.get("/api/nothing/here"),
                   await client.get("/communities/demo/declared.html"),
                   await client.get("/communities/demo/acceptance.html",
                                    params={"tier": "basic"}),
                   await client.get("/login"),
                   await client.get("/docs"),
                   await client.get("/api/communities", headers={"Authorization": ""})]
        for r in answers:
            assert_protected(r)
        assert [r.status_code for r in answers] == [200, 200, 404, 200, 200, 200, 200, 401]
        for r in answers[1:5]:   # nothing signed-in is kept in a cache
            assert r.headers["cache-control"] == "no-store"


async def test_a_page_allows_only_its_own_inline_style(loaded: str) -> None:
    async for client in client_for(loaded):
        r = await client.get("/communities/demo/acceptance.html", params={"tier": "growth"})
        policy = r.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", policy)
        assert nonce is not None
        assert f"style-src 'self' 'nonce-{nonce.group(1)}'" in policy
        styles = re.findall(r"<style[^>]*>", r.text)
        assert styles and all(f'nonce="{nonce.group(1)}"' in s for s in styles)
        again = await client.get("/communities/demo/acceptance.html", params={"tier": "growth"})
        assert again.headers["content-security-policy"] != policy   # fresh for every answer


async def test_docs_name_only_local_urls_and_their_files_are_served(loaded: str) -> None:
    async for client in client_for(loaded):
        page = await client.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sorted(urls) == ["/docs-assets/favicon-32x32.png",
                                "/docs-assets/scg-docs.js",
                                "/docs-assets/swagger-ui-bundle.js",
                                "/docs-assets/swagger-ui.css"]
        assert "<script>" not in page.text   # no inline script: the policy forbids it
        assert "http" not in page.headers["content-security-policy"]
        for name in asset_names():
            r = await client.get(f"/docs-assets/{name}", headers={"Authorization": ""})
            assert r.status_code == 200, name    # public code, no sign-in
            assert r.headers["cache-control"] == "public, max-age=86400"
            if name != "scg-docs.js":
                assert r.content == (swagger_dir() / name).read_bytes()
        init = (await client.get("/docs-assets/scg-docs.js")).text
        assert 'url: "/openapi.json"' in init and "X-CSRF-Token" in init
        assert (await client.get("/docs-assets/../../etc/passwd")).status_code == 404
        assert (await client.get("/docs-assets/index.html")).status_code == 404
        document = await client.get("/openapi.json")
        assert document.status_code == 200
        assert document.json()["components"]["securitySchemes"]["bearer"]["flows"][
            "password"]["tokenUrl"] == "/api/auth/token"


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
async def test_the_api_description_needs_a_signed_in_user(loaded: str, path: str) -> None:
    async for client in client_for(loaded, user=None):
        r = await client.get(path)
        assert r.status_code in (401, 303)
