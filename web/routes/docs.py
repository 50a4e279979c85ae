"""The API's documentation, served offline: /openapi.json and the Swagger UI page at /docs
for signed-in users, with Swagger UI's script and style files served from the installed
`swagger-ui-bundle-v2` package under /docs-assets/ (nothing is fetched from elsewhere, so
the page works on a county network without internet). The page's start-up script is a file
too, so the page needs no inline script; it sends the session's CSRF token with "Try it
out" requests.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response

from web.auth import public, require
from web.headers import CSP

router = APIRouter(include_in_schema=False)

ASSETS: Final = "/docs-assets"
#: The files of the Swagger UI distribution the page uses, with their media types.
_PACKAGED: Final = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
                    "swagger-ui.css": "text/css; charset=utf-8",
                    "favicon-32x32.png": "image/png"}
INIT_SCRIPT: Final = "scg-docs.js"
_INIT_JS: Final = """\
window.addEventListener("load", function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    showExtensions: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    requestInterceptor: function (request) {
      if (csrf) { request.headers["X-CSRF-Token"] = csrf; }
      return request;
    }
  });
});
"""
#: Swagger UI styles elements from its script and shows icons as data: URLs.
DOCS_POLICY: Final = f"{CSP}; img-src 'self' data:; style-src 'self' 'unsafe-inline'"


def swagger_dir() -> Path:
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


def docs_html(csrf_token: str) -> str:
    """The page: only local URLs."""
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{html.escape(csrf_token)}">
<title>scg — API</title>
<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/{INIT_SCRIPT}"></script>
</body>
</html>
"""


@router.get("/openapi.json", dependencies=[Depends(require("api.docs"))])
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", response_class=HTMLResponse,
            dependencies=[Depends(require("api.docs", page=True))])
async def docs_page(request: Request) -> HTMLResponse:
    token = getattr(request.state, "csrf_token", "")
    return HTMLResponse(docs_html(token), headers={"Content-Security-Policy": DOCS_POLICY})


AssetName = Annotated[str, PathParam(description="a file of the docs page")]


@router.get(f"{ASSETS}/{{name}}",
            dependencies=[Depends(public("Swagger UI's script and style files"))])
async def docs_asset(name: AssetName) -> Response:
    headers = {"Cache-Control": "public, max-age=86400"}
    if name == INIT_SCRIPT:
        return Response(_INIT_JS, media_type="text/javascript; charset=utf-8",
                        headers=headers)
    if name not in _PACKAGED:
        raise HTTPException(404, f"no docs asset {name!r}; the page uses "
                                 f"{', '.join([*_PACKAGED, INIT_SCRIPT])}")
    return Response(_packaged(name), media_type=_PACKAGED[name], headers=headers)


@cache
def _packaged(name: str) -> bytes:
    return (swagger_dir() / name).read_bytes()


def asset_names() -> list[str]:
    return [*_PACKAGED, INIT_SCRIPT]

