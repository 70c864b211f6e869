"""A cycle's ``trade_updated`` rows: the trades whose price, profit or R changed since the last rows, with the
terminal's figures; every row again once the full interval has passed (a listener that joined late has them)."""

from __future__ import annotations

import pytest

from app.engine.live_prices import LivePrices
from app.engine.registry import Registration
from app.runtime import Services

from .conftest import Recorded, open_position, quote, set_price


def rows(recorded: Recorded) -> dict[int, dict[str, float]]:
    (event,) = recorded.of("trade_updated")[-1:]
    return {row["ticket"]: row for row in event.payload["rows"]}


async def test_rows_carry_what_changed_and_match_the_terminal(ready: Services) -> None:
    ready.engine.cycle._live = LivePrices(full_every_s=3600.0)  # only the first cycle publishes every row
    recorded = Recorded()
    ready.engine.subscribe(recorded)
    bid, ask = await quote(ready, "EURUSD")
    await set_price(ready, "EURUSD", bid, ask)
    await set_price(ready, "GBPUSD", *await quote(ready, "GBPUSD"))  # held: its rows do not change
    eur = await open_position(ready, "EURUSD", "BUY", 1.0, sl=round(ask - 0.002, 5))
    gbp = await open_position(ready, "GBPUSD", "SELL", 0.5)
    for ticket in (eur, gbp):
        await ready.engine.register(Registration(ticket=ticket))
    await ready.engine.step()
    first = rows(recorded)
    assert set(first) == {eur, gbp}, "new trades: every row"
    (position,) = await ready.gateway.positions(ticket=eur)
    assert first[eur]["price"] == pytest.approx(position.price_current)
    assert first[eur]["profit"] == pytest.approx(position.profit)
    trade = ready.engine.trade(eur)
    assert first[eur]["profit_r"] == pytest.approx(trade.profit_in_r(*await quote(ready, "EURUSD")))

    await set_price(ready, "EURUSD", round(bid + 0.0005, 5), round(ask + 0.0005, 5))
    await ready.engine.step()
    second = rows(recorded)
    assert set(second) == {eur}, "only the trade whose figures changed"
    assert second[eur]["profit"] > first[eur]["profit"]


async def test_every_row_again_once_the_full_interval_passed(ready: Services) -> None:
    ready.engine.cycle._live = LivePrices(full_every_s=0.0)
    recorded = Recorded()
    ready.engine.subscribe(recorded)
    tickets = [await open_position(ready, "USDJPY", "BUY", 0.1) for _ in range(3)]
    for ticket in tickets:
        await ready.engine.register(Registration(ticket=ticket))
    await ready.engine.step()
    await ready.engine.step()
    assert set(rows(recorded)) == set(tickets)


async def test_after_a_trade_closes_the_others_rows_stay_right(ready: Services) -> None:
    ready.engine.cycle._live = LivePrices(full_every_s=3600.0)
    recorded = Recorded()
    ready.engine.subscribe(recorded)
    bid, ask = await quote(ready, "USDJPY")
    await set_price(ready, "USDJPY", bid, ask)
    tickets = [await open_position(ready, "USDJPY", side, 0.1) for side in ("BUY", "SELL", "BUY")]
    for ticket in tickets:
        await ready.engine.register(Registration(ticket=ticket))
    await ready.engine.step()
    await ready.gateway.control("close_position", ticket=tickets[1])
    await ready.engine.step()
    assert tickets[1] not in ready.engine.registry.keys(), "archived"
    assert rows(recorded) == {}, "the prices held: nothing changed for the others"
    await set_price(ready, "USDJPY", round(bid + 0.05, 3), round(ask + 0.05, 3))
    await ready.engine.step()
    moved = rows(recorded)
    assert set(moved) == {tickets[0], tickets[2]}
    for ticket in moved:
        (position,) = await ready.gateway.positions(ticket=ticket)
        assert moved[ticket]["profit"] == pytest.approx(position.profit)
        assert moved[ticket]["price"] == pytest.approx(position.price_current)
