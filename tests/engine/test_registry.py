"""The trade registry: idempotent, concurrency-safe registration checked against MT5's position."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from app.engine.model import Direction, TradeSource
from app.engine.registry import Registration
from app.engine.settings import AdoptionPolicy, AdoptionSettings
from app.errors import NoOpenPosition, RegistrationConflict, TradeNotManaged
from app.runtime import Services

from .conftest import Recorded, managed, open_position, quote


async def test_hundred_concurrent_registrations_give_one_row_and_one_event(ready: Services) -> None:
    ticket = await open_position(ready, "EURUSD", "BUY", 1.0)
    recorded = Recorded()
    ready.engine.subscribe(recorded)
    results = await asyncio.gather(
        *(
            ready.engine.register(Registration(ticket=ticket, symbol="EURUSD", direction=Direction.BUY))
            for _ in range(100)
        )
    )
    assert sum(not r.already_registered for r in results) == 1
    assert all(r.trade.ticket == ticket for r in results)
    assert len(recorded.of("trade_registered")) == 1
    stored = await ready.repository.load_active_trades()
    assert [t.ticket for t in stored] == [ticket]


async def test_mt5_position_is_the_truth_and_what_the_bot_sent_is_kept(ready: Services) -> None:
    bid, ask = await quote(ready, "EURUSD")
    ticket = await open_position(ready, "EURUSD", "SELL", 0.5, sl=round(ask + 0.0020, 5), tp=round(bid - 0.0040, 5))
    result = await ready.engine.register(
        Registration(
            ticket=ticket,
            symbol="eurusd",
            direction=Direction.parse("sell"),
            entry=1.0,
            volume=9.0,
            stop_loss=None,
            take_profit=0.0,
            strategy_type=None,
        )
    )
    trade = result.trade
    assert not result.already_registered
    assert trade.direction is Direction.SELL and trade.volume == 0.5
    assert trade.entry == pytest.approx(bid, abs=1e-9)
    assert trade.r == pytest.approx(trade.sl - trade.entry)
    assert not trade.synthetic_r
    assert trade.sent["entry"] == 1.0 and trade.sent["volume"] == 9.0
    assert trade.managed_by == "DTMS" and ready.engine.registry.can_modify(ticket)
    stored = await ready.repository.load_trade(ticket)
    assert stored == trade


async def test_trade_without_stop_loss_gets_a_synthetic_r_from_atr(ready: Services) -> None:
    ticket = await open_position(ready, "XAUUSD", "BUY", 0.1)
    trade = (await ready.engine.register(Registration(ticket=ticket))).trade
    atr = ready.engine.market.get("XAUUSD").atr_m15
    assert trade.synthetic_r and atr is not None
    assert trade.r == pytest.approx(1.5 * atr)


async def test_registration_errors_are_clear(ready: Services) -> None:
    with pytest.raises(NoOpenPosition, match="no open position with ticket 999999"):
        await ready.engine.register(Registration(ticket=999_999))
    ticket = await open_position(ready, "GBPUSD", "BUY", 0.2)
    with pytest.raises(RegistrationConflict, match="symbol"):
        await ready.engine.register(Registration(ticket=ticket, symbol="EURUSD"))
    with pytest.raises(RegistrationConflict, match="direction"):
        await ready.engine.register(Registration(ticket=ticket, direction=Direction.SELL))
    assert ready.engine.trade(ticket) is None, "a refused registration leaves nothing behind"
    with pytest.raises(TradeNotManaged):
        await ready.engine.unregister(ticket)


async def test_strategy_owned_trade_is_watched_not_changed(ready: Services) -> None:
    ticket = await open_position(ready, "EURUSD", "BUY", 0.3)
    trade = (await ready.engine.register(Registration(ticket=ticket, strategy_type="range_scalp"))).trade
    assert trade.managed_by == "range_scalp" and trade.strategy_type == "range_scalp"
    assert not ready.engine.registry.can_modify(ticket)
    assert ready.engine.registry.can_modify(ticket, "range_scalp")


def adopt_all(services: Services) -> None:
    settings = services.engine.settings
    services.engine.update_settings(replace(settings, adoption=AdoptionSettings(policy=AdoptionPolicy.ALL)))


async def test_unregister_stops_management_and_keeps_history(ready: Services) -> None:
    adopt_all(ready)  # even a policy that takes every position leaves a released one alone
    ticket = await open_position(ready, "EURUSD", "BUY", 0.3)
    await ready.engine.register(Registration(ticket=ticket))
    await ready.engine.unregister(ticket)
    assert ready.engine.trade(ticket) is None
    stored = await ready.repository.load_trade(ticket)
    assert stored is not None and not stored.active and stored.close_reason == "management stopped"
    await ready.engine.step()
    assert ready.engine.trade(ticket) is None, "a released ticket is not adopted again on its own"
    again = await ready.engine.register(Registration(ticket=ticket))
    assert not again.already_registered and again.trade.active


async def test_registration_claims_a_trade_adopted_on_its_own(ready: Services) -> None:
    adopt_all(ready)
    ticket = await open_position(ready, "EURUSD", "BUY", 0.3)
    await ready.engine.step()  # adoption policy "all" takes it over
    assert ready.engine.trade(ticket).source is TradeSource.ADOPTED
    recorded = Recorded()
    ready.engine.subscribe(recorded)
    result = await ready.engine.register(Registration(ticket=ticket, strategy_type="grid"))
    # pinned: a bot's first registration of a trade DTMS adopted on its own is not "already registered" (the
    # bot never registered it), and it is one event, trade_changed (DTMS's adoption was the trade_registered)
    assert not result.already_registered
    assert recorded.kinds().count("trade_registered") == 0 and recorded.kinds().count("trade_changed") == 1
    again = await ready.engine.register(Registration(ticket=ticket, strategy_type="grid"))
    assert again.already_registered
    assert result.trade.source is TradeSource.REGISTERED and result.trade.managed_by == "grid"


async def test_a_save_racing_a_release_never_brings_the_trade_back(ready: Services) -> None:
    """A cycle that saves the trade while the release is being committed wrote it as still managed; the
    release's last write wins, so the stored row says released (a kill then cannot revive it)."""
    ticket = await open_position(ready, "EURUSD", "BUY", 0.1)
    await ready.engine.register(Registration(ticket=ticket))
    trade = managed(ready, ticket)
    releasing = asyncio.ensure_future(ready.engine.unregister(ticket))
    await asyncio.sleep(0)  # the release's commit is on its way to the database thread
    assert trade.active
    await ready.repository.save_trades([trade])  # what a fast cycle saves meanwhile: still active
    await releasing
    stored = await ready.repository.load_trade(ticket)
    assert stored is not None and not stored.active


async def test_registrations_that_fail_leave_no_lock_behind(ready: Services) -> None:
    """A desk running for months sees many tickets once (bots retrying unknown tickets): nothing per ticket stays."""
    for ticket in range(900_000, 900_200):
        with pytest.raises(NoOpenPosition):
            await ready.engine.register(Registration(ticket=ticket))
    ticket = await open_position(ready, "EURUSD", "BUY", 1.0)
    results = await asyncio.gather(*(ready.engine.register(Registration(ticket=ticket)) for _ in range(20)))
    assert sum(not r.already_registered for r in results) == 1  # still one registration under concurrency
    # what is kept per ticket is the point here: only the managed trade's own lock
    assert set(ready.engine.registry._locks) <= {ticket}  # noqa: SLF001
