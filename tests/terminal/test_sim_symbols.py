"""Symbols, depth of market, terminal and account information, and the module's Buy/Sell/Close helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import HELD_EURUSD, open_terminal

pytestmark = pytest.mark.sim(prices=HELD_EURUSD)


def test_symbols_get_answers_false_for_bad_arguments(mt5: SimulatedTerminal) -> None:
    """symbols_get() returns False (not None) on bad arguments, None when disconnected."""
    assert len(mt5.symbols_get()) == mt5.symbols_total() == 5
    assert mt5.symbols_get(group=5) is False
    assert mt5.last_error() == (-2, 'Invalid "group" argument')
    assert mt5.symbols_get("*", group="*") is False
    mt5.shutdown()
    assert mt5.symbols_get() is None


def test_symbol_select_hides_and_shows(mt5: SimulatedTerminal) -> None:
    """symbol_select(s, False) hides a symbol (select/visible False) unless it has open positions."""
    assert mt5.symbol_select("GBPUSD", False) is True
    assert (mt5.symbol_info("GBPUSD").select, mt5.symbol_info("GBPUSD").visible) == (False, False)
    assert mt5.symbol_select("GBPUSD") is True
    assert mt5.symbol_info("GBPUSD").select is True
    mt5.order_send(action=1, symbol="EURUSD", volume=0.1, type=0)
    assert mt5.symbol_select("EURUSD", False) is False
    assert mt5.last_error() == (-1, "Terminal: Call failed")


def test_market_book_needs_a_subscription(mt5: SimulatedTerminal) -> None:
    """market_book_get answers after market_book_add: sell levels above the ask, buy levels below the bid,
    prices descending; market_book_release ends it."""
    assert mt5.market_book_get("EURUSD") is None
    assert mt5.market_book_add("EURUSD") is True
    book = mt5.market_book_get("EURUSD")
    prices = [level.price for level in book]
    assert prices == sorted(prices, reverse=True)
    assert {level.type for level in book if level.price >= 1.10010} == {c.BOOK_TYPE_SELL}
    assert {level.type for level in book if level.price <= 1.10000} == {c.BOOK_TYPE_BUY}
    assert mt5.market_book_release("EURUSD") is True
    assert mt5.market_book_release("EURUSD") is False
    assert mt5.market_book_add("NOSUCH") is False


def test_terminal_info_describes_the_simulated_terminal(tmp_path: Path) -> None:
    """terminal_info has every field; connected, trade_allowed and the data path are the simulator's own."""
    mt5 = open_terminal(tmp_path)
    try:
        info = mt5.terminal_info()
        assert len(info) == 22
        assert (info.connected, info.trade_allowed, info.data_path) == (True, True, str(tmp_path))
        assert info.build == mt5.version()[1]
    finally:
        mt5.close()


def test_account_info_describes_the_account(mt5: SimulatedTerminal) -> None:
    """account_info has every field with the account's identity and money."""
    info = mt5.account_info()
    assert len(info) == 28
    assert (info.login, info.server, info.currency, info.margin_mode) == (5_000_123, "DTMS-Sim", "USD", 2)
    assert (info.balance, info.equity, info.margin, info.leverage) == (10_000.0, 10_000.0, 0.0, 100)


def test_buy_sell_and_close_helpers(mt5: SimulatedTerminal) -> None:
    """Buy/Sell send market orders (deviation 10, price re-read); Close closes a ticket's or a symbol's
    positions and answers True, "Partially" or False."""
    bought = mt5.Buy("EURUSD", 0.2, comment="helper")
    sold = mt5.Sell("EURUSD", 0.1)
    assert (bought.retcode, bought.price, bought.request.deviation) == (c.TRADE_RETCODE_DONE, 1.1001, 10)
    assert (sold.price, mt5.positions_get(ticket=bought.order)[0].comment) == (1.1, "helper")
    assert mt5.Close("EURUSD", ticket=sold.order) is True
    assert [p.ticket for p in mt5.positions_get()] == [bought.order]
    mt5.control("inject_fault", kind="retcode", retcode=10016)
    mt5.Sell("EURUSD", 0.1)
    assert mt5.positions_total() == 1
    mt5.Sell("EURUSD", 0.1)
    mt5.control("inject_fault", kind="retcode", retcode=10016)
    assert mt5.Close("EURUSD") == "Partially"
    assert mt5.Close("EURUSD") is True
    assert mt5.Close("EURUSD") is False
    mt5.control("inject_fault", kind="retcode", retcode=10004, count=3)
    assert mt5.Buy("EURUSD", 0.1).retcode == c.TRADE_RETCODE_DONE  # requotes are retried
