"""View tests: the real engine on the in-process simulator (frozen clock, monitoring loop off), on the
qasync loop so Qt signals and timers behave as in the program."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from app.engine.registry import Registration
from app.runtime import Services
from app.views.bridge import EngineBridge

# `services` and `ready` are the engine tests' fixtures, served to the view tests as they are.
from tests.engine.conftest import open_position, ready, services, set_price  # noqa: F401


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
