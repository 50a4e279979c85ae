"""GET /metrics of the API: open to Prometheus without credentials, accepted by
`promtool check metrics`, and timing every request under its route template, never under
the path it asked for."""

from __future__ import annotations

import pytest
from ingest_support import client_for
from metrics_support import promtool_check, samples, total, value

pytestmark = pytest.mark.integration


async def test_metrics_are_public_and_pass_promtool(migrated: str) -> None:
    async for client in client_for(migrated, user=None):
        assert (await client.get("/healthz")).status_code == 200
        r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    promtool_check(r.text, "the API's /metrics")
    found = samples(r.text)
    assert value(found, "scg_api_request_seconds_count", route="/healthz", method="GET",
                 status="200") == 1
    assert value(found, "process_resident_memory_bytes") is not None


async def test_requests_are_counted_by_route_template_with_bounded_labels(
        migrated: str) -> None:
    async for client in client_for(migrated):
        for community in ("demo", "north", "south"):
            await client.get(f"/api/communities/{community}/devices")
        for n in range(5):
            assert (await client.get(f"/no/such/page/{n}")).status_code == 404
        assert (await client.request("BREW", "/healthz")).status_code == 405
        text = (await client.get("/metrics")).text
    found = samples(text)
    devices = "/api/communities/{community_id}/devices"
    assert total(found, "scg_api_request_seconds_count", route=devices) == 3
    assert value(found, "scg_api_request_seconds_count", route="unmatched", method="GET",
                 status="404") == 5
    assert value(found, "scg_api_request_seconds_count", route="/healthz", method="other",
                 status="405") == 1
    routes = {dict(labels)["route"] for (name, labels) in found
              if name == "scg_api_request_seconds_count"}
    assert not any(r.startswith(("/api/communities/demo", "/no/")) for r in routes), routes
