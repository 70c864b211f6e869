"""Broker rules applied before anything is sent (DTMS_SPEC.md §4): the stops level holds an SL back, nothing
is changed inside the freeze level until price moves away, prices are rounded to the symbol's digits."""

from __future__ import annotations

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
