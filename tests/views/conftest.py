"""View tests: the real engine on the in-process simulator (frozen clock, monitoring loop off), on the
qasync loop so Qt signals and timers behave as in the program."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from app.engine.registry import Registration
from app.runtime import Services
from app.views.bridge import EngineBridge
from tests.engine.conftest import open_position, open_services, set_price


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    s = await open_services(tmp_path)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def ready(services: Services) -> Services:
    assert await services.engine.start()
    return services


@pytest.fixture
def bridge(qapp, services: Services):
    b = EngineBridge(services.engine)
    yield b
    b.detach()


async def register_buy(services: Services, symbol: str = "EURUSD", r: float = 0.0020, volume: float = 1.0) -> int:
    """A held price and a registered BUY with its SL one R below; returns the ticket."""
    tick = await services.gateway.tick(symbol)
    await set_price(services, symbol, float(tick.bid), float(tick.ask))
    ticket = await open_position(services, symbol, "BUY", volume, sl=round(float(tick.ask) - r, 5))
    await services.engine.register(Registration(ticket=ticket))
    return ticket


async def until(condition: Callable[[], bool], tries: int = 200) -> None:
    """Poll on the running loop (never a nested Qt loop inside an async test) until ``condition`` holds."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")
