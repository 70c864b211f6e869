"""The endpoint over real services: the engine on the simulator in this process, on a temporary data dir.

``idle`` services have an engine that was never started (the endpoint must say 503 and why); ``ready``
services have a started engine with the monitoring loop off, so nothing moves unless a test moves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.api.app import close_app, create_app
from app.config import ApiSettings, AppSettings
from app.runtime import RuntimeOptions, Services
from app.terminal.spec import TerminalKind
from tests.engine.conftest import engine_settings

#: A Wednesday in the London session.
SIM_START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
BASE_URL = "http://127.0.0.1:8001"


async def _no_sleep(_: float) -> None:
    return None


async def open_services(data_dir: Path, *, terminal: TerminalKind = TerminalKind.SIM) -> Services:
    # the endpoint tests script prices around one R for breakeven, as the engine tests do
    settings = AppSettings(engine=engine_settings())
    options = RuntimeOptions(
        data_dir=data_dir, settings=settings, terminal=terminal, sim_speed=0.0, sim_start=SIM_START, in_process=True
    )
    return await Services.open(options, sleep=_no_sleep, autorun=False)


def client_for(app: FastAPI, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, **kwargs)


@pytest.fixture
async def idle(tmp_path: Path) -> AsyncIterator[Services]:
    services = await open_services(tmp_path)
    try:
        yield services
    finally:
        await services.close()


@pytest.fixture
async def ready(idle: Services) -> Services:
    assert await idle.engine.start(), idle.engine.lifecycle.reason
    return idle


@pytest.fixture
async def make_app() -> AsyncIterator[Callable[..., FastAPI]]:
    """Builds apps for services with the given ApiSettings changes, and closes them afterwards."""
    built: list[FastAPI] = []

    def make(services: Services, **changes: Any) -> FastAPI:
        app = create_app(services, replace(ApiSettings(), **changes))
        built.append(app)
        return app

    yield make
    for app in built:
        await close_app(app)


@pytest.fixture
async def api(ready: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ready, ApiSettings())
    async with client_for(app) as client:
        yield client
    await close_app(app)


async def open_position(
    services: Services, symbol: str = "EURUSD", side: str = "BUY", volume: float = 0.1, sl: float = 0.0, tp: float = 0.0
) -> int:
    """Open a position in the simulated terminal the way a bot would; returns its ticket."""
    result = await services.gateway.control("open_position", symbol=symbol, type=side, volume=volume, sl=sl, tp=tp)
    assert result["retcode"] == 10009, result
    return int(result["order"])
