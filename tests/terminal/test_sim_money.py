"""Account money in the simulator: profit and margin in USD, following prices."""

from __future__ import annotations

import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import HELD_EURUSD, answered, open_position

pytestmark = pytest.mark.sim(prices={**HELD_EURUSD, "USDJPY": (150.000, 150.010), "XAUUSD": (2400.00, 2400.30)})


def test_position_price_and_profit_follow_the_market(mt5: SimulatedTerminal) -> None:
    """price_current is the closing price (bid for BUY, ask for SELL) and profit follows it."""
    buy = open_position(mt5, c.ORDER_TYPE_BUY, 1.0, symbol="EURUSD")
    sell = open_position(mt5, c.ORDER_TYPE_SELL, 1.0, symbol="EURUSD")
    mt5.control("set_price", symbol="EURUSD", bid=1.10200, ask=1.10210)
    positions = {p.ticket: p for p in mt5.positions_get()}
    assert (positions[buy].price_current, positions[buy].profit) == (1.10200, pytest.approx(190.0))
    assert (positions[sell].price_current, positions[sell].profit) == (1.10210, pytest.approx(-210.0))


def test_yen_profit_is_converted_to_dollars(mt5: SimulatedTerminal) -> None:
    """USDJPY profit accrues in JPY and is converted to the USD account at the current USDJPY price."""
    ticket = open_position(mt5, c.ORDER_TYPE_BUY, 1.0, symbol="USDJPY")
    mt5.control("set_price", symbol="USDJPY", bid=151.010, ask=151.020)
    (position,) = answered(mt5.positions_get(ticket=ticket))
    assert position.profit == pytest.approx(round(1.0 * 100_000 * 1.0 / 151.010, 2))
    assert mt5.order_calc_profit(c.ORDER_TYPE_BUY, "USDJPY", 1.0, 150.010, 151.010) == position.profit


def test_account_figures_follow_prices(mt5: SimulatedTerminal) -> None:
    """balance, profit, equity, margin, margin_free and margin_level follow open positions and prices."""
    open_position(mt5, c.ORDER_TYPE_BUY, 1.0, symbol="EURUSD")
    open_position(mt5, c.ORDER_TYPE_SELL, 0.1, symbol="XAUUSD")
    mt5.control("set_price", symbol="EURUSD", bid=1.09900, ask=1.09910)
    mt5.control("set_price", symbol="XAUUSD", bid=2390.00, ask=2390.30)
    account = mt5.account_info()
    profit = sum(p.profit for p in answered(mt5.positions_get()))
    assert profit == pytest.approx(-110.0 + (2400.00 - 2390.30) * 0.1 * 100)
    assert account.balance == 10_000.0
    assert account.profit == pytest.approx(profit)
    assert account.equity == pytest.approx(account.balance + profit)
    margin = 1.0 * 100_000 / 100 * 1.09900 + 0.1 * 100 * 2390.00 / 100  # EUR margin in USD; gold in USD
    assert account.margin == pytest.approx(margin, abs=0.01)
    assert account.margin_free == pytest.approx(account.equity - account.margin, abs=0.01)
    assert account.margin_level == pytest.approx(account.equity / account.margin * 100, abs=0.01)


def test_order_calc_margin_and_profit(mt5: SimulatedTerminal) -> None:
    """order_calc_margin / order_calc_profit answer in the account currency."""
    assert mt5.order_calc_margin(c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.1) == pytest.approx(1100.0)
    assert mt5.order_calc_margin(c.ORDER_TYPE_SELL, "USDJPY", 0.5, 150.0) == pytest.approx(500.0)
    assert mt5.order_calc_margin(c.ORDER_TYPE_BUY, "XAUUSD", 1.0, 2400.0) == pytest.approx(2400.0)
    assert mt5.order_calc_profit(c.ORDER_TYPE_SELL, "EURUSD", 0.5, 1.1, 1.09) == pytest.approx(500.0)
    assert mt5.order_calc_profit(c.ORDER_TYPE_BUY, "XAUUSD", 0.1, 2400.0, 2410.0) == pytest.approx(100.0)
    assert mt5.order_calc_margin(c.ORDER_TYPE_BUY_LIMIT, "EURUSD", 1.0, 1.1) is None
    assert mt5.order_calc_margin(c.ORDER_TYPE_BUY, "NOSUCH", 1.0, 1.1) is None
    mt5.control("configure_account", leverage=500)
    assert mt5.order_calc_margin(c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.1) == pytest.approx(220.0)


def test_realised_profit_moves_the_balance(mt5: SimulatedTerminal) -> None:
    """Closing books the profit on the balance; the deal carries it."""
    ticket = open_position(mt5, c.ORDER_TYPE_SELL, 0.2, symbol="USDJPY")
    mt5.control("set_price", symbol="USDJPY", bid=149.000, ask=149.010)
    close = mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="USDJPY", volume=0.2, type=c.ORDER_TYPE_BUY,
                           position=ticket)  # fmt: skip
    out = mt5.history_deals_get(ticket=close.order)[0]
    assert out.profit == pytest.approx(round(0.2 * 100_000 * (150.000 - 149.010) / 149.000, 2))
    assert mt5.account_info().balance == pytest.approx(10_000 + out.profit)
    assert mt5.account_info().margin == 0.0


def test_symbol_info_carries_live_prices_and_contract_values(mt5: SimulatedTerminal) -> None:
    """symbol_info has the current bid/ask and realistic contract values (point, digits, tick value)."""
    info = mt5.symbol_info("USDJPY")
    assert (info.bid, info.ask, info.spread) == (150.000, 150.010, 10)
    assert (info.digits, info.point, info.trade_contract_size, info.currency_profit) == (3, 0.001, 100_000.0, "JPY")
    assert info.trade_tick_value == pytest.approx(100_000 * 0.001 / 150.000)
    assert info.bidlow <= info.bid <= info.bidhigh
    assert mt5.symbol_info("XAUUSD").trade_calc_mode == c.SYMBOL_CALC_MODE_CFDLEVERAGE
    assert mt5.symbol_info("EURUSD").trade_calc_mode == c.SYMBOL_CALC_MODE_FOREX
    assert mt5.symbol_info("BTCUSD").trade_calc_mode == c.SYMBOL_CALC_MODE_CFDLEVERAGE
