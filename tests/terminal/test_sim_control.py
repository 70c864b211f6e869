"""Control commands: how tests and the /sim/ routes drive the simulated world."""

from __future__ import annotations

import json

import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import START, answered


def test_set_price_holds_until_released(mt5: SimulatedTerminal) -> None:
    """set_price holds bid/ask (ask defaults to bid + the typical spread); release_price hands it back."""
    held = mt5.control("set_price", symbol="EURUSD", bid=1.2)
    assert held["bid"] == 1.2 and held["ask"] == pytest.approx(1.2 + 10 * 0.00001) and held["scripted"] is True
    mt5.control("advance", seconds=120)
    tick = mt5.symbol_info_tick("EURUSD")
    assert (tick.bid, tick.ask) == (1.2, held["ask"])
    mt5.control("release_price", symbol="EURUSD")
    mt5.control("advance", seconds=3600)
    quotes = mt5.control("quotes")
    assert quotes["EURUSD"]["scripted"] is False and quotes["EURUSD"]["bid"] != 1.2
    assert set(quotes) == {"EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD"}
    assert set(quotes["GBPUSD"]) == {"bid", "ask", "time_msc", "scripted"}


def test_play_path_moves_the_price_in_simulated_time(mt5: SimulatedTerminal) -> None:
    """play_path takes (seconds after now, bid) points, interpolated in simulated time, holding the last."""
    mt5.control("set_price", symbol="GBPUSD", bid=1.30000)
    mt5.control("play_path", symbol="GBPUSD", points=[[0, 1.30000], [100, 1.31000]], spread_points=20)
    mt5.control("advance", seconds=50)
    mid = mt5.symbol_info_tick("GBPUSD")
    assert 1.30300 < mid.bid < 1.30700 and mid.ask == pytest.approx(mid.bid + 0.0002)
    mt5.control("advance", seconds=500)
    assert mt5.symbol_info_tick("GBPUSD").bid == 1.31000


def test_clock_commands(mt5: SimulatedTerminal) -> None:
    """now(), advance(seconds) and set_speed(speed) drive the server clock."""
    now = mt5.control("now")
    assert now == START
    assert mt5.control("advance", seconds=90) == pytest.approx(START + 90)
    assert mt5.symbol_info_tick("EURUSD").time >= int(START + 60)
    assert mt5.control("set_speed", speed=60.0) == 60.0
    assert mt5.control("state")["speed"] == 60.0
    with pytest.raises(ValueError):
        mt5.control("advance", seconds=-1)


def test_configure_symbol_changes_broker_rules(mt5: SimulatedTerminal) -> None:
    """configure_symbol changes a symbol's rules; unknown fields and wrong types are ValueErrors."""
    spec = mt5.control("configure_symbol", symbol="EURUSD", trade_stops_level=30, volume_step=0.1)
    assert spec["trade_stops_level"] == 30
    info = mt5.symbol_info("EURUSD")
    assert (info.trade_stops_level, info.volume_step) == (30, 0.1)
    for bad in ({"colour": "red"}, {"digits": 2.5}, {"name": "X"}, {"trade_mode": True}):
        with pytest.raises(ValueError):
            mt5.control("configure_symbol", symbol="EURUSD", **bad)
    with pytest.raises(ValueError):
        mt5.control("configure_symbol", symbol="NOSUCH", digits=2)


def test_configure_account(mt5: SimulatedTerminal) -> None:
    """configure_account sets balance (through a balance deal), leverage, trade_allowed and margin_mode; the
    margin mode cannot change under open positions."""
    summary = mt5.control("configure_account", balance=25_000.0, leverage=50)
    assert (summary["balance"], summary["leverage"]) == (25_000.0, 50)
    balance_deals = [d for d in mt5.history_deals_get(0, 2**31 - 1) if d.type == c.DEAL_TYPE_BALANCE]
    assert [d.profit for d in balance_deals] == [10_000.0, 15_000.0]
    mt5.control("configure_account", margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)
    assert mt5.account_info().margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING
    mt5.control("open_position", symbol="EURUSD", type="buy", volume=0.1)
    with pytest.raises(ValueError):
        mt5.control("configure_account", margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING)
    mt5.control("configure_account", trade_allowed=False)
    assert mt5.account_info().trade_allowed is False
    refused = mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_BUY)
    assert refused.retcode == c.TRADE_RETCODE_TRADE_DISABLED
    for bad in ({"leverage": 0}, {"balance": -5.0}, {"margin_mode": 1}, {"trade_allowed": "yes"}):
        with pytest.raises(ValueError):
            mt5.control("configure_account", **bad)


def test_open_position_goes_through_order_send(mt5: SimulatedTerminal) -> None:
    """open_position answers the OrderSendResult as a JSON-friendly dict, request included."""
    mt5.control("set_price", symbol="EURUSD", bid=1.10000, ask=1.10010)
    result = mt5.control("open_position", symbol="EURUSD", type="SELL", volume=0.2, sl=1.10500, tp=1.09000,
                         magic=42, comment="bot")  # fmt: skip
    json.dumps(result)
    assert (result["retcode"], result["price"], result["request"]["magic"]) == (c.TRADE_RETCODE_DONE, 1.1, 42)
    (position,) = answered(mt5.positions_get())
    assert (position.ticket, position.sl, position.tp, position.comment) == (result["order"], 1.105, 1.09, "bot")
    refused = mt5.control("open_position", symbol="EURUSD", type="BUY", volume=0.015)
    assert refused["retcode"] == c.TRADE_RETCODE_INVALID_VOLUME
    with pytest.raises(ValueError):
        mt5.control("open_position", symbol="EURUSD", type="LONG", volume=0.1)


def test_trades_made_elsewhere(mt5: SimulatedTerminal) -> None:
    """modify_position and close_position change a position as the trader would by hand."""
    ticket = mt5.control("open_position", symbol="EURUSD", type="BUY", volume=0.3)["order"]
    bid = mt5.symbol_info_tick("EURUSD").bid
    assert mt5.control("modify_position", ticket=ticket, sl=round(bid - 0.005, 5))["retcode"] == 10009
    assert mt5.positions_get(ticket=ticket)[0].sl == round(bid - 0.005, 5)
    assert mt5.control("close_position", ticket=ticket, volume=0.1)["retcode"] == 10009
    assert mt5.positions_get(ticket=ticket)[0].volume == pytest.approx(0.2)
    mt5.control("close_position", ticket=ticket)
    assert mt5.positions_get(ticket=ticket) == ()
    with pytest.raises(ValueError):
        mt5.control("close_position", ticket=ticket)


def test_control_ignores_connection_and_faults_and_keeps_last_error(mt5: SimulatedTerminal) -> None:
    """Control commands are not module calls: they work while disconnected, do not consume faults and leave
    last_error alone."""
    mt5.control("inject_fault", kind="retcode", retcode=10004)
    mt5.control("inject_fault", kind="disconnect")
    assert mt5.positions_get() is None
    result = mt5.control("open_position", symbol="EURUSD", type="BUY", volume=0.1)
    assert result["retcode"] == c.TRADE_RETCODE_DONE
    assert mt5.last_error() == (-10004, "No IPC connection")
    mt5.initialize()
    assert mt5.order_send(action=1, symbol="EURUSD", volume=0.1, type=0).retcode == c.TRADE_RETCODE_REQUOTE


def test_state_summarises_the_world(mt5: SimulatedTerminal) -> None:
    """state() answers counts and an account summary, JSON-friendly."""
    mt5.control("open_position", symbol="EURUSD", type="BUY", volume=0.1)
    state = mt5.control("state")
    json.dumps(state)
    assert (state["connected"], state["positions"], state["orders"], state["deals"]) == (True, 1, 0, 2)
    assert state["account"]["balance"] == 10_000.0 and "equity" in state["account"]
    assert state["time"] == START


def test_unknown_commands_and_bad_arguments_are_value_errors(mt5: SimulatedTerminal) -> None:
    """control raises ValueError for unknown commands and bad arguments."""
    with pytest.raises(ValueError, match="unknown control command"):
        mt5.control("explode")
    with pytest.raises(ValueError):
        mt5.control("set_price", symbol="EURUSD")
    with pytest.raises(ValueError):
        mt5.control("set_price", symbol="EURUSD", bid="high")
    with pytest.raises(ValueError):
        mt5.control("set_price", symbol="NOSUCH", bid=1.0)
    with pytest.raises(ValueError):
        mt5.control("set_price", symbol="EURUSD", bid=1.1, ask=1.0)
    with pytest.raises(ValueError):
        mt5.control("play_path", symbol="EURUSD", points=[[1]])
    with pytest.raises(ValueError):
        mt5.control("set_algo_trading", enabled="no")
