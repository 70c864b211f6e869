"""``GET /`` (who answers, and where the docs are) and the documentation pages, served offline.

Swagger UI (``/docs``) and ReDoc (``/redoc``) load their scripts and style sheet from ``/docs/static/``: files
shipped inside the ``fastapi-offline`` package (MIT), never a CDN, so the pages work on a machine without
internet access.
"""

from __future__ import annotations

import importlib.resources
import logging
from importlib import metadata
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from app.api.schemas_earlier import RootResponse, now_iso

logger = logging.getLogger(__name__)

router = APIRouter()

STATIC_PACKAGE = "fastapi_offline"
STATIC_URL = "/docs/static"
#: the files the pages load, with their media types
STATIC_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}


def version() -> str:
    try:
        return metadata.version("dtms-desk")
    except metadata.PackageNotFoundError:
        return "0"


@router.get("/", response_model=RootResponse, tags=["health"])
async def root() -> RootResponse:
    """Who answers here, its version, and where the documentation is (``docs``, ``redoc``, ``openapi``)."""
    return RootResponse(version=version(), timestamp=now_iso())


@router.get("/docs", include_in_schema=False)
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - API",
        swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_URL}/favicon.png",
    )


@router.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - API",
        redoc_js_url=f"{STATIC_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{STATIC_URL}/favicon.png",
        with_google_fonts=False,
    )


@router.get(STATIC_URL + "/{name}", include_in_schema=False)
async def static_file(name: Annotated[str, Path(max_length=64)]) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise HTTPException(404, f"no documentation file {name!r}")
    data = importlib.resources.files(STATIC_PACKAGE).joinpath("static", name).read_bytes()
    return Response(data, media_type=media_type, headers={"Cache-Control": "max-age=86400"})
