"""GET /healthz: is the database reachable, and which storage mode is it in."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ingest.schema.migrate import storage_mode
from web.auth import public
from web.models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health,
            dependencies=[Depends(public("load balancers and monitoring probe it"))],
            responses={503: {"model": Health, "description": "database unusable"}})
async def healthz(request: Request) -> JSONResponse | Health:
    try:
        async with request.app.state.pool.acquire() as conn:
            mode, note = await storage_mode(conn)
    except Exception as exc:  # any failure to reach the database is the answer itself
        body = Health(status="error", database=f"{type(exc).__name__}: {exc}",
                      storage="unknown")
        return JSONResponse(status_code=503, content=body.model_dump())
    if mode == "unmigrated":
        body = Health(status="error", database="ok", storage=mode, storage_note=note)
        return JSONResponse(status_code=503, content=body.model_dump())
    return Health(status="ok", database="ok", storage=mode, storage_note=note)
