"""Conformance of SimulatedTerminal with MT5_API.md §1 (module shape), §5 (return shapes), §11.3 and §11.6."""

from __future__ import annotations

import numpy as np
import pytest

from app.terminal import constants as c
from app.terminal import structs
from app.terminal.protocol import TERMINAL_FUNCTIONS
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import SUCCESS

pytestmark = pytest.mark.sim(history_days=2.0)


def test_every_module_function_is_there(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §1: the module has 32 functions, plus the helpers Buy, Sell and Close."""
    assert len(TERMINAL_FUNCTIONS) == 32
    for name in (*TERMINAL_FUNCTIONS, "Buy", "Sell", "Close"):
        assert callable(getattr(mt5, name)), name


def test_every_constant_struct_type_and_version_is_exported(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §1: 223 int constants, 11 struct types and __version__ = '5.0.6231'."""
    assert len(c.EXPORTED) == 223
    for name, value in c.EXPORTED.items():
        assert getattr(mt5, name) == value, name
    for name, kind in structs.STRUCT_TYPES.items():
        assert getattr(mt5, name) is kind
    assert mt5.__version__ == "5.0.6231"
    assert (mt5.TIMEFRAME_H1, mt5.ORDER_FILLING_BOC, mt5.TRADE_RETCODE_FIFO_CLOSE) == (16385, 3, 10045)


def test_results_are_immutable_tuples_with_shallow_asdict(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §1: results are immutable tuple subclasses with a shallow _asdict()."""
    result = mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_BUY)
    assert isinstance(result, tuple)
    assert result[0] == result.retcode
    with pytest.raises(AttributeError):
        result.retcode = 1  # type: ignore[misc]
    assert isinstance(result._asdict()["request"], structs.TradeRequest)


def test_totals_are_ints_or_none_on_failure(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §5: the *_total() functions return an int, or None on failure (not 0)."""
    assert mt5.positions_total() == 0 and isinstance(mt5.positions_total(), int)
    assert isinstance(mt5.orders_total(), int)
    assert mt5.symbols_total() == 5
    assert isinstance(mt5.history_deals_total(0, 2**31 - 1), int)
    assert mt5.history_orders_total(0, "x") is None
    assert mt5.last_error()[0] == -2
    mt5.shutdown()
    assert mt5.positions_total() is None


def test_getters_answer_empty_tuples_for_no_match(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §5 / §11.3: no match (unknown or closed ticket) is an EMPTY TUPLE with (1, "Success");
    None only for errors or when disconnected."""
    opened = mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_BUY)
    mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_SELL,
                   position=opened.order)  # fmt: skip
    assert mt5.positions_get(ticket=opened.order) == ()
    assert mt5.last_error() == SUCCESS
    assert mt5.positions_get(ticket=123) == ()
    assert mt5.orders_get(ticket=123) == ()
    assert mt5.history_deals_get(ticket=123) == ()
    assert mt5.history_orders_get(position=123) == ()
    assert mt5.last_error() == SUCCESS
    mt5.control("inject_fault", kind="disconnect")
    assert mt5.positions_get(ticket=opened.order) is None
    assert mt5.last_error() == (-10004, "No IPC connection")


def test_struct_getters_return_structs(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §5: symbol_info, symbol_info_tick, account_info and terminal_info return a struct or None."""
    assert isinstance(mt5.symbol_info("EURUSD"), structs.SymbolInfo)
    assert isinstance(mt5.symbol_info_tick("EURUSD"), structs.Tick)
    assert isinstance(mt5.account_info(), structs.AccountInfo)
    assert isinstance(mt5.terminal_info(), structs.TerminalInfo)
    assert mt5.symbol_info_tick("NOSUCH") is None


@pytest.mark.parametrize(
    "call",
    [
        lambda m, now: m.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M5, 0, 50),
        lambda m, now: m.copy_rates_from("EURUSD", c.TIMEFRAME_H1, now, 20),
        lambda m, now: m.copy_rates_range("EURUSD", c.TIMEFRAME_M1, now - 3600, now),
    ],
    ids=["from_pos", "from", "range"],
)
def test_rates_arrays_have_the_exact_dtype_oldest_first(mt5: SimulatedTerminal, call) -> None:  # noqa: ANN001
    """MT5_API.md §5 / §11.6: copy_rates_* give a packed structured array (itemsize 60), oldest row first."""
    rates = call(mt5, int(mt5.control("now")))
    assert isinstance(rates, np.ndarray)
    assert rates.dtype == structs.RATES_DTYPE and rates.dtype.itemsize == 60
    assert len(rates) > 1
    assert np.all(np.diff(rates["time"]) > 0)


def test_ticks_arrays_have_the_exact_dtype_oldest_first(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §5 / §11.6: copy_ticks_* give a packed structured array (itemsize 60), oldest row first."""
    now = mt5.control("now")
    ticks = mt5.copy_ticks_range("EURUSD", now - 600, now, c.COPY_TICKS_ALL)
    assert ticks.dtype == structs.TICKS_DTYPE and ticks.dtype.itemsize == 60
    assert len(ticks) > 1 and np.all(np.diff(ticks["time_msc"]) >= 0)
    recent = mt5.copy_ticks_from("EURUSD", now - 600, 100, c.COPY_TICKS_ALL)
    assert recent.dtype == structs.TICKS_DTYPE and len(recent) == 100


def test_rates_from_pos_counts_back_from_the_forming_bar(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §5: copy_rates_from_pos counts start_pos backwards from the current, still-forming bar (0)."""
    now = mt5.control("now")
    current = mt5.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 3)
    previous = mt5.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 1, 3)
    assert current["time"][-1] == int(now) // 60 * 60
    assert list(previous["time"]) == list(current["time"] - 60)
    assert current["close"][-1] == mt5.symbol_info_tick("EURUSD").bid


def test_struct_field_order_matches_the_module(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §5: field order per struct is the module's (e.g. TradePosition, OrderSendResult)."""
    assert structs.TradePosition._fields[:5] == ("ticket", "time", "time_msc", "time_update", "time_update_msc")
    assert structs.OrderSendResult._fields[-1] == "request"
    assert mt5.TradeDeal._fields[:6] == ("ticket", "order", "time", "time_msc", "type", "entry")
    assert len(mt5.SymbolInfo._fields) == 96 and len(mt5.TradeRequest._fields) == 17
    position = mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_BUY)
    assert len(mt5.positions_get(ticket=position.order)[0]) == 19
