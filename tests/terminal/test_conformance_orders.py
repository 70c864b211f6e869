"""Conformance of SimulatedTerminal with MT5_API.md §6 (order_send / order_check), §7 (trade actions) and
§11.5."""

from __future__ import annotations

import numpy as np
import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from app.terminal.structs import OrderCheckResult, OrderSendResult, TradeRequest
from tests.terminal.sim_helpers import ASK, BID, HELD_EURUSD, OpenSim, answered, deal

pytestmark = pytest.mark.sim(prices=HELD_EURUSD)


# --- §6 -------------------------------------------------------------------------------------------------


def test_missing_keys_default_to_zero_and_unknown_keys_are_ignored(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §6: every key is optional, a missing key is 0/0.0/"" (FOK, GTC); unknown keys are ignored."""
    result = mt5.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1, "colour": "red"})
    assert result.retcode == c.TRADE_RETCODE_DONE
    request = result.request
    assert request == TradeRequest(c.TRADE_ACTION_DEAL, 0, 0, "EURUSD", 0.1, 0.0, 0.0, 0.0, 0.0, 0,
                                   c.ORDER_TYPE_BUY, c.ORDER_FILLING_FOK, c.ORDER_TIME_GTC, 0, "", 0, 0)  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("action", np.int64(1)),
        ("type", 0.0),
        ("magic", -1),
        ("deviation", "10"),
        ("volume", 1),
        ("price", np.float32(1.1)),
        ("sl", 1),
        ("tp", "1.2"),
        ("expiration", 1.5),
        ("position", np.uint64(5)),
        ("symbol", b"EURUSD"),
    ],
)
def test_request_types_are_strict(mt5: SimulatedTerminal, key: str, value: object) -> None:
    """MT5_API.md §6 / §11.2: int keys take Python int (not numpy ints), float keys take float (not int);
    a wrong type gives None plus (-2, 'Invalid "<key>" argument')."""
    request = {"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1, "type": c.ORDER_TYPE_BUY}
    request[key] = value
    assert mt5.order_send(request) is None
    assert mt5.last_error() == (-2, f'Invalid "{key}" argument')
    assert mt5.order_check(request) is None


def test_numpy_float64_and_bool_pass_the_type_check(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §6: numpy.float64 passes as a float (a float subclass); bool passes as an int."""
    result = deal(mt5, volume=np.float64(0.1), magic=True)
    assert result.retcode == c.TRADE_RETCODE_DONE
    assert type(result.request.volume) is float and result.request.magic == 1


def test_order_send_returns_none_only_when_the_request_never_reached_the_server(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §6: None only for bad arguments, no connection or -8; every server verdict is an
    OrderSendResult carrying retcode and comment."""
    rejected = deal(mt5, volume=0.001)
    assert isinstance(rejected, OrderSendResult)
    assert rejected.retcode == c.TRADE_RETCODE_INVALID_VOLUME and rejected.comment == "Invalid volume"
    done = deal(mt5)
    assert done.retcode == c.TRADE_RETCODE_DONE and done.comment == "Request executed"


def test_result_echoes_the_full_request(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §6 / §11.5: result.request echoes all 17 TradeRequest fields with defaults filled in."""
    result = deal(mt5, magic=77, comment="bot", deviation=20, price=ASK, type_filling=c.ORDER_FILLING_IOC)
    assert isinstance(result.request, TradeRequest) and len(result.request) == 17
    assert result.request._asdict() == {
        "action": 1, "magic": 77, "order": 0, "symbol": "EURUSD", "volume": 0.1, "price": ASK, "stoplimit": 0.0,
        "sl": 0.0, "tp": 0.0, "deviation": 20, "type": 0, "type_filling": 1, "type_time": 0, "expiration": 0,
        "comment": "bot", "position": 0, "position_by": 0,
    }  # fmt: skip


def test_order_check_passes_with_done_and_projects_margin(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §6: order_check returns an OrderCheckResult; retcode 0 "Done" when the check passes, with
    projected balance, equity, margin, margin_free and margin_level."""
    account = mt5.account_info()
    check = mt5.order_check({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 1.0,
                             "type": c.ORDER_TYPE_BUY})  # fmt: skip
    assert isinstance(check, OrderCheckResult)
    assert (check.retcode, check.comment) == (0, "Done")
    expected_margin = mt5.order_calc_margin(c.ORDER_TYPE_BUY, "EURUSD", 1.0, ASK)
    assert check.margin == pytest.approx(expected_margin, abs=0.01)
    assert check.margin_free == pytest.approx(account.equity - expected_margin, abs=0.01)
    assert check.balance == account.balance
    assert mt5.positions_total() == 0  # nothing executed
    failed = mt5.order_check({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.015, "type": 0})
    assert failed.retcode == c.TRADE_RETCODE_INVALID_VOLUME


# --- §7 -------------------------------------------------------------------------------------------------


def test_buy_executes_at_ask_and_sell_at_bid(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §7: TRADE_ACTION_DEAL opens BUY at ask and SELL at bid."""
    buy, sell = deal(mt5, c.ORDER_TYPE_BUY), deal(mt5, c.ORDER_TYPE_SELL)
    assert (buy.price, sell.price) == (ASK, BID)
    positions = {p.ticket: p for p in mt5.positions_get()}
    assert positions[buy.order].price_open == ASK and positions[sell.order].price_open == BID


def test_deviation_is_the_allowed_slippage_in_points(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §7: deviation is the allowed slippage in points; a price further off is requoted (10004)."""
    requote = deal(mt5, price=1.10030, deviation=10)
    assert requote.retcode == c.TRADE_RETCODE_REQUOTE
    assert (requote.bid, requote.ask) == (BID, ASK)
    assert deal(mt5, price=1.10030, deviation=20).retcode == c.TRADE_RETCODE_DONE
    assert deal(mt5, price=0.0).retcode == c.TRADE_RETCODE_DONE  # 0.0 = at market


def test_sltp_replaces_both_levels(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §7: TRADE_ACTION_SLTP always replaces both levels; 0.0 removes one; 10009 on success."""
    ticket = deal(mt5).order
    sltp = {"action": c.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": ticket}
    assert mt5.order_send({**sltp, "sl": 1.09500, "tp": 1.11000}).retcode == c.TRADE_RETCODE_DONE
    assert mt5.order_send({**sltp, "sl": 1.09600}).retcode == c.TRADE_RETCODE_DONE
    position = mt5.positions_get(ticket=ticket)[0]
    assert (position.sl, position.tp) == (1.09600, 0.0)


def test_unchanged_sltp_answers_no_changes(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §7: if both levels are unchanged the server answers 10025 NO_CHANGES."""
    ticket = deal(mt5, sl=1.09500, tp=1.11000).order
    result = mt5.order_send({"action": c.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": ticket,
                             "sl": 1.09500, "tp": 1.11000})  # fmt: skip
    assert result.retcode == c.TRADE_RETCODE_NO_CHANGES
    assert (result.deal, result.order) == (0, 0)


def test_partial_close_keeps_the_ticket_and_records_an_out_deal(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §7 / §11.5: a partial close is an opposite DEAL with position=; the position keeps its
    ticket with less volume and history gains a DEAL_ENTRY_OUT deal with position_id = ticket."""
    ticket = deal(mt5, volume=0.3).order
    close = deal(mt5, c.ORDER_TYPE_SELL, volume=0.1, position=ticket)
    assert close.retcode == c.TRADE_RETCODE_DONE and close.price == BID
    position = mt5.positions_get(ticket=ticket)[0]
    assert position.volume == pytest.approx(0.2)
    out = mt5.history_deals_get(ticket=close.order)[0]
    assert (out.entry, out.position_id, out.type, out.volume) == (c.DEAL_ENTRY_OUT, ticket, c.DEAL_TYPE_SELL, 0.1)
    assert out.profit == pytest.approx(-1.0)  # bought at ask 1.10010, sold at bid 1.10000
    final = deal(mt5, c.ORDER_TYPE_SELL, volume=0.2, position=ticket)
    assert final.retcode == c.TRADE_RETCODE_DONE
    assert mt5.positions_get(ticket=ticket) == ()


def test_fresh_order_and_deal_tickets(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §11.5: every deal gets fresh order and deal tickets; the position ticket is the opening
    order's ticket."""
    results = [deal(mt5) for _ in range(3)]
    assert len({r.order for r in results}) == 3 and len({r.deal for r in results}) == 3
    assert {p.ticket for p in mt5.positions_get()} == {r.order for r in results}
    assert all(p.identifier == p.ticket for p in mt5.positions_get())


def test_close_volume_larger_than_the_position_is_10038(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §7: a volume larger than the position gives 10038."""
    ticket = deal(mt5, volume=0.1).order
    assert deal(mt5, c.ORDER_TYPE_SELL, volume=0.2, position=ticket).retcode == c.TRADE_RETCODE_INVALID_CLOSE_VOLUME


@pytest.mark.parametrize("volume", [0.001, 0.015, 100.01, 0.0])
def test_volume_outside_min_max_step_is_10014(mt5: SimulatedTerminal, volume: float) -> None:
    """MT5_API.md §7: volume must be >= volume_min, <= volume_max and a multiple of volume_step: else 10014."""
    assert deal(mt5, volume=volume).retcode == c.TRADE_RETCODE_INVALID_VOLUME


def test_pending_orders_place_modify_and_remove(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §7: TRADE_ACTION_PENDING places an order (10008), MODIFY and REMOVE take order=<ticket>."""
    placed = mt5.order_send({"action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.1,
                             "type": c.ORDER_TYPE_BUY_LIMIT, "price": 1.09500, "sl": 1.09000,
                             "type_filling": c.ORDER_FILLING_RETURN})  # fmt: skip
    assert placed.retcode == c.TRADE_RETCODE_PLACED
    order = mt5.orders_get(ticket=placed.order)[0]
    assert (order.type, order.price_open, order.state) == (c.ORDER_TYPE_BUY_LIMIT, 1.09500, c.ORDER_STATE_PLACED)
    modified = mt5.order_send({"action": c.TRADE_ACTION_MODIFY, "order": placed.order, "price": 1.09400,
                               "sl": 1.09000, "tp": 1.10500})  # fmt: skip
    assert modified.retcode == c.TRADE_RETCODE_DONE
    assert mt5.orders_get(ticket=placed.order)[0][16:19] == (1.09400, 1.09000, 1.10500)
    removed = mt5.order_send({"action": c.TRADE_ACTION_REMOVE, "order": placed.order})
    assert removed.retcode == c.TRADE_RETCODE_DONE
    assert mt5.orders_get(ticket=placed.order) == ()
    assert mt5.history_orders_get(ticket=placed.order)[0].state == c.ORDER_STATE_CANCELED


def test_close_by_is_for_hedging_accounts_only(mt5: SimulatedTerminal, open_sim: OpenSim) -> None:
    """MT5_API.md §7: TRADE_ACTION_CLOSE_BY takes position plus position_by (hedging only)."""
    long = deal(mt5, c.ORDER_TYPE_BUY, volume=0.3).order
    short = deal(mt5, c.ORDER_TYPE_SELL, volume=0.1).order
    result = mt5.order_send({"action": c.TRADE_ACTION_CLOSE_BY, "symbol": "EURUSD", "position": long,
                             "position_by": short})  # fmt: skip
    assert result.retcode == c.TRADE_RETCODE_DONE
    assert mt5.positions_get(ticket=short) == ()
    assert mt5.positions_get(ticket=long)[0].volume == pytest.approx(0.2)
    deals = answered(mt5.history_deals_get(ticket=result.order))
    assert {d.entry for d in deals} == {c.DEAL_ENTRY_OUT_BY} and {d.position_id for d in deals} == {long, short}
    assert sum(d.profit for d in deals) == pytest.approx(-1.0)  # 0.1 lot bought at 1.10010, sold at 1.10000
    assert mt5.history_orders_get(ticket=result.order)[0].type == c.ORDER_TYPE_CLOSE_BY
    netting = open_sim(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)
    ticket = netting.order_send(action=1, symbol="EURUSD", volume=0.1, type=0).order
    refused = netting.order_send(action=c.TRADE_ACTION_CLOSE_BY, symbol="EURUSD", position=ticket,
                                 position_by=ticket)  # fmt: skip
    assert refused.retcode == c.TRADE_RETCODE_INVALID


def test_margin_mode_selects_netting_or_hedging(mt5: SimulatedTerminal, open_sim: OpenSim) -> None:
    """MT5_API.md §7: account_info().margin_mode 2 hedging (each deal opens a new position unless position is
    set), 0 netting (one position per symbol)."""
    assert mt5.account_info().margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
    deal(mt5)
    deal(mt5, c.ORDER_TYPE_SELL)
    assert mt5.positions_total() == 2
    netting = open_sim(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)
    assert netting.account_info().margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING
    netting.order_send(action=1, symbol="EURUSD", volume=0.1, type=0)
    netting.order_send(action=1, symbol="EURUSD", volume=0.3, type=1)
    (position,) = answered(netting.positions_get())
    assert (position.type, position.volume) == (c.POSITION_TYPE_SELL, pytest.approx(0.2))
