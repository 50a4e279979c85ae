"""The API's Prometheus metrics: how long requests take, by route template, method and
status, and the process's own figures, served at `GET /metrics` without credentials.

Labels are bounded: the route is the template a request matched (`/api/communities/
{community_id}/devices`), never the path it asked for, so a scan of made-up paths adds one
series (`route="unmatched"`), not one per path; methods outside the HTTP set are `other`.
No label names a community, a device or a person, which is why the route may be public.

Latency is measured to the moment the response starts (its status and headers): the
answer's time for a request, and not the life of an alarm stream that stays open for hours.
Each application has a registry of its own, so tests may build many in one process.
"""

from __future__ import annotations

import time
from typing import Final

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder

from web.auth import public
from web.limits import ASGIApp, Message, Receive, Scope, Send

#: Seconds: from a cached snapshot (a few ms) to a report rendered from the history.
REQUEST_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED: Final = "unmatched"


class ApiMetrics:
    """The registry of one application and the metrics the middleware feeds."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.request_seconds = Histogram(
            "scg_api_request_seconds",
            "Time from receiving an HTTP request to starting its response, by route "
            "template, method and status.",
            ["route", "method", "status"], buckets=REQUEST_BUCKETS, registry=self.registry)

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The body and its content type in the format `accept` asks for (Prometheus's
        text format unless OpenMetrics is asked for), as prometheus-client's servers do."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


class RequestTimer:
    """ASGI middleware timing every HTTP request into `ApiMetrics.request_seconds`."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def timed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start" and status is None:
                status = int(message["status"])
                self._observe(scope, status, time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, timed)
        finally:
            if status is None:  # an exception escaped before any answer: the server's 500
                self._observe(scope, 500, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED
        method = scope.get("method", "")
        self.metrics.request_seconds.labels(
            template, method if method in METHODS else "other", str(status)).observe(seconds)


router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False,
            dependencies=[Depends(public("Prometheus scrapes it without credentials"))])
async def metrics(request: Request) -> Response:
    """The Prometheus text exposition of this process's metrics."""
    api_metrics: ApiMetrics = request.app.state.metrics
    body, content_type = api_metrics.exposition(request.headers.get("accept", ""))
    return Response(body, headers={"content-type": content_type})
