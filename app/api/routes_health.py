"""Health, status and initialisation: what bots poll before they hand over a trade."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api import schemas, schemas_earlier
from app.api.deps import Facade, errors

router = APIRouter(tags=["health"])


def _answer(status: int, body: BaseModel) -> JSONResponse:
    data = body.model_dump(mode="json")
    if data.get("error", "") is None:
        del data["error"]  # the earlier contract: ``error`` only when something is wrong
    return JSONResponse(data, status_code=status)


@router.get("/ping", response_model=schemas.PingResponse)
async def ping() -> schemas.PingResponse:
    """The endpoint itself is up (whatever the engine's state)."""
    return schemas.PingResponse()


@router.get(
    "/health",
    response_model=schemas.HealthResponse,
    responses={503: {"model": schemas.HealthResponse}, 500: {"model": schemas.HealthResponse}},
)
async def health(facade: Facade) -> JSONResponse:
    """200 when DTMS is ready, 503 (with the state and reason) while it is not, 500 on error."""
    return _answer(*facade.health())


@router.get(
    "/dtms/health", response_model=schemas.DtmsHealthResponse, responses={503: {"model": schemas.DtmsHealthResponse}}
)
async def dtms_health(facade: Facade) -> JSONResponse:
    """200 when ready, else 503 with the same body."""
    return _answer(*facade.dtms_health())


@router.get("/dtms/status", response_model=schemas.StatusResponse)
async def status(facade: Facade) -> schemas.StatusResponse:
    """The engine in one glance: lifecycle, connection, trades by state, tripped rails."""
    return facade.status()


@router.get("/dtms/engine", response_model=schemas_earlier.EngineResponse)
async def engine(facade: Facade) -> schemas_earlier.EngineResponse:
    """The engine's monitoring, trade count and last fast and deep checks (the earlier server's summary)."""
    return facade.engine_info()


@router.post(
    "/dtms/initialize",
    response_model=schemas.InitializeResponse,
    responses={202: {"model": schemas.InitializeResponse}, **errors(415)},
)
async def initialize(facade: Facade) -> JSONResponse:
    """Retry initialisation after FAILED (202, runs in the background); otherwise 200 with the current state."""
    return _answer(*facade.initialize())
