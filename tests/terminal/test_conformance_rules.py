"""Conformance of SimulatedTerminal with MT5_API.md §8 (broker rules), §9 (retcodes) and §11.4."""

from __future__ import annotations

import pytest

from app.terminal import constants as c
from app.terminal.sim import SimulatedTerminal
from app.terminal.structs import OrderSendResult
from tests.terminal.sim_helpers import ASK, BID, HELD_EURUSD, answered, deal, send

pytestmark = pytest.mark.sim(prices=HELD_EURUSD)


def sltp(mt5: SimulatedTerminal, ticket: int, sl: float, tp: float) -> int:
    return send(mt5, action=c.TRADE_ACTION_SLTP, position=ticket, sl=sl, tp=tp).retcode


# --- §8 stops level ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_type", "sl", "tp", "retcode"),
    [
        (c.ORDER_TYPE_BUY, 1.09950, 1.10050, c.TRADE_RETCODE_DONE),  # exactly 50 points from the bid
        (c.ORDER_TYPE_BUY, 1.09960, 0.0, c.TRADE_RETCODE_INVALID_STOPS),
        (c.ORDER_TYPE_BUY, 0.0, 1.10040, c.TRADE_RETCODE_INVALID_STOPS),
        (c.ORDER_TYPE_SELL, 1.10060, 1.09960, c.TRADE_RETCODE_DONE),  # 50 points from the ask
        (c.ORDER_TYPE_SELL, 1.10050, 0.0, c.TRADE_RETCODE_INVALID_STOPS),
        (c.ORDER_TYPE_SELL, 0.0, 1.09970, c.TRADE_RETCODE_INVALID_STOPS),
        (c.ORDER_TYPE_BUY, 0.0, 0.0, c.TRADE_RETCODE_DONE),  # 0 is always allowed
    ],
)
def test_stops_level_is_measured_from_the_closing_price(
    mt5: SimulatedTerminal, order_type: int, sl: float, tp: float, retcode: int
) -> None:
    """MT5_API.md §8: stops level L: BUY sl <= bid - L and tp >= bid + L; SELL sl >= ask + L and
    tp <= ask - L; 0 means unset; violations give 10016."""
    mt5.control("configure_symbol", symbol="EURUSD", trade_stops_level=50)
    assert deal(mt5, order_type, sl=sl, tp=tp).retcode == retcode


def test_stops_on_the_wrong_side_are_invalid_with_zero_level(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §8: a stop on the wrong side of the price gives 10016 even with stops level 0."""
    ticket = deal(mt5).order
    assert sltp(mt5, ticket, sl=1.10005, tp=0.0) == c.TRADE_RETCODE_INVALID_STOPS
    assert sltp(mt5, ticket, sl=0.0, tp=1.09990) == c.TRADE_RETCODE_INVALID_STOPS
    assert sltp(mt5, ticket, sl=1.09990, tp=1.10020) == c.TRADE_RETCODE_DONE


def test_pending_orders_respect_the_stops_level(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §8: pending prices keep the stops level from the market (BUY_LIMIT: ask - price >= L)."""
    mt5.control("configure_symbol", symbol="EURUSD", trade_stops_level=50)
    base = {"action": c.TRADE_ACTION_PENDING, "volume": 0.1, "type_filling": c.ORDER_FILLING_RETURN}
    assert send(mt5, **base, type=c.ORDER_TYPE_BUY_LIMIT, price=1.09970).retcode == c.TRADE_RETCODE_INVALID_PRICE
    assert send(mt5, **base, type=c.ORDER_TYPE_BUY_LIMIT, price=1.09960).retcode == c.TRADE_RETCODE_PLACED
    assert send(mt5, **base, type=c.ORDER_TYPE_SELL_STOP, price=1.09960).retcode == c.TRADE_RETCODE_INVALID_PRICE
    assert send(mt5, **base, type=c.ORDER_TYPE_SELL_STOP, price=1.09950).retcode == c.TRADE_RETCODE_PLACED
    assert send(mt5, **base, type=c.ORDER_TYPE_BUY_STOP, price=1.10100, sl=1.10080).retcode == (
        c.TRADE_RETCODE_INVALID_STOPS
    )


# --- §8 freeze level -----------------------------------------------------------------------------------


def test_freeze_level_blocks_modifying_and_closing_a_position(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §8: if the closing price is within F of the current SL or TP the position cannot be
    modified or closed: 10029 FROZEN (the distance must be strictly greater)."""
    mt5.control("configure_symbol", symbol="EURUSD", trade_freeze_level=20)
    ticket = deal(mt5, sl=1.09950).order
    mt5.control("set_price", symbol="EURUSD", bid=1.09970, ask=1.09980)  # 20 points from the SL: frozen
    assert sltp(mt5, ticket, sl=1.09900, tp=0.0) == c.TRADE_RETCODE_FROZEN
    assert deal(mt5, c.ORDER_TYPE_SELL, position=ticket).retcode == c.TRADE_RETCODE_FROZEN
    mt5.control("set_price", symbol="EURUSD", bid=1.09971, ask=1.09981)  # 21 points: free
    assert sltp(mt5, ticket, sl=1.09900, tp=0.0) == c.TRADE_RETCODE_DONE


def test_freeze_level_blocks_pending_orders_near_the_market(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §8: pending orders priced within F of the market cannot be modified or deleted."""
    placed = send(mt5, action=c.TRADE_ACTION_PENDING, volume=0.1, type=c.ORDER_TYPE_BUY_LIMIT, price=1.09900,
                  type_filling=c.ORDER_FILLING_RETURN)  # fmt: skip
    mt5.control("configure_symbol", symbol="EURUSD", trade_freeze_level=20)
    mt5.control("set_price", symbol="EURUSD", bid=1.09905, ask=1.09915)  # ask 15 points above the limit
    assert send(mt5, action=c.TRADE_ACTION_REMOVE, order=placed.order).retcode == c.TRADE_RETCODE_FROZEN
    assert send(mt5, action=c.TRADE_ACTION_MODIFY, order=placed.order, price=1.09800).retcode == (
        c.TRADE_RETCODE_FROZEN
    )
    mt5.control("set_price", symbol="EURUSD", bid=BID, ask=ASK)
    assert send(mt5, action=c.TRADE_ACTION_REMOVE, order=placed.order).retcode == c.TRADE_RETCODE_DONE


# --- §8 price grid, trade mode, filling, money ----------------------------------------------------------


def test_prices_must_be_multiples_of_the_tick_size(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §8: prices must be multiples of trade_tick_size; unrounded prices give 10015 or 10016."""
    assert deal(mt5, price=1.100105, deviation=50).retcode == c.TRADE_RETCODE_INVALID_PRICE
    assert deal(mt5, sl=1.095005).retcode == c.TRADE_RETCODE_INVALID_STOPS
    pending = send(mt5, action=c.TRADE_ACTION_PENDING, volume=0.1, type=c.ORDER_TYPE_BUY_LIMIT, price=1.095005,
                   type_filling=c.ORDER_FILLING_RETURN)  # fmt: skip
    assert pending.retcode == c.TRADE_RETCODE_INVALID_PRICE
    mt5.control("configure_symbol", symbol="EURUSD", trade_tick_size=0.00005)
    assert deal(mt5, sl=1.09503).retcode == c.TRADE_RETCODE_INVALID_STOPS
    assert deal(mt5, sl=1.09505).retcode == c.TRADE_RETCODE_DONE


@pytest.mark.parametrize(
    ("mode", "buy", "sell"),
    [
        (c.SYMBOL_TRADE_MODE_DISABLED, c.TRADE_RETCODE_TRADE_DISABLED, c.TRADE_RETCODE_TRADE_DISABLED),
        (c.SYMBOL_TRADE_MODE_LONGONLY, c.TRADE_RETCODE_DONE, c.TRADE_RETCODE_LONG_ONLY),
        (c.SYMBOL_TRADE_MODE_SHORTONLY, c.TRADE_RETCODE_SHORT_ONLY, c.TRADE_RETCODE_DONE),
        (c.SYMBOL_TRADE_MODE_CLOSEONLY, c.TRADE_RETCODE_CLOSE_ONLY, c.TRADE_RETCODE_CLOSE_ONLY),
    ],
)
def test_trade_mode_limits_what_may_open(mt5: SimulatedTerminal, mode: int, buy: int, sell: int) -> None:
    """MT5_API.md §8: trade_mode 0 disabled (10017), 1 long only (10042), 2 short only (10043), 3 close only
    (10044)."""
    ticket = deal(mt5).order
    mt5.control("configure_symbol", symbol="EURUSD", trade_mode=mode)
    assert mt5.symbol_info("EURUSD").trade_mode == mode
    assert deal(mt5, c.ORDER_TYPE_BUY).retcode == buy
    assert deal(mt5, c.ORDER_TYPE_SELL).retcode == sell
    close = deal(mt5, c.ORDER_TYPE_SELL, position=ticket).retcode
    assert close == (c.TRADE_RETCODE_TRADE_DISABLED if mode == c.SYMBOL_TRADE_MODE_DISABLED else c.TRADE_RETCODE_DONE)


def test_filling_type_must_be_allowed_by_the_symbol(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §8: type_filling must be allowed by filling_mode (FOK=1, IOC=2, BOC=4), else 10030;
    RETURN on market orders is for exchange execution; instant execution fills FOK only."""
    assert mt5.symbol_info("EURUSD").filling_mode == c.SYMBOL_FILLING_FOK | c.SYMBOL_FILLING_IOC
    assert deal(mt5, type_filling=c.ORDER_FILLING_IOC).retcode == c.TRADE_RETCODE_DONE
    assert deal(mt5, type_filling=c.ORDER_FILLING_RETURN).retcode == c.TRADE_RETCODE_INVALID_FILL
    assert deal(mt5, type_filling=c.ORDER_FILLING_BOC).retcode == c.TRADE_RETCODE_INVALID_FILL
    mt5.control("configure_symbol", symbol="EURUSD", filling_mode=c.SYMBOL_FILLING_IOC)
    assert deal(mt5, type_filling=c.ORDER_FILLING_FOK).retcode == c.TRADE_RETCODE_INVALID_FILL
    mt5.control("configure_symbol", symbol="EURUSD", trade_exemode=c.SYMBOL_TRADE_EXECUTION_EXCHANGE)
    assert deal(mt5, type_filling=c.ORDER_FILLING_RETURN).retcode == c.TRADE_RETCODE_DONE
    mt5.control("configure_symbol", symbol="EURUSD", trade_exemode=c.SYMBOL_TRADE_EXECUTION_INSTANT,
                filling_mode=c.SYMBOL_FILLING_FOK | c.SYMBOL_FILLING_IOC)  # fmt: skip
    assert deal(mt5, type_filling=c.ORDER_FILLING_IOC).retcode == c.TRADE_RETCODE_INVALID_FILL
    pending = send(mt5, action=c.TRADE_ACTION_PENDING, volume=0.1, type=c.ORDER_TYPE_SELL_LIMIT, price=1.10500,
                   type_filling=c.ORDER_FILLING_RETURN)  # fmt: skip
    assert pending.retcode == c.TRADE_RETCODE_PLACED


def test_not_enough_money_is_10019(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §9: 10019 NO_MONEY when the free margin does not cover the order."""
    assert deal(mt5, volume=100.0).retcode == c.TRADE_RETCODE_NO_MONEY  # 110,010 USD margin on 10,000
    assert mt5.positions_total() == 0


def test_rejections_come_back_inside_an_order_send_result(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §11.4: SLTP, partial-close, stops-level, freeze-level, volume-step and filling checks answer
    with the right retcode inside an OrderSendResult, never None."""
    ticket = deal(mt5).order
    verdicts = [
        send(mt5, action=c.TRADE_ACTION_SLTP, position=ticket, sl=0.0, tp=0.0),
        deal(mt5, c.ORDER_TYPE_SELL, volume=0.5, position=ticket),
        deal(mt5, sl=1.2),
        deal(mt5, volume=0.011),
        deal(mt5, type_filling=c.ORDER_FILLING_RETURN),
    ]
    assert [v.retcode for v in verdicts] == [10025, 10038, 10016, 10014, 10030]
    assert all(isinstance(v, OrderSendResult) and v.comment for v in verdicts)


# --- §9 retcodes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("retcode", [10004, 10016, 10020, 10021, 10024, 10029, 10030, 10031])
def test_injected_retcodes_reject_without_executing(mt5: SimulatedTerminal, retcode: int) -> None:
    """MT5_API.md §9: transient and permanent refusals arrive as retcodes with bid/ask and a comment; nothing
    executes, and the next attempt goes through."""
    mt5.control("inject_fault", kind="retcode", retcode=retcode)
    refused = deal(mt5)
    assert refused.retcode == retcode and (refused.bid, refused.ask) == (BID, ASK) and refused.comment
    assert (refused.deal, refused.order) == (0, 0)
    assert mt5.positions_total() == 0
    assert deal(mt5).retcode == c.TRADE_RETCODE_DONE


def test_timeout_has_an_unknown_outcome(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §9: 10012 TIMEOUT has an unknown outcome: the deal may have happened, so callers re-read
    positions and deals before resending."""
    mt5.control("inject_fault", kind="retcode", retcode=10012)
    answer = deal(mt5, comment="maybe")
    assert answer.retcode == c.TRADE_RETCODE_TIMEOUT and answer.order == 0
    (position,) = answered(mt5.positions_get())
    assert position.comment == "maybe"
    mt5.control("inject_fault", kind="retcode", retcode=10012, executed=False)
    assert deal(mt5).retcode == c.TRADE_RETCODE_TIMEOUT
    assert mt5.positions_total() == 1


def test_retcode_faults_may_target_one_action(mt5: SimulatedTerminal) -> None:
    """MT5_API.md §9: a retcode fault for SLTP leaves market deals alone (action filter)."""
    ticket = deal(mt5).order
    mt5.control("inject_fault", kind="retcode", retcode=10024, action=c.TRADE_ACTION_SLTP, count=2)
    assert deal(mt5).retcode == c.TRADE_RETCODE_DONE
    assert sltp(mt5, ticket, 1.09, 0.0) == 10024
    assert sltp(mt5, ticket, 1.09, 0.0) == 10024
    assert sltp(mt5, ticket, 1.09, 0.0) == c.TRADE_RETCODE_DONE
