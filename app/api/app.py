"""The HTTP application: routes, error mapping and the local-only guards, over one engine facade.

Layers, outermost first: request counters, Host/Origin/token guard, body gate (JSON only, size limit),
then FastAPI with its routes. ``/sim/...`` exists only when the terminal is the simulator.
"""

from __future__ import annotations

import asyncio
import logging
from importlib import metadata
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from app.api import routes_docs, routes_events, routes_health, routes_sim, routes_trades
from app.api.errors import install_error_handlers
from app.api.facade import ApiFacade
from app.api.gate import BodyGate
from app.api.metrics import CountingMiddleware, RequestCounters
from app.api.security import AccessPolicy, LocalAccessMiddleware
from app.config import ApiSettings

if TYPE_CHECKING:
    from app.runtime import Services

logger = logging.getLogger(__name__)

#: Live events a slow ``/events`` client may fall behind by before it catches up from the database.
STREAM_BUFFER = 1000

_DESCRIPTION = """The local endpoint of DTMS Desk. Bots hand open MetaTrader 5 positions to DTMS with
`POST /dtms/trade/enable` and follow them here. Only this machine may call it; errors come as real status
codes with an `ErrorResponse` body."""


def _version() -> str:
    try:
        return metadata.version("dtms-desk")
    except metadata.PackageNotFoundError:
        return "0"


def create_app(services: Services, settings: ApiSettings | None = None) -> FastAPI:
    """The application for ``services``; ``settings`` default to the services' own ``api`` settings."""
    settings = settings or services.settings.api
    # no slash redirects: a bot gets a JSON 404 for a path that does not exist, never an empty 307
    # the documentation pages come from routes_docs, with their files served from this machine (no CDN)
    app = FastAPI(
        title="DTMS Desk",
        version=_version(),
        description=_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.facade = ApiFacade(services)
    app.state.counters = RequestCounters()
    app.state.closing = asyncio.Event()
    app.state.stream_buffer = STREAM_BUFFER
    policy = AccessPolicy.for_settings(settings, services.data_dir)
    app.state.token_required = policy.token is not None

    install_error_handlers(app)
    app.include_router(routes_docs.router)
    app.include_router(routes_health.router)
    app.include_router(routes_trades.router)
    app.include_router(routes_events.router)
    if services.simulated:
        app.include_router(routes_sim.router)

    _describe_security(app, token_required=policy.token is not None)

    # add_middleware wraps: the last one added is the outermost
    app.add_middleware(BodyGate, max_bytes=settings.max_body_bytes)
    app.add_middleware(LocalAccessMiddleware, policy=policy)
    app.add_middleware(CountingMiddleware, counters=app.state.counters)
    return app


def _describe_security(app: FastAPI, *, token_required: bool) -> None:
    """The OpenAPI document names the bearer token (required on every route when the endpoint demands it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["bearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "the token in the data dir's api_token file",
            }
            if token_required:
                document["security"] = [{"bearer": []}]
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


async def close_app(app: FastAPI) -> None:
    """End open event streams and background work of the app (before its server stops)."""
    app.state.closing.set()
    await app.state.facade.close()
