"""A deep check pass commits its changes of state alone (decisions without actions) in one transaction at its end:
no live trade shows its new state, and no event is told, before that commit; a failed commit leaves every trade
as it was, and their next checks decide again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.engine.model import DefensiveState as S
from app.engine.scoring.score import ScoringSettings
from app.engine.scoring.vocab import ComponentName
from app.runtime import Services
from app.store.errors import StoreError

from .conftest import Recorded, engine_settings, open_services
from .test_deep_check import advance, deep, hold_and_buy

TRADES = 4


class WatchedBatches:
    """Wraps the repository's commits: notes each transaction (one decision or a batch of them), what the live
    trades showed and which events were told while it was under way; can make the batches fail."""

    def __init__(self, services: Services, monkeypatch: pytest.MonkeyPatch, events: Recorded) -> None:
        self.services, self.events = services, events
        self.transactions: list[list[tuple[int, int]]] = []  # per commit: (ticket, transitions) of each decision
        self.states_during: list[dict[int, S]] = []
        self.told_during: list[int] = []
        self.fail = False
        repository = services.engine.repository
        self._batch, self._single = repository.commit_batch, repository.commit_records
        monkeypatch.setattr(repository, "commit_batch", self.batch)
        monkeypatch.setattr(repository, "commit_records", self.single)

    def _during(self) -> None:
        self.states_during.append({t.ticket: t.state for t in self.services.engine.trades()})
        self.told_during.append(len(self.events.of("state_changed")))

    async def batch(self, items: Any) -> Any:
        self._during()
        self.transactions.append([(item.trade.ticket, len(item.transitions)) for item in items])
        if self.fail:
            raise StoreError("database is full")
        return await self._batch(items)

    async def single(self, trade: Any, actions: Any = (), transitions: Any = (), events: Any = (), **options: Any):
        transitions = tuple(transitions)
        self._during()
        self.transactions.append([(trade.ticket, len(transitions))])
        return await self._single(trade, actions, transitions, events, **options)


@pytest.fixture
async def warned(tmp_path: Path) -> Any:
    """A desk whose scores are all 0 (every base weight 0) with trades in WARNING_L1: their next checks take each
    back to HEALTHY, a change of state with no action."""
    silent = ScoringSettings(weights={name: 0.0 for name in ComponentName})
    services = await open_services(tmp_path, engine_settings(scoring=silent))
    try:
        assert await services.engine.start()
        tickets = await hold_and_buy(services, TRADES)
        for ticket in tickets:
            trade = services.engine.trade(ticket)
            trade.state = S.WARNING_L1
            await services.engine.repository.save_trade(trade)
        yield services, tickets
    finally:
        await services.close()


async def stored_states(services: Services, tickets: list[int]) -> list[S]:
    return [(await services.engine.repository.load_trade(ticket)).state for ticket in tickets]


async def test_the_changes_of_state_of_one_pass_are_one_transaction_told_after_it(
    warned: tuple[Services, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, tickets = warned
    events = Recorded()
    services.engine.subscribe(events)
    watch = WatchedBatches(services, monkeypatch, events)
    await advance(services, 301)  # a bar close: every trade checked in this cycle
    assert deep(services).checks == TRADES
    assert watch.transactions == [[(ticket, 1) for ticket in tickets]]  # one transaction, every transition in it
    assert watch.states_during == [dict.fromkeys(tickets, S.WARNING_L1)]  # the live trades waited for it
    assert watch.told_during == [0]  # and nothing was told before it
    assert [services.engine.trade(ticket).state for ticket in tickets] == [S.HEALTHY] * TRADES
    told = events.of("state_changed")
    assert [e.payload["ticket"] for e in told] == tickets and all(e.seq for e in told)
    assert [e.seq for e in told] == sorted(e.seq for e in told)
    assert await stored_states(services, tickets) == [S.HEALTHY] * TRADES
    for ticket in tickets:
        (transition,) = await services.engine.transitions(ticket)
        assert (transition.from_state, transition.to_state) == (S.WARNING_L1, S.HEALTHY)
        assert services.engine.trade(ticket).state_since == transition.at


async def test_a_failed_batch_commit_leaves_every_trade_as_it_was_and_the_next_checks_decide_again(
    warned: tuple[Services, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, tickets = warned
    events = Recorded()
    services.engine.subscribe(events)
    watch = WatchedBatches(services, monkeypatch, events)
    watch.fail = True
    since = {ticket: services.engine.trade(ticket).state_since for ticket in tickets}
    await advance(services, 301)
    assert len(watch.transactions) == 1 and deep(services).checks == TRADES
    for ticket in tickets:
        trade = services.engine.trade(ticket)
        assert (trade.state, trade.state_since, trade.pending_action) == (S.WARNING_L1, since[ticket], None)
        assert await services.engine.transitions(ticket) == []
    assert events.of("state_changed") == []
    assert await stored_states(services, tickets) == [S.WARNING_L1] * TRADES

    watch.fail = False
    for _ in range(3):  # the next regular checks, 15 minutes later
        await advance(services, 300)
    assert [services.engine.trade(ticket).state for ticket in tickets] == [S.HEALTHY] * TRADES
    assert await stored_states(services, tickets) == [S.HEALTHY] * TRADES
    assert [e.payload["ticket"] for e in events.of("state_changed")] == tickets
