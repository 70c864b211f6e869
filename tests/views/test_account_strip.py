"""The account strip: balance, equity, floating P/L, margin level, today's closed result, and the protected
trades' open risk in money (distance to SL x value per price x volume), in total and per symbol."""

from __future__ import annotations

import pytest

from app.engine.registry import Registration
from app.runtime import Services
from app.views.account_strip import AccountStrip
from app.views.bridge import EngineBridge
from tests.engine.conftest import open_position, set_price

from .conftest import register_buy


@pytest.mark.qasync
async def test_strip_shows_the_account_and_the_open_risk(ready: Services, bridge: EngineBridge) -> None:
    strip = AccountStrip(bridge, ready.gateway)
    eurusd = await register_buy(ready, "EURUSD", r=0.0020, volume=1.0)
    gbpusd = await register_buy(ready, "GBPUSD", r=0.0030, volume=0.5)
    await ready.engine.step()
    await strip.load()
    account = await ready.gateway.account_info()
    assert strip.text("Balance").startswith(f"{account.balance:,.2f}")
    assert strip.text("Equity") == f"{account.equity:,.2f}"
    assert strip.text("Floating") == f"{account.equity - account.balance:+,.2f}"
    assert strip.text("Margin level") == f"{account.margin_level:,.0f} %"
    assert strip.text("Realised today") == "+0.00"

    expected = {}
    for ticket in (eurusd, gbpusd):
        trade = ready.engine.trade(ticket)
        info = await ready.gateway.symbol_info(trade.symbol)
        bid = float((await ready.gateway.tick(trade.symbol)).bid)
        expected[trade.symbol] = (bid - trade.sl) * trade.volume * info.trade_tick_value / info.trade_tick_size
    assert strip.risk.by_symbol == pytest.approx(expected)
    assert strip.risk.total == pytest.approx(sum(expected.values()))
    assert expected["EURUSD"] == pytest.approx(200.0, rel=0.1), "1 lot, 20 pips on EURUSD: about 200 USD"
    text = strip.text("Open risk")
    assert text.startswith(f"{sum(expected.values()):,.2f}") and "EURUSD" in text and "GBPUSD" in text

    # a trade without SL is counted apart; a trade closed at a loss shows in today's result
    tick = await ready.gateway.tick("USDJPY")
    await set_price(ready, "USDJPY", float(tick.bid), float(tick.ask))
    naked = await open_position(ready, "USDJPY", "BUY", 0.1)
    await ready.engine.register(Registration(ticket=naked))
    assert ready.engine.trade(naked).sl == 0
    trade = ready.engine.trade(gbpusd)
    await set_price(ready, "GBPUSD", round(trade.entry - 0.0010, 5))
    closed = await ready.gateway.control("close_position", ticket=gbpusd)
    assert closed["retcode"] == 10009
    await ready.engine.step()
    strip._slow_at = 0.0
    await strip.load()
    assert strip.risk.without_sl == 1 and "+ 1 without SL" in strip.text("Open risk")
    assert set(strip.risk.by_symbol) == {"EURUSD"}
    assert strip.text("Realised today").startswith("-"), strip.text("Realised today")
    await strip.close_tasks()


def test_open_risk_sums_per_symbol_the_loss_to_each_sl() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from app.engine.model import Direction
    from app.views.account_strip import open_risk

    def trade(symbol: str, direction: Direction, sl: float, volume: float) -> Any:
        return SimpleNamespace(symbol=symbol, direction=direction, sl=sl, volume=volume)

    trades = [
        trade("EURUSD", Direction.BUY, 1.09, 1.0),  # closes at the bid 1.10: 0.01 x 1 lot
        trade("GBPUSD", Direction.BUY, 0.0, 1.0),  # no SL
        trade("EURUSD", Direction.SELL, 1.12, 0.5),  # closes at the ask 1.1002: 0.0198 x 0.5
        trade("XAUUSD", Direction.BUY, 2400.0, 0.1),  # no quote yet: not counted
        trade("USDJPY", Direction.SELL, 151.0, 2.0),  # 1.02 x 2
    ]
    prices = {"EURUSD": (1.10, 1.1002), "GBPUSD": (1.25, 1.2502), "USDJPY": (149.96, 149.98)}
    values = {"EURUSD": 100_000.0, "GBPUSD": 100_000.0, "XAUUSD": 100.0, "USDJPY": 1000.0}
    risk = open_risk(cast(Any, trades), prices, values)
    assert list(risk.by_symbol) == ["USDJPY", "EURUSD"], "largest first"
    assert risk.by_symbol["EURUSD"] == pytest.approx(1000.0 + 990.0)
    assert risk.by_symbol["USDJPY"] == pytest.approx(2040.0)
    assert risk.total == pytest.approx(4030.0) and risk.without_sl == 1
    assert open_risk([], prices, values).total == 0.0
