"""Profit protection on the simulator with scripted prices (DTMS_SPEC.md §2.1): breakeven, partial take and
trailing fire once each at the right prices, and the SL never moves backwards."""

from __future__ import annotations

import pytest

from app.engine.model import ActionKind, ActionOutcome
from app.engine.registry import Registration
from app.runtime import Services

from .conftest import open_position, quote, set_price

R = 0.0020


async def buy_with_sl(services: Services, volume: float = 1.0) -> tuple[int, float]:
    bid, ask = await quote(services, "EURUSD")
    await set_price(services, "EURUSD", bid, ask)  # hold the price: from here the test moves it
    ticket = await open_position(services, "EURUSD", "BUY", volume, sl=round(ask - R, 5))
    await services.engine.register(Registration(ticket=ticket))
    return ticket, ask


async def position(services: Services, ticket: int):
    (p,) = await services.gateway.positions(ticket=ticket)
    return p


async def advance(services: Services, seconds: float) -> None:
    await services.gateway.control("advance", seconds=seconds)


async def test_breakeven_fires_once_at_one_r(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    await set_price(ready, "EURUSD", round(entry + 0.99 * R, 5))
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry - R)
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()
    p = await position(ready, ticket)
    assert p.sl == pytest.approx(entry + 0.1 * R, abs=1e-9)
    trade = ready.engine.trade(ticket)
    assert trade.breakeven_triggered and trade.sl == p.sl
    await advance(ready, 60)
    await ready.engine.step()
    journal = await ready.engine.journal(ticket)
    breakevens = [a for a in journal if a.kind is ActionKind.BREAKEVEN]
    assert len(breakevens) == 1 and breakevens[0].outcome is ActionOutcome.SUCCESS and breakevens[0].retcode == 10009


async def test_partial_take_closes_half_once_at_one_and_a_half_r(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready, volume=0.3)
    await set_price(ready, "EURUSD", round(entry + 1.5 * R, 5))
    await ready.engine.step()
    assert (await position(ready, ticket)).volume == pytest.approx(0.15)
    await advance(ready, 30)
    await ready.engine.step()
    await ready.engine.step()
    assert (await position(ready, ticket)).volume == pytest.approx(0.15)
    trade = ready.engine.trade(ticket)
    assert trade.partial_taken and trade.volume == pytest.approx(0.15)
    partials = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.PARTIAL_TAKE]
    assert [a.outcome for a in partials] == [ActionOutcome.SUCCESS]
    assert "comment" not in partials[0].request or partials[0].request["comment"] == ""


async def test_partial_take_skipped_when_the_rest_would_be_below_the_minimum(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready, volume=0.01)
    await set_price(ready, "EURUSD", round(entry + 1.6 * R, 5))
    await ready.engine.step()
    assert (await position(ready, ticket)).volume == pytest.approx(0.01)
    journal = await ready.engine.journal(ticket)
    skipped = [a for a in journal if a.kind is ActionKind.PARTIAL_TAKE]
    assert len(skipped) == 1 and skipped[0].outcome is ActionOutcome.NOT_SENT and "minimum" in skipped[0].detail


async def test_trailing_follows_the_best_price_and_never_moves_back(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()
    atr = ready.engine.market.get("EURUSD").atr_m15
    assert atr is not None
    best = round(entry + 1.0 * R + 3 * atr, 5)
    await advance(ready, 20)
    await set_price(ready, "EURUSD", best)
    await ready.engine.step()
    trailed = (await position(ready, ticket)).sl
    assert trailed == pytest.approx(best - 2.0 * atr, abs=2e-5)
    assert trailed > entry + 0.1 * R
    # price falls back: the SL stays where it is
    await advance(ready, 20)
    await set_price(ready, "EURUSD", round(best - 1.5 * atr, 5))
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == trailed
    trails = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.TRAIL]
    assert len(trails) == 1


async def test_sl_changes_wait_the_minimum_interval(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()
    atr = ready.engine.market.get("EURUSD").atr_m15
    await advance(ready, 5)
    await set_price(ready, "EURUSD", round(entry + R + 4 * atr, 5))
    await ready.engine.step()
    assert (await position(ready, ticket)).sl == pytest.approx(entry + 0.1 * R, abs=1e-9), "5 s after the last change"
    await advance(ready, 15)
    await ready.engine.step()
    assert (await position(ready, ticket)).sl > entry + 0.1 * R


async def test_owned_by_another_manager_is_never_changed(ready: Services) -> None:
    bid, ask = await quote(ready, "EURUSD")
    await set_price(ready, "EURUSD", bid, ask)
    ticket = await open_position(ready, "EURUSD", "BUY", 1.0, sl=round(ask - R, 5))
    await ready.engine.register(Registration(ticket=ticket, strategy_type="scalper"))
    await set_price(ready, "EURUSD", round(ask + 2 * R, 5))
    await ready.engine.step()
    p = await position(ready, ticket)
    assert p.sl == pytest.approx(ask - R) and p.volume == 1.0
    assert await ready.engine.journal(ticket) == []


async def test_a_trade_whose_position_is_gone_is_archived_without_protection_orders(ready: Services) -> None:
    ticket, entry = await buy_with_sl(ready)
    kept, _ = await buy_with_sl(ready)
    await set_price(ready, "EURUSD", round(entry + 1.6 * R, 5))  # past breakeven and the partial for both
    await ready.gateway.control("close_position", ticket=ticket)  # closed by hand before the cycle saw it
    await ready.engine.step()
    assert ready.engine.trade(ticket) is None, "the closed trade is still managed"
    kinds = [a.kind for a in await ready.engine.journal(ticket)]
    assert ActionKind.BREAKEVEN not in kinds and ActionKind.PARTIAL_TAKE not in kinds, kinds
    assert ActionKind.PARTIAL_TAKE in [a.kind for a in await ready.engine.journal(kept)]  # the other was protected
