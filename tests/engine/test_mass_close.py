"""Many positions ending in one cycle: each trade archived once, with its own deal, in one transaction."""

from __future__ import annotations

import pytest

from app.engine import cycle
from app.engine.model import DefensiveState
from app.engine.registry import Registration
from tests.engine.conftest import Recorded, open_position


async def test_a_mass_close_archives_and_journals_every_trade_once(ready) -> None:
    tickets = []
    for i in range(30):
        ticket = await open_position(ready, "EURUSD" if i % 2 else "GBPUSD", "BUY" if i % 3 else "SELL", 0.1)
        await ready.engine.register(Registration(ticket=ticket))
        tickets.append(ticket)
    hedge = await open_position(ready, "GBPUSD", "BUY", 0.05, comment=f"DTMS_HEDGE_{tickets[0]}")
    await ready.engine.step()
    recorded = Recorded()
    ready.engine.subscribe(recorded)
    closing, staying = tickets[:20], tickets[20:]
    for ticket in closing:
        answer = await ready.gateway.control("close_position", ticket=ticket)
        assert answer["retcode"] == 10009
    before = await ready.repository.last_event_seq()

    report = await ready.engine.run_fast_cycle()

    assert report.closed == 20
    assert sorted(t.ticket for t in ready.engine.trades()) == sorted(staying)
    closed_events = recorded.of("trade_closed")
    assert sorted(e.payload["ticket"] for e in closed_events) == sorted(closing)  # each once
    stored = [e for e in await ready.repository.events_since(before) if e.kind == "trade_closed"]
    assert [e.seq for e in stored] == [e.seq for e in closed_events]  # published as committed, same order
    for ticket in closing:
        archived = await ready.repository.load_trade(ticket)
        assert archived is not None and not archived.active and archived.state is DefensiveState.CLOSED
        alone = await ready.gateway.history_deals(position=ticket)
        exit_deal = max((d for d in alone if d.entry == 1), key=lambda d: d.time_msc)
        assert archived.close_price == exit_deal.price  # its own deal, not a neighbour's
        assert archived.close_profit == round(sum(d.profit + d.swap + d.commission + d.fee for d in alone), 2)
        assert archived.close_reason == "closed by an expert or script"
    assert await ready.gateway.positions(ticket=hedge) == (), "the closed trade's hedge did not stay open"
    await ready.engine.step()
    assert len(recorded.of("trade_closed")) == 20  # nothing archived twice


async def registered(ready, count: int) -> list[int]:
    """``count`` positions opened and registered (EURUSD and GBPUSD by turns), then one cycle run."""
    tickets = []
    for i in range(count):
        ticket = await open_position(ready, "EURUSD" if i % 2 else "GBPUSD", "BUY", 0.1)
        await ready.engine.register(Registration(ticket=ticket))
        tickets.append(ticket)
    await ready.engine.step()
    return tickets


async def test_more_closes_than_a_cycle_archives_wait_for_the_next_cycles_each_archived_once(
    ready, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cycle, "CLOSES_PER_CYCLE", 7)
    tickets = await registered(ready, 24)
    recorded = Recorded()
    ready.engine.subscribe(recorded)
    closing, staying = tickets[:20], tickets[20:]
    for ticket in closing:
        assert (await ready.gateway.control("close_position", ticket=ticket))["retcode"] == 10009
    journal_before = len(await ready.engine.recent_actions(1000))

    archived = []
    for expected in (7, 7, 6, 0):
        report = await ready.engine.run_fast_cycle()
        assert report.closed == expected
        archived.append(sorted(e.payload["ticket"] for e in recorded.of("trade_closed")))
        waiting = {t.ticket for t in ready.engine.trades()} - set(staying)
        # the ones not yet archived are still listed, lowest tickets archived first
        assert waiting == set(sorted(closing)[len(archived[-1]) :])
    assert archived[-1] == sorted(closing), "each archived once"
    assert sorted(t.ticket for t in ready.engine.trades()) == sorted(staying)
    assert len(await ready.engine.recent_actions(1000)) == journal_before, "nothing sent for a waiting trade"
    for ticket in closing:
        trade = await ready.repository.load_trade(ticket)
        assert trade is not None and not trade.active and trade.state is DefensiveState.CLOSED


async def test_recovery_archives_every_trade_that_ended_while_the_desk_was_away(
    ready, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is protected before READY, so the recovery cycle is not held to a cycle's share of closes."""
    monkeypatch.setattr(cycle, "CLOSES_PER_CYCLE", 7)
    tickets = await registered(ready, 20)
    for ticket in tickets[:15]:
        assert (await ready.gateway.control("close_position", ticket=ticket))["retcode"] == 10009

    report = await ready.engine.cycle.run(protect=False)

    assert report.closed == 15
    assert sorted(t.ticket for t in ready.engine.trades()) == sorted(tickets[15:])
