"""A periodic one-screen summary on stdout for headless runs: account, prices, managed trades."""

from __future__ import annotations

import asyncio
import logging

from app.errors import TemporaryError
from app.runtime import Services

logger = logging.getLogger(__name__)


async def account_and_prices(services: Services) -> str:
    """One status block read through the gateway (like any other terminal call)."""
    gateway = services.gateway
    account = await gateway.account_info()
    lines = [
        f"account {account.login} on {account.server} ({'simulator' if services.simulated else 'MetaTrader 5'}): "
        f"balance {account.balance:.2f} {account.currency}, equity {account.equity:.2f}, "
        f"margin free {account.margin_free:.2f}",
    ]
    symbols = sorted(services.engine.registry.symbols() | set(services.engine.market.symbols()))
    if not symbols and services.simulated:
        symbols = ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD"]
    for symbol in symbols:
        tick = await gateway.tick(symbol)
        lines.append(f"  {symbol:<8} bid {tick.bid:<12g} ask {tick.ask:<12g}")
    engine = services.engine
    lines.append(f"engine {engine.state.value}, {len(engine.trades())} managed trades")
    return "\n".join(lines)


async def print_status_until(services: Services, stop: asyncio.Event, interval_s: float = 5.0) -> None:
    while not stop.is_set():
        if services.gateway.connected:
            try:
                print(await account_and_prices(services), flush=True)
            except TemporaryError as error:
                logger.warning("status unavailable: %s", error)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except TimeoutError:
            pass
