"""Broker rules applied before anything is sent (DTMS_SPEC.md §4): the stops level holds an SL back, nothing
is changed inside the freeze level until price moves away, prices are rounded to the symbol's digits, and a
currency pair (distances in pips) is told from other symbols by MT5's calculation mode, or else by its quote."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.engine.broker import SymbolRules
from app.engine.model import ActionKind, Direction
from app.runtime import Services

from .conftest import quote, set_price
from .test_protection import R, buy_with_sl, position

POINT = 0.00001


async def test_stops_level_holds_the_breakeven_sl_back_from_price(ready: Services) -> None:
    bid, ask = await quote(ready, "EURUSD")
    # a stops level wider than 0.9 R: breakeven (entry + 0.1 R) would sit too close to the bid at 1 R
    await ready.gateway.control("configure_symbol", symbol="EURUSD", trade_stops_level=int(0.95 * R / POINT))
    ticket, entry = await buy_with_sl(ready)
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()
    p = await position(ready, ticket)
    assert p.sl < entry + 0.1 * R, "held back by the stops level"
    assert p.sl == pytest.approx(p.price_current - 0.95 * R, abs=2 * POINT)
    (record,) = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.BREAKEVEN]
    assert record.retcode == 10009


async def test_nothing_is_sent_inside_the_freeze_level(ready: Services) -> None:
    await ready.gateway.control("configure_symbol", symbol="EURUSD", trade_freeze_level=int(2.2 * R / POINT))
    ticket, entry = await buy_with_sl(ready)
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))  # 2 R from the SL: inside a 2.2 R freeze zone
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry - R)
    assert await ready.engine.journal(ticket) == [], "nothing sent, nothing journaled as failed"
    await set_price(ready, "EURUSD", round(entry + 1.3 * R, 5))  # moved away: 2.3 R from the SL
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry + 0.1 * R, abs=1e-9)


def test_rules_round_prices_and_volumes_the_broker_way() -> None:
    rules = SymbolRules(
        symbol="XAUUSD",
        digits=2,
        point=0.01,
        tick_size=0.05,
        stops_level=0,
        freeze_level=0,
        volume_min=0.01,
        volume_max=100.0,
        volume_step=0.01,
        filling_mode=1,
    )
    assert rules.round_price(2400.123) == 2400.10
    assert rules.round_price(2400.126) == 2400.15
    assert rules.round_volume_down(0.159) == 0.15
    assert rules.type_filling() == 0, "FOK only: ORDER_FILLING_FOK"
    assert not rules.sl_allowed(Direction.BUY, 2401.0, 2400.0, 2400.5), "an SL above the bid of a BUY"
    assert rules.sl_allowed(Direction.SELL, 2401.0, 2400.0, 2400.5)


async def test_currency_pairs_are_told_from_other_symbols_by_the_terminals_calculation_mode(ready: Services) -> None:
    """Distances are read in pips on a currency pair only: MT5's ``trade_calc_mode`` says which symbols are."""
    kinds = {
        symbol: SymbolRules.from_symbol_info(await ready.gateway.symbol_info(symbol)).forex
        for symbol in ("EURUSD", "USDJPY", "XAUUSD", "BTCUSD")
    }
    assert kinds == {"EURUSD": True, "USDJPY": True, "XAUUSD": False, "BTCUSD": False}


def _info(name: str, digits: int, **more: object) -> SimpleNamespace:
    """What ``from_symbol_info`` reads of a ``symbol_info``, without ``trade_calc_mode`` unless given."""
    point = 10.0**-digits
    return SimpleNamespace(
        name=name,
        digits=digits,
        point=point,
        trade_tick_size=point,
        trade_stops_level=0,
        trade_freeze_level=0,
        volume_min=0.01,
        volume_max=100.0,
        volume_step=0.01,
        filling_mode=1,
        trade_exemode=2,
        **more,
    )


@pytest.mark.parametrize(
    ("name", "digits", "mode", "forex"),
    [
        ("EURUSD", 5, 0, True),  # SYMBOL_CALC_MODE_FOREX
        ("USDRUB", 3, 5, True),  # SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE
        ("XAUUSD", 3, 4, False),  # SYMBOL_CALC_MODE_CFDLEVERAGE, even at 3 digits
        ("GER40", 1, 3, False),  # SYMBOL_CALC_MODE_CFDINDEX
        ("EURUSD", 5, 2, False),  # the terminal's word wins over the name: a CFD on the pair
        # no calculation mode: a 3- or 5-digit quote of two currency codes, a broker's suffix allowed
        ("EURUSD", 5, None, True),
        ("EURUSD.m", 5, None, True),
        ("GBPJPYm", 3, None, True),
        ("EURUSD", 4, None, False),
        ("XAUUSD", 3, None, False),
        ("BTCUSD", 2, None, False),
        ("ETHUSD", 3, None, False),
        ("US30", 1, None, False),
        ("USTEC", 3, None, False),
        ("NAS100", 3, None, False),
    ],
)
def test_currency_pairs_without_a_calculation_mode_are_told_by_their_quote(
    name: str, digits: int, mode: int | None, forex: bool
) -> None:
    info = _info(name, digits) if mode is None else _info(name, digits, trade_calc_mode=mode)
    rules = SymbolRules.from_symbol_info(info)
    assert rules.calc_mode == mode
    assert rules.forex is forex
