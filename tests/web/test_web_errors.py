"""Refusals of the API: one error body for every one of them, ids and times out of range
refused (never a server error), empty filters taken as absent, and an OpenAPI document that
promises exactly that."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from ingest_support import T0, client_for, envelope, event, msg, status_msg

from ingest.writer import write_batch
from web import create_app

pytestmark = pytest.mark.asyncio

BIGINT_MAX = 2**63 - 1


@pytest.fixture
async def api(loaded: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the sample community with two lamp-fault alarms of light-001."""
    conn = await asyncpg.connect(loaded)
    try:
        faults = [event("light-001", T0), event("light-001", T0 + timedelta(hours=1),
                                                type_="driver_fault")]
        await write_batch(conn, [msg(envelope(1, faults)), status_msg(True)])
    finally:
        await conn.close()
    async for client in client_for(loaded):
        yield client


def problems(r: httpx.Response) -> list[str]:
    """The problems of an error body, after checking it has the one shape."""
    body = r.json()
    assert set(body) == {"detail", "problems"}, body
    assert body["detail"] == "; ".join(body["problems"])
    return list(body["problems"])


async def test_alarm_ids_beyond_bigint_are_422_and_unknown_ones_404(
        api: httpx.AsyncClient) -> None:
    for too_big in (BIGINT_MAX + 1, 10**30):
        r = await api.post(f"/api/alarms/{too_big}/acknowledge")
        assert r.status_code == 422
        assert problems(r) == [
            f"path parameter `alarm_id`: input should be less than or equal to {BIGINT_MAX}, "
            f"got '{too_big}' (expected: the alarm's id, as in the community's alarm list)"]
    for not_an_id in ("0", "-1", "abc"):
        r = await api.post(f"/api/alarms/{not_an_id}/close")
        assert r.status_code == 422, not_an_id
        assert problems(r)[0].startswith("path parameter `alarm_id`: input should be")
    r = await api.post(f"/api/alarms/{BIGINT_MAX}/acknowledge", json={})
    assert (r.status_code, problems(r)) == (404, [
        f"alarm {BIGINT_MAX} does not exist; list alarms with GET "
        "/api/communities/{id}/alarms"])


async def test_every_refusal_answers_detail_and_problems(api: httpx.AsyncClient) -> None:
    # FastAPI's own validation, a ParamError, an HTTPException, an unknown route, a refused
    # declaration: the same two keys each time.
    r = await api.get("/api/communities/demo/alarms", params={"limit": "0"})
    assert (r.status_code, problems(r)) == (422, [
        "query parameter `limit`: input should be greater than or equal to 1, got '0' "
        "(expected: at most this many)"])
    r = await api.get("/api/communities/demo/alarms", params={"state": "done"})
    assert (r.status_code, problems(r)) == (422, [
        "state 'done' is not an alarm state; use one of open, acknowledged, closed"])
    r = await api.get("/api/communities/atlantis/alarms")
    assert r.status_code == 404 and problems(r)[0].startswith("community 'atlantis'")
    r = await api.get("/api/nothing/here")
    assert (r.status_code, problems(r)) == (404, ["Not Found"])
    r = await api.post("/api/communities/demo/declared/growth-05", json={"text": "x"})
    assert r.status_code == 422 and problems(r)[0].startswith("row growth-05 (智能照明设施) is "
                                                              "measured")
    r = await api.post("/api/alarms/1/acknowledge", json={"by": "王芳"})
    assert (r.status_code, problems(r)) == (422, [
        "body field `by`: extra inputs are not permitted, got '王芳'"])
    r = await api.post("/api/alarms/1/acknowledge", content="by=王芳".encode(),
                       headers={"content-type": "text/plain"})
    assert (r.status_code, problems(r)) == (422, [
        "the body: input should be a valid dictionary or object to extract fields from, got "
        r"b'by=\xe7\x8e\x8b\xe8\x8a\xb3'; send a JSON object with Content-Type: "
        "application/json"])
    r = await api.post("/api/alarms/1/acknowledge", content=b'{"by": ',
                       headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert problems(r) == ["the body is not JSON (Expecting value); send a JSON object"]


async def test_a_body_that_is_not_utf8_is_400_saying_so(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/alarms/1/acknowledge", content=b'{"by": "\xff"}',
                       headers={"content-type": "application/json"})
    assert (r.status_code, problems(r)) == (400, [
        "the body is not UTF-8 (byte 0xff at position 8); send JSON encoded as UTF-8"])


async def test_empty_filters_count_as_absent(api: httpx.AsyncClient) -> None:
    everything = (await api.get("/api/communities/demo/devices")).json()
    r = await api.get("/api/communities/demo/devices?kind=&state=")
    assert (r.status_code, r.json()) == (200, everything)
    r = await api.get("/api/communities/demo/alarms?type=&state=&since=")
    assert r.status_code == 200
    assert sorted(a["type"] for a in r.json()) == ["driver_fault", "lamp_fault"]
    r = await api.get("/api/communities/demo/indicators?as_of=&window=")
    assert r.status_code == 200
    r = await api.get("/api/communities/demo/declared?tier=&as_of=")
    assert (r.status_code, r.json()["tier"]) == (200, "growth")


async def test_times_and_windows_out_of_range_are_422(api: httpx.AsyncClient) -> None:
    url = "/api/communities/demo/indicators"
    for as_of in ("0001-01-01T00:30:00+01:00", "1969-06-01T00:00:00Z",
                  "9999-12-31T23:00:00-05:00"):
        r = await api.get(url, params={"as_of": as_of})
        assert (r.status_code, problems(r)) == (422, [
            f"as_of '{as_of}' is out of range; give a time in the years 1970 to 9998, e.g. "
            "2026-11-23T08:00:00Z"])
    for window in ("99999999999999999999", "P9999999999W", "P3661D"):
        r = await api.get(url, params={"window": window})
        assert (r.status_code, problems(r)) == (422, [
            f"window '{window}' is longer than 3660 days; give a shorter one, e.g. P30D"])
    r = await api.get("/api/communities/demo/indicators/history",
                      params={"to": "1970-01-01T00:00:00+01:00"})
    assert r.status_code == 200  # 1969 in UTC, but written in 1970: its week before is fine
    r = await api.get(url, params={"as_of": "2026-11-23t09:00:00z", "window": "P3660D"})
    assert r.status_code == 200  # RFC 3339 allows lower case
    assert r.json()[0]["window"]["to"] == "2026-11-23T09:00:00Z"


def error_refs(operation: dict[str, Any]) -> dict[str, set[str]]:
    """Status -> what each error response promises, per media type."""
    out: dict[str, set[str]] = {}
    for status, response in operation["responses"].items():
        if int(status) >= 400:
            out[status] = {f"{media} {content['schema'].get('$ref', content['schema'])}"
                           for media, content in response["content"].items()}
    return out


async def test_the_openapi_document_promises_the_one_error_body() -> None:
    document = create_app("postgresql://openapi-document-only/").openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = "application/json #/components/schemas/ErrorOut"
    html = "text/html {'type': 'string'}"
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            refs = error_refs(operation)
            where = f"{method.upper()} {path}"
            if where == "GET /healthz":  # its 503 is the health report itself
                assert refs == {"503": {"application/json #/components/schemas/Health"}}
                continue
            assert refs.get("503") == {error}, where
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in refs, where
            if where not in ("POST /api/auth/token", "GET /login", "POST /login"):
                assert {"401", "403"} <= set(refs), where   # every other route signs in
            for status, promised in refs.items():
                if where == "POST /login" and status in ("401", "403", "429"):
                    assert promised == {html}, (where, status)  # the sign-in form again
                elif where == "POST /communities/{community_id}/declared/{row_id}" and status in (
                        "404", "413", "415", "422"):
                    assert html in promised, (where, status)  # the page, with the reasons
                    assert promised - {html} <= {error}
                elif "pages" in operation.get("tags", ()):
                    # A console page refuses a browser with a page, a program with the
                    # body; its forms answer a refusal of the state with the page again.
                    assert promised and promised <= {error, html}, (where, status)
                else:
                    assert promised == {error}, (where, status)
