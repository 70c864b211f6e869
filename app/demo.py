"""The simulator's demo bot: on a first start (no trade in the database) it opens the scenario's positions in
the simulated terminal and hands them to DTMS, so a new user sees the engine at work, with a window or without.
No Qt here."""

from __future__ import annotations

import importlib.resources
import logging
import tomllib
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any

from app.adoption import wait_until_ready
from app.engine.model import Direction
from app.engine.registry import Registration

logger = logging.getLogger(__name__)

SCENARIO = importlib.resources.files("app.resources").joinpath("demo_scenario.toml")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoPosition:
    symbol: str
    direction: Direction
    volume: float
    sl_distance: float = 0.0
    tp_distance: float = 0.0


def load_scenario(path: Traversable = SCENARIO) -> list[DemoPosition]:
    with path.open("rb") as file:
        data = tomllib.load(file)
    return [
        DemoPosition(
            symbol=p["symbol"],
            direction=Direction.parse(p["type"]),
            volume=float(p["volume"]),
            sl_distance=float(p.get("sl_distance", 0.0)),
            tp_distance=float(p.get("tp_distance", 0.0)),
        )
        for p in data.get("position", [])
    ]


async def has_history(services: Any) -> bool:
    repository = services.repository
    return bool(await repository.load_active_trades() or await repository.load_closed_since(0.0))


async def run_demo(services: Any, scenario: list[DemoPosition] | None = None) -> list[int]:
    """Open and register the scenario's positions (engine READY, simulator only); returns their tickets."""
    if not services.simulated or await has_history(services):
        return []
    tickets = []
    for p in scenario if scenario is not None else load_scenario():
        tick = await services.gateway.tick(p.symbol)
        digits = int((await services.gateway.symbol_info(p.symbol)).digits)
        buy = p.direction is Direction.BUY
        price = float(tick.ask if buy else tick.bid)
        sign = 1 if buy else -1
        sl = round(price - sign * p.sl_distance, digits) if p.sl_distance else 0.0
        tp = round(price + sign * p.tp_distance, digits) if p.tp_distance else 0.0
        result = await services.gateway.control(
            "open_position", symbol=p.symbol, type=p.direction.value, volume=p.volume, sl=sl, tp=tp, comment="demo"
        )
        if result.get("retcode") != 10009:
            logger.warning("demo position %s not opened: %s", p.symbol, result)
            continue
        ticket = int(result["order"])
        await services.engine.register(Registration(ticket=ticket, symbol=p.symbol, direction=p.direction))
        tickets.append(ticket)
    logger.info("demo: opened and registered %d positions", len(tickets))
    return tickets


def demo_allowed(services: Any, *, asked: bool = False) -> bool:
    """The demo opens positions, so only ever on the simulator; ``asked`` (``--demo`` given) on a real terminal
    gets a warning saying why nothing happens."""
    if not services.simulated and asked:
        logger.warning(
            "the demo runs only on the simulated terminal; nothing is opened on %s", services.gateway.kind.value
        )
    return bool(services.simulated)


async def run_demo_when_ready(services: Any) -> list[int]:
    """Wait until the engine is READY (however long it takes), then run the demo."""
    await wait_until_ready(services.engine)
    return await run_demo(services)
