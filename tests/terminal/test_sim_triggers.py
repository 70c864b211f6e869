"""The simulated trade server's own work: stops and take profits, pending orders filling, expirations."""

from __future__ import annotations

import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import ASK, BID, HELD_EURUSD, answered, open_position

pytestmark = pytest.mark.sim(prices=HELD_EURUSD)


def pending(mt5: SimulatedTerminal, order_type: int, price: float, **extra) -> int:
    result = mt5.order_send(action=c.TRADE_ACTION_PENDING, symbol="EURUSD", volume=0.1, type=order_type,
                            price=price, type_filling=c.ORDER_FILLING_RETURN, **extra)  # fmt: skip
    assert result.retcode == c.TRADE_RETCODE_PLACED, result
    return result.order


def closing_deal(mt5: SimulatedTerminal, ticket: int):  # noqa: ANN201
    (deal,) = [d for d in mt5.history_deals_get(position=ticket) if d.entry == c.DEAL_ENTRY_OUT]
    return deal


def test_stop_loss_closes_at_the_first_tick_that_reaches_it(mt5: SimulatedTerminal) -> None:
    """The server closes a BUY whose SL the bid reached, at the time and bid of the first tick at or below the
    SL, with reason SL and a "[sl ...]" comment, and books the loss."""
    ticket = open_position(mt5, sl=1.09950, tp=1.10500)
    balance = mt5.account_info().balance
    start = mt5.control("now")
    mt5.control("play_path", symbol="EURUSD", points=[[10, 1.09900], [20, 1.10000]])
    mt5.control("advance", seconds=5)
    assert mt5.positions_get(ticket=ticket) != ()
    mt5.control("advance", seconds=25)
    assert mt5.positions_get(ticket=ticket) == ()
    deal = closing_deal(mt5, ticket)
    ticks = mt5.copy_ticks_range("EURUSD", start, start + 30, c.COPY_TICKS_ALL)
    after_open = ticks[ticks["time_msc"] > int(start * 1000)]
    first = after_open[after_open["bid"] <= 1.09950][0]
    assert (deal.reason, deal.comment) == (c.DEAL_REASON_SL, "[sl 1.09950]")
    assert (deal.price, deal.time_msc) == (first["bid"], first["time_msc"])
    assert deal.profit == pytest.approx((deal.price - ASK) * 10_000, abs=0.005)
    assert mt5.account_info().balance == pytest.approx(balance + deal.profit)
    order = mt5.history_orders_get(ticket=deal.order)[0]
    assert (order.reason, order.type, order.state) == (c.ORDER_REASON_SL, c.ORDER_TYPE_SELL, c.ORDER_STATE_FILLED)


def test_a_price_set_beyond_the_stop_fills_at_the_gap_price(mt5: SimulatedTerminal) -> None:
    """A stop jumped over (a gap, or a price set beyond it) fills at the first price on the far side."""
    ticket = open_position(mt5, sl=1.09950)
    mt5.control("set_price", symbol="EURUSD", bid=1.09900, ask=1.09910)
    deal = closing_deal(mt5, ticket)
    assert (deal.reason, deal.price) == (c.DEAL_REASON_SL, 1.09900)


def test_take_profit_of_a_sell_fires_on_the_ask(mt5: SimulatedTerminal) -> None:
    """A SELL's TP fires when the ask falls to it (the bid alone reaching it is not enough)."""
    ticket = open_position(mt5, c.ORDER_TYPE_SELL, tp=1.09900)
    mt5.control("set_price", symbol="EURUSD", bid=1.09895, ask=1.09905)
    assert mt5.positions_get(ticket=ticket) != ()
    mt5.control("set_price", symbol="EURUSD", bid=1.09890, ask=1.09900)
    deal = closing_deal(mt5, ticket)
    assert (deal.reason, deal.price, deal.comment, deal.type) == (c.DEAL_REASON_TP, 1.09900, "[tp 1.09900]",
                                                                  c.DEAL_TYPE_BUY)  # fmt: skip
    assert deal.profit == pytest.approx(10.0)


def test_stops_fire_only_for_the_positions_touched(mt5: SimulatedTerminal) -> None:
    """Of many positions only those whose level the price reached are closed."""
    near = [open_position(mt5, sl=1.09960) for _ in range(20)]
    far = [open_position(mt5, sl=1.09800) for _ in range(20)]
    mt5.control("set_price", symbol="EURUSD", bid=1.09950, ask=1.09960)
    open_tickets = {p.ticket for p in mt5.positions_get()}
    assert open_tickets == set(far)
    assert all(closing_deal(mt5, t).reason == c.DEAL_REASON_SL for t in near)


def test_stops_fire_while_the_terminal_is_disconnected(mt5: SimulatedTerminal) -> None:
    """The server keeps working when the terminal is gone: the close is there after reconnecting."""
    ticket = open_position(mt5, tp=1.10100)
    mt5.control("inject_fault", kind="disconnect")
    mt5.control("set_price", symbol="EURUSD", bid=1.10150, ask=1.10160)
    assert mt5.initialize()
    assert mt5.positions_get(ticket=ticket) == ()
    assert closing_deal(mt5, ticket).reason == c.DEAL_REASON_TP


def test_buy_limit_fills_when_the_ask_reaches_it(mt5: SimulatedTerminal) -> None:
    """A BUY_LIMIT fills when the ask falls to its price (at the first tick's ask at or below it): the
    position takes the order's ticket, history keeps the order as filled with its own type, and an IN deal is
    recorded."""
    ticket = pending(mt5, c.ORDER_TYPE_BUY_LIMIT, 1.09800, sl=1.09500, tp=1.10500, magic=9, comment="dip")
    mt5.control("set_price", symbol="EURUSD", bid=1.09795, ask=1.09805)
    assert mt5.orders_get(ticket=ticket) != ()
    mt5.control("play_path", symbol="EURUSD", points=[[10, 1.09700]])
    mt5.control("advance", seconds=15)
    assert mt5.orders_get(ticket=ticket) == ()
    (position,) = answered(mt5.positions_get(ticket=ticket))
    assert (position.type, position.sl, position.tp, position.magic, position.comment) == (
        c.POSITION_TYPE_BUY,
        1.09500,
        1.10500,
        9,
        "dip",
    )
    assert 1.09700 < position.price_open <= 1.09800
    order = mt5.history_orders_get(ticket=ticket)[0]
    assert (order.type, order.state, order.position_id) == (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_STATE_FILLED, ticket)
    (deal,) = answered(mt5.history_deals_get(ticket=ticket))
    assert (deal.entry, deal.type, deal.price) == (c.DEAL_ENTRY_IN, c.DEAL_TYPE_BUY, position.price_open)


def test_sell_stop_fills_when_the_bid_falls_to_it(mt5: SimulatedTerminal) -> None:
    """A SELL_STOP fills when the bid falls to its price (at the first price beyond it after a gap)."""
    ticket = pending(mt5, c.ORDER_TYPE_SELL_STOP, 1.09900)
    mt5.control("set_price", symbol="EURUSD", bid=1.09880, ask=1.09890)
    (position,) = answered(mt5.positions_get(ticket=ticket))
    assert (position.type, position.price_open) == (c.POSITION_TYPE_SELL, 1.09880)


def test_stop_limit_becomes_a_limit_then_fills(mt5: SimulatedTerminal) -> None:
    """A BUY_STOP_LIMIT turns into a BUY_LIMIT at its stoplimit price once the ask reaches the stop price."""
    ticket = pending(mt5, c.ORDER_TYPE_BUY_STOP_LIMIT, 1.10200, stoplimit=1.10100)
    mt5.control("set_price", symbol="EURUSD", bid=1.10200, ask=1.10210)
    (order,) = answered(mt5.orders_get(ticket=ticket))
    assert (order.type, order.price_open) == (c.ORDER_TYPE_BUY_LIMIT, 1.10100)
    mt5.control("set_price", symbol="EURUSD", bid=1.10090, ask=1.10100)
    assert mt5.orders_get(ticket=ticket) == ()
    assert mt5.positions_get(ticket=ticket)[0].price_open == 1.10100


def test_pending_order_expires_at_its_expiration(mt5: SimulatedTerminal) -> None:
    """ORDER_TIME_SPECIFIED orders expire at their expiration; history shows ORDER_STATE_EXPIRED."""
    now = int(mt5.control("now"))
    ticket = pending(mt5, c.ORDER_TYPE_SELL_LIMIT, 1.10500, type_time=c.ORDER_TIME_SPECIFIED, expiration=now + 60)
    assert mt5.orders_get(ticket=ticket)[0].time_expiration == now + 60
    mt5.control("advance", seconds=30)
    assert mt5.orders_total() == 1
    mt5.control("advance", seconds=31)
    assert mt5.orders_total() == 0
    assert mt5.history_orders_get(ticket=ticket)[0].state == c.ORDER_STATE_EXPIRED
    late = mt5.order_send(action=c.TRADE_ACTION_PENDING, symbol="EURUSD", volume=0.1, type=c.ORDER_TYPE_SELL_LIMIT,
                          price=1.10500, type_filling=c.ORDER_FILLING_RETURN, type_time=c.ORDER_TIME_SPECIFIED,
                          expiration=now)  # fmt: skip
    assert late.retcode == c.TRADE_RETCODE_INVALID_EXPIRATION


def test_day_orders_expire_at_the_end_of_the_server_day(mt5: SimulatedTerminal) -> None:
    """ORDER_TIME_DAY orders live until the end of the server day they were placed on."""
    now = mt5.control("now")
    ticket = pending(mt5, c.ORDER_TYPE_BUY_LIMIT, 1.09000, type_time=c.ORDER_TIME_DAY)
    mt5.control("advance", seconds=(int(now) // 86400 + 1) * 86400 - now - 1)
    mt5.control("set_price", symbol="EURUSD", bid=BID, ask=ASK)
    assert mt5.orders_total() == 1
    mt5.control("advance", seconds=2)
    assert mt5.history_orders_get(ticket=ticket)[0].state == c.ORDER_STATE_EXPIRED


def test_triggered_order_without_margin_is_rejected(mt5: SimulatedTerminal) -> None:
    """A pending order that fills when the account cannot carry it is rejected, not opened."""
    ticket = mt5.order_send(action=c.TRADE_ACTION_PENDING, symbol="EURUSD", volume=50.0,
                            type=c.ORDER_TYPE_BUY_LIMIT, price=1.09000,
                            type_filling=c.ORDER_FILLING_RETURN).order  # fmt: skip
    mt5.control("set_price", symbol="EURUSD", bid=1.08990, ask=1.09000)
    assert mt5.positions_total() == 0
    assert mt5.history_orders_get(ticket=ticket)[0].state == c.ORDER_STATE_REJECTED
