"""The operations console: server-rendered pages (Jinja2, zh-CN, times in SCG_TIMEZONE)
over the same queries as the JSON API, with SVG drawn on the server and a little script of
our own where live updates need it. One module per page under `pages/`; the routers are
gathered here, and `install` adds the refusal page browsers get instead of JSON."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from web.console import common
from web.console.pages import (
    alarms,
    audit,
    claims,
    community,
    community_map,
    device,
    devices,
    gateway,
    overview,
    static,
)
from web.console.templating import console_zone

router = APIRouter()
for _module in (static, overview, community, devices, device, gateway, alarms,
                community_map, audit, claims):
    router.include_router(_module.router)


def install(app: FastAPI) -> None:
    """Add the console to `app`: its pages and the refusal page; the time zone setting is
    checked now (ValueError naming SCG_TIMEZONE), not at the first page."""
    console_zone.cache_clear()
    console_zone()
    common.install(app)
    app.include_router(router)


__all__ = ["install", "router"]
