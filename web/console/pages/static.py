"""The console's own style and script files at /static/{name}, open to anyone (they hold
no data: the sign-in page needs its style before anyone is signed in). Only the files
shipped in web/console/static are served, with their media types."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import Response

from web.auth import public

router = APIRouter(include_in_schema=False)

STATIC: Final = Path(__file__).resolve().parents[1] / "static"
_TYPES: Final = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                  ".svg": "image/svg+xml"}


@cache
def shipped() -> dict[str, bytes]:
    """name -> content of every file served (read once)."""
    return {p.name: p.read_bytes() for p in sorted(STATIC.iterdir())
            if p.is_file() and p.suffix in _TYPES}


@router.get("/static/{name}",
            dependencies=[Depends(public("the console's own style and script files"))])
async def static_file(name: Annotated[str, PathParam(description="a console file")]
                      ) -> Response:
    files = shipped()
    if name not in files:
        raise HTTPException(404, f"no console file {name!r}; the console serves "
                                 f"{', '.join(files)}")
    return Response(files[name], media_type=_TYPES[Path(name).suffix],
                    headers={"Cache-Control": "public, max-age=3600"})
