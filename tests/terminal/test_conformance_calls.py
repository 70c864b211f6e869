"""Conformance of SimulatedTerminal with MT5_API.md §4 (calling conventions) and §11.2."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import SUCCESS, open_position

pytestmark = pytest.mark.sim(history_days=2.0)


POSITIONAL_ONLY_CALLS = [
    ("copy_rates_from", ("EURUSD", c.TIMEFRAME_M1, 0, 10), {"count": 10}),
    ("copy_rates_from_pos", ("EURUSD", c.TIMEFRAME_M1, 0), {"count": 10}),
    ("copy_rates_range", ("EURUSD", c.TIMEFRAME_M1, 0), {"date_to": 10}),
    ("copy_ticks_from", ("EURUSD", 0, 10), {"flags": c.COPY_TICKS_ALL}),
    ("copy_ticks_range", ("EURUSD", 0, 10), {"flags": c.COPY_TICKS_ALL}),
    ("symbol_info", (), {"symbol": "EURUSD"}),
    ("symbol_info_tick", (), {"symbol": "EURUSD"}),
    ("symbol_select", ("EURUSD",), {"enable": True}),
    ("market_book_add", (), {"symbol": "EURUSD"}),
    ("market_book_get", (), {"symbol": "EURUSD"}),
    ("market_book_release", (), {"symbol": "EURUSD"}),
    ("order_calc_margin", (c.ORDER_TYPE_BUY, "EURUSD", 1.0), {"price": 1.1}),
    ("order_calc_profit", (c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.1), {"price_close": 1.2}),
    ("history_orders_total", (0,), {"date_to": 10}),
    ("history_deals_total", (0,), {"date_to": 10}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), POSITIONAL_ONLY_CALLS, ids=[p[0] for p in POSITIONAL_ONLY_CALLS])
def test_positional_only_functions_reject_keywords(
    mt5: SimulatedTerminal, name: str, args: tuple, kwargs: dict
) -> None:
    """MT5_API.md §4 / §11.2: positional-only functions reject keywords with TypeError, as CPython does."""
    with pytest.raises(TypeError, match="takes no keyword arguments"):
        getattr(mt5, name)(*args, **kwargs)


def test_positional_only_functions_work_by_position(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §4: the same functions answer when called by position."""
    assert len(mt5.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 10)) == 10
    assert mt5.symbol_info("EURUSD").name == "EURUSD"
    assert mt5.symbol_select("EURUSD", True) is True
    assert mt5.order_calc_margin(c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.1) > 0
    assert mt5.history_deals_total(0, time.time() + 3600 * 24 * 365 * 5) >= 1


@pytest.mark.parametrize("name", ["positions_get", "orders_get"])
def test_keyword_only_getters_refuse_positional_arguments(mt5: SimulatedTerminal, name: str) -> None:
    """MT5_API.md §4: positions_get/orders_get are keyword only; a positional argument gives None plus
    (-2, "Unnamed arguments not allowed")."""
    assert getattr(mt5, name)("EURUSD") is None
    assert mt5.last_error() == (-2, "Unnamed arguments not allowed")
    assert getattr(mt5, name)(symbol="EURUSD") == ()
    assert mt5.last_error() == SUCCESS


def test_filter_precedence_is_ticket_then_symbol_then_group(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §4: filter precedence is ticket, then symbol, then group, otherwise all."""
    eurusd = open_position(mt5, symbol="EURUSD")
    gbpusd = open_position(mt5, symbol="GBPUSD")
    usdjpy = open_position(mt5, symbol="USDJPY")
    assert {p.ticket for p in mt5.positions_get()} == {eurusd, gbpusd, usdjpy}
    assert [p.ticket for p in mt5.positions_get(ticket=gbpusd, symbol="EURUSD", group="*JPY*")] == [gbpusd]
    assert [p.ticket for p in mt5.positions_get(symbol="EURUSD", group="*JPY*")] == [eurusd]
    assert [p.ticket for p in mt5.positions_get(group="*JPY*")] == [usdjpy]


def test_group_masks_use_wildcards_and_exclusions(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §4: group filters take comma-separated masks with * wildcards and ! exclusions."""
    tickets = {symbol: open_position(mt5, symbol=symbol) for symbol in ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")}
    selected = {p.symbol for p in mt5.positions_get(group="*USD*,!EUR*")}
    assert selected == {"GBPUSD", "USDJPY", "XAUUSD"}
    assert {p.symbol for p in mt5.positions_get(group="*,!*USD")} == {"USDJPY"}
    assert {s.name for s in mt5.symbols_get(group="*,!*USD*")} == set()
    assert {s.name for s in mt5.symbols_get("EUR*,XAU*")} == {"EURUSD", "XAUUSD"}
    assert len(tickets) == 4


def test_history_forms_range_ticket_and_position(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §4: history_*_get take (from, to, group=) or ticket= or position=; for deals ticket= is the
    order ticket and position= matches DEAL_POSITION_ID."""
    ticket = open_position(mt5, symbol="EURUSD")
    close = mt5.order_send(action=c.TRADE_ACTION_DEAL, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_SELL,
                           position=ticket)  # fmt: skip
    other = open_position(mt5, symbol="GBPUSD")
    far = time.time() + 10 * 365 * 86400
    by_range = mt5.history_deals_get(0, far, group="EUR*")
    assert {d.position_id for d in by_range} == {ticket}
    assert [d.ticket for d in mt5.history_deals_get(ticket=close.order)] == [close.deal]
    assert [d.entry for d in mt5.history_deals_get(position=ticket)] == [c.DEAL_ENTRY_IN, c.DEAL_ENTRY_OUT]
    assert [o.ticket for o in mt5.history_orders_get(ticket=other)] == [other]
    assert {o.ticket for o in mt5.history_orders_get(position=ticket)} == {ticket, close.order}
    assert mt5.history_deals_get(1, ticket=ticket) is None
    assert mt5.last_error() == (-2, "Unnamed arguments not allowed")


def test_order_send_takes_a_dict_or_the_same_keywords(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §4: order_send / order_check take one dict, or the same keys as keyword arguments."""
    request = {"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1, "type": c.ORDER_TYPE_BUY}
    by_dict = mt5.order_send(request)
    by_keywords = mt5.order_send(**request)
    assert by_dict.retcode == by_keywords.retcode == c.TRADE_RETCODE_DONE
    assert by_dict.request == by_keywords.request
    assert mt5.order_check(request).retcode == 0
    assert mt5.order_check(**request).retcode == 0
    assert mt5.order_send([request]) is None
    assert mt5.last_error() == (-2, "Invalid arguments")


def test_dates_may_be_datetimes_ints_or_floats(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §4: dates may be a datetime (its .timestamp()), an int or a float (truncated)."""
    now = mt5.control("now")
    anchor = int(now // 60 * 60) - 3600
    aware = datetime.fromtimestamp(anchor, tz=UTC)
    from_int = mt5.copy_rates_from("EURUSD", c.TIMEFRAME_M1, anchor, 5)
    from_float = mt5.copy_rates_from("EURUSD", c.TIMEFRAME_M1, anchor + 0.9, 5)
    from_aware = mt5.copy_rates_from("EURUSD", c.TIMEFRAME_M1, aware, 5)
    assert list(from_int["time"]) == list(from_float["time"]) == list(from_aware["time"])
    assert from_int["time"][-1] == anchor


def test_naive_datetimes_are_read_as_local_time(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §4: a naive datetime is read as local time (its .timestamp() is used)."""
    anchor = int(mt5.control("now") // 60 * 60) - 7200
    naive_local = datetime.fromtimestamp(anchor)  # local wall time, no tzinfo
    rates = mt5.copy_rates_from("EURUSD", c.TIMEFRAME_M1, naive_local, 1)
    assert rates["time"][-1] == anchor
    assert mt5.copy_rates_from("EURUSD", c.TIMEFRAME_M1, "yesterday", 1) is None
    assert mt5.last_error() == (-2, "Invalid 3rd unnamed argument")


def test_symbol_longer_than_29_characters_is_invalid(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §4 / §11.2: symbol strings must be at most 29 characters; longer is an invalid argument."""
    assert mt5.symbol_info("X" * 30) is None
    assert mt5.last_error()[0] == -2
    assert mt5.positions_get(symbol="X" * 30) is None
    assert mt5.last_error() == (-2, 'Invalid "symbol" argument')
    request = {"action": c.TRADE_ACTION_DEAL, "symbol": "E" * 30, "volume": 0.1, "type": c.ORDER_TYPE_BUY}
    assert mt5.order_send(request) is None
    assert mt5.last_error() == (-2, 'Invalid "symbol" argument')


def test_comment_longer_than_29_characters_is_invalid(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §4 / §11.2: comments must be at most 29 characters."""
    request = {"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1, "type": c.ORDER_TYPE_BUY}
    assert mt5.order_send({**request, "comment": "c" * 30}) is None
    assert mt5.last_error() == (-2, 'Invalid "comment" argument')
    assert mt5.order_send({**request, "comment": "c" * 29}).retcode == c.TRADE_RETCODE_DONE


def test_fixed_format_parsers_raise_system_error_on_wrong_types(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §2: only CPython raises; bad types in copy_*/order_calc_* surface as SystemError."""
    with pytest.raises(SystemError):
        mt5.copy_rates_from_pos("EURUSD", "M1", 0, 10)
    with pytest.raises(SystemError):
        mt5.order_calc_margin(c.ORDER_TYPE_BUY, 7, 1.0, 1.1)
