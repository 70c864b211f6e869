"""Netting accounts (one position per symbol) against hedging accounts (one position per deal)."""

from __future__ import annotations

import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import BID, HELD_EURUSD, OpenSim, answered, deal


@pytest.fixture
def netting(open_sim: OpenSim) -> SimulatedTerminal:
    return open_sim(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING, prices=HELD_EURUSD)


@pytest.fixture
def hedging(open_sim: OpenSim) -> SimulatedTerminal:
    return open_sim(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, prices=HELD_EURUSD)


def test_same_direction_deals_add_up_at_the_average_price(netting: SimulatedTerminal) -> None:
    """Netting: a second BUY adds to the one position, which keeps its ticket and averages its price."""
    first = deal(netting, c.ORDER_TYPE_BUY, 0.1)
    netting.control("set_price", symbol="EURUSD", bid=1.10100, ask=1.10110)
    second = deal(netting, c.ORDER_TYPE_BUY, 0.3)
    (position,) = answered(netting.positions_get())
    assert position.ticket == first.order != second.order
    assert position.volume == pytest.approx(0.4)
    assert position.price_open == pytest.approx((0.1 * 1.10010 + 0.3 * 1.10110) / 0.4)
    entries = [(d.entry, d.position_id) for d in netting.history_deals_get(position=first.order)]
    assert entries == [(c.DEAL_ENTRY_IN, first.order), (c.DEAL_ENTRY_IN, first.order)]


def test_opposite_deals_reduce_then_close(netting: SimulatedTerminal) -> None:
    """Netting: an opposite deal reduces the position (DEAL_ENTRY_OUT, profit booked), an equal one closes it."""
    ticket = deal(netting, c.ORDER_TYPE_BUY, 0.3).order
    netting.control("set_price", symbol="EURUSD", bid=1.10110, ask=1.10120)
    reduce = deal(netting, c.ORDER_TYPE_SELL, 0.1)
    (position,) = answered(netting.positions_get())
    assert (position.ticket, position.volume) == (ticket, pytest.approx(0.2))
    out = netting.history_deals_get(ticket=reduce.order)[0]
    assert (out.entry, out.profit) == (c.DEAL_ENTRY_OUT, pytest.approx(10.0))
    deal(netting, c.ORDER_TYPE_SELL, 0.2)
    assert netting.positions_get() == ()
    assert netting.account_info().balance == pytest.approx(10_000 + 30.0)


def test_a_larger_opposite_deal_reverses_the_position(netting: SimulatedTerminal) -> None:
    """Netting: an opposite deal larger than the position reverses it (DEAL_ENTRY_INOUT): same ticket, the
    other side, the remaining volume, opened at the deal price with the deal's stops."""
    ticket = deal(netting, c.ORDER_TYPE_BUY, 0.1, sl=1.09000).order
    reverse = deal(netting, c.ORDER_TYPE_SELL, 0.3, sl=1.11000)
    (position,) = answered(netting.positions_get())
    assert (position.ticket, position.type, position.volume) == (ticket, c.POSITION_TYPE_SELL, pytest.approx(0.2))
    assert (position.price_open, position.sl) == (BID, 1.11000)
    inout = netting.history_deals_get(ticket=reverse.order)[0]
    assert (inout.entry, inout.volume, inout.position_id) == (c.DEAL_ENTRY_INOUT, 0.3, ticket)
    assert inout.profit == pytest.approx(-1.0)


def test_netting_close_with_position_cannot_reverse(netting: SimulatedTerminal) -> None:
    """Netting: a close naming the position may not exceed its volume (10038); a wrong ticket is refused."""
    ticket = deal(netting, c.ORDER_TYPE_BUY, 0.1).order
    assert deal(netting, c.ORDER_TYPE_SELL, 0.2, position=ticket).retcode == c.TRADE_RETCODE_INVALID_CLOSE_VOLUME
    assert deal(netting, c.ORDER_TYPE_SELL, 0.1, position=ticket + 999).retcode == c.TRADE_RETCODE_INVALID
    assert deal(netting, c.ORDER_TYPE_SELL, 0.1, position=ticket).retcode == c.TRADE_RETCODE_DONE
    assert deal(netting, c.ORDER_TYPE_SELL, 0.1, position=ticket).retcode == c.TRADE_RETCODE_POSITION_CLOSED


def test_one_position_per_symbol_only(netting: SimulatedTerminal) -> None:
    """Netting: positions on different symbols are separate; each symbol holds at most one."""
    deal(netting, c.ORDER_TYPE_BUY, 0.1)
    netting.order_send(action=c.TRADE_ACTION_DEAL, symbol="GBPUSD", volume=0.1, type=c.ORDER_TYPE_SELL)
    deal(netting, c.ORDER_TYPE_SELL, 0.05)
    assert sorted((p.symbol, p.volume) for p in netting.positions_get()) == [("EURUSD", 0.05), ("GBPUSD", 0.1)]


def test_netting_pending_fill_adds_to_the_position(netting: SimulatedTerminal) -> None:
    """Netting: a pending order that fills joins the symbol's position instead of opening another."""
    ticket = deal(netting, c.ORDER_TYPE_BUY, 0.1).order
    order = netting.order_send(action=c.TRADE_ACTION_PENDING, symbol="EURUSD", volume=0.2,
                               type=c.ORDER_TYPE_BUY_LIMIT, price=1.09900,
                               type_filling=c.ORDER_FILLING_RETURN).order  # fmt: skip
    netting.control("set_price", symbol="EURUSD", bid=1.09890, ask=1.09900)
    (position,) = answered(netting.positions_get())
    assert (position.ticket, position.volume) == (ticket, pytest.approx(0.3))
    assert netting.history_orders_get(ticket=order)[0].position_id == ticket


def test_netting_stop_loss_closes_the_whole_position(netting: SimulatedTerminal) -> None:
    """Netting: SLTP sets the position's stops and the server closes it when the SL is reached."""
    ticket = deal(netting, c.ORDER_TYPE_SELL, 0.2).order
    result = netting.order_send(action=c.TRADE_ACTION_SLTP, symbol="EURUSD", position=ticket, sl=1.10200, tp=0.0)
    assert result.retcode == c.TRADE_RETCODE_DONE
    netting.control("set_price", symbol="EURUSD", bid=1.10200, ask=1.10210)
    assert netting.positions_get() == ()
    assert netting.history_deals_get(position=ticket)[-1].reason == c.DEAL_REASON_SL


def test_hedging_keeps_opposite_positions_apart(hedging: SimulatedTerminal) -> None:
    """Hedging: each deal without position= opens its own position, even against an open one."""
    buy = deal(hedging, c.ORDER_TYPE_BUY, 0.1).order
    sell = deal(hedging, c.ORDER_TYPE_SELL, 0.3).order
    kinds = {p.ticket: (p.type, p.volume) for p in hedging.positions_get()}
    assert kinds == {buy: (c.POSITION_TYPE_BUY, 0.1), sell: (c.POSITION_TYPE_SELL, 0.3)}
    assert deal(hedging, c.ORDER_TYPE_BUY, 0.1, position=buy).retcode == c.TRADE_RETCODE_INVALID  # same side
