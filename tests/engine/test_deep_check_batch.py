"""A deep check pass commits its decisions in two transactions: the marks of its transitions with actions (before
anything is sent), then every transition of the pass with its journal and events (the changes of state alone
included). No live trade shows its new state, and no event is told, before that commit; a failed commit leaves
every trade as it was; a stop between the two is settled from the terminal without sending again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.engine.defense.actions import SETTLED
from app.engine.defense.rules import DefenseSettings
from app.engine.model import ActionKind, ActionOutcome
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


def watched(services: Services, monkeypatch: pytest.MonkeyPatch) -> tuple[Recorded, WatchedBatches]:
    """The events told, and the commits watched."""
    events = Recorded()
    services.engine.subscribe(events)
    return events, WatchedBatches(services, monkeypatch, events)


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
    events, watch = watched(services, monkeypatch)
    await advance(services, 301)  # a bar close: every trade checked in this cycle
    assert deep(services).checks == TRADES
    assert watch.transactions == [[(ticket, 1) for ticket in tickets]]  # one transaction, every transition in it
    assert watch.states_during == [dict.fromkeys(tickets, S.WARNING_L1)]  # the live trades waited for it
    assert watch.told_during == [0]  # and nothing was told before it
    assert [services.engine.trade(ticket).state for ticket in tickets] == [S.HEALTHY] * TRADES
    told = events.of("state_changed")
    seqs = [e.seq or 0 for e in told]
    assert [e.payload["ticket"] for e in told] == tickets and all(seqs) and seqs == sorted(seqs)
    assert await stored_states(services, tickets) == [S.HEALTHY] * TRADES
    for ticket in tickets:
        (transition,) = await services.engine.transitions(ticket)
        assert (transition.from_state, transition.to_state) == (S.WARNING_L1, S.HEALTHY)
        assert services.engine.trade(ticket).state_since == transition.at


async def test_a_failed_batch_commit_leaves_every_trade_as_it_was_and_the_next_checks_decide_again(
    warned: tuple[Services, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, tickets = warned
    events, watch = watched(services, monkeypatch)
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


def warning_at_zero() -> DefenseSettings:
    """Scores of 0 take a HEALTHY trade to WARNING_L1, with its SL tightened."""
    return DefenseSettings(warning_l1_score=0.5, healthy_again_score=1.0)


async def open_warning_desk(data_dir: Path) -> Services:
    silent = ScoringSettings(weights={name: 0.0 for name in ComponentName})
    services = await open_services(data_dir, engine_settings(scoring=silent, defense=warning_at_zero()))
    assert await services.engine.start()
    return services


async def terminal_sls(services: Services, tickets: list[int]) -> list[float]:
    found = {int(p.ticket): float(p.sl) for p in await services.gateway.positions(symbol="EURUSD")}
    return [found[ticket] for ticket in tickets]


async def test_a_pass_marks_its_transitions_in_one_transaction_sends_then_commits_them_in_one_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = await open_warning_desk(tmp_path)
    try:
        tickets = await hold_and_buy(services, TRADES)
        before = await terminal_sls(services, tickets)
        events, watch = watched(services, monkeypatch)
        sls: list[list[float]] = []
        marks: list[list[bool]] = []
        inner = watch.batch

        async def batch(items: Any) -> Any:
            sls.append(await terminal_sls(services, tickets))
            marks.append([bool(services.engine.trade(t).pending_action) for t in tickets])
            return await inner(items)

        monkeypatch.setattr(services.engine.repository, "commit_batch", batch)
        await advance(services, 301)
        # the marks (no transition yet), then every transition: two transactions for the whole pass
        assert watch.transactions == [[(t, 0) for t in tickets], [(t, 1) for t in tickets]]
        assert sls[0] == before  # nothing was sent before the marks were committed
        assert all(after > was for after, was in zip(sls[1], before, strict=True))  # sent before the second
        assert marks == [[False] * TRADES, [True] * TRADES]  # the live trades showed the committed marks
        assert watch.states_during == [dict.fromkeys(tickets, S.HEALTHY)] * 2 and watch.told_during == [0, 0]
        assert await terminal_sls(services, tickets) == sls[1]
        for ticket, sl in zip(tickets, sls[1], strict=True):
            trade = services.engine.trade(ticket)
            assert (trade.state, trade.sl, trade.pending_action) == (S.WARNING_L1, sl, None)
            assert [(a.kind, a.outcome) for a in await services.engine.journal(ticket)] == [
                (ActionKind.TIGHTEN, ActionOutcome.SUCCESS)
            ]
        assert [e.payload["ticket"] for e in events.of("state_changed")] == tickets
    finally:
        await services.close()


@pytest.mark.parametrize("sent", [False, True])
async def test_a_stop_between_the_two_transactions_is_settled_from_the_terminal_without_sending_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sent: bool
) -> None:
    """``sent``: the program stopped after the actions went out and before their transitions were committed;
    else right after the marks were committed, before anything was sent."""
    services = await open_warning_desk(tmp_path)
    try:
        tickets = await hold_and_buy(services, TRADES)
        before = await terminal_sls(services, tickets)
        repository = services.engine.repository
        commit_batch = repository.commit_batch

        async def stopping(items: Any) -> Any:
            if not sent or any(item.transitions for item in items):
                if not sent:
                    await commit_batch(items)  # the marks are on disk...
                raise StoreError("the program stops here")  # ...and nothing after them
            return await commit_batch(items)

        monkeypatch.setattr(repository, "commit_batch", stopping)
        await advance(services, 301)
        after = await terminal_sls(services, tickets)
        assert (after != before) == sent and all((a > b) == sent for a, b in zip(after, before, strict=True))
        monkeypatch.setattr(repository, "commit_batch", commit_batch)
    finally:
        await services.close()

    services = await open_warning_desk(tmp_path)  # started again on the same database and terminal
    try:
        assert await terminal_sls(services, tickets) == after  # settling sent nothing
        for ticket, sl in zip(tickets, after, strict=True):
            trade = services.engine.trade(ticket)
            assert (trade.state, trade.sl, trade.pending_action) == (S.WARNING_L1, sl, None)
            (record,) = await services.engine.journal(ticket)
            assert record.kind is ActionKind.TIGHTEN and record.detail.startswith(SETTLED)
            assert record.outcome is (ActionOutcome.SUCCESS if sent else ActionOutcome.NOT_SENT)
            (transition,) = await services.engine.transitions(ticket)
            assert (transition.from_state, transition.to_state) == (S.HEALTHY, S.WARNING_L1)
    finally:
        await services.close()


async def test_with_the_database_gone_a_pass_s_transitions_go_to_the_side_journal_and_take_effect(
    warned: tuple[Services, list[int]],
) -> None:
    services, tickets = warned
    events = Recorded()
    services.engine.subscribe(events)
    services.engine._recorder.degrade("disk full")
    await advance(services, 301)
    assert [services.engine.trade(ticket).state for ticket in tickets] == [S.HEALTHY] * TRADES
    assert [e.payload["ticket"] for e in events.of("state_changed")] == tickets
    side = services.engine.repository.side
    moves = [body["values"] for kind, body in side.records() if kind.value == "transition"]
    assert [(m["ticket"], m["to_state"]) for m in moves] == [(ticket, "HEALTHY") for ticket in tickets]


async def test_a_trade_released_while_the_pass_checked_the_others_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = await open_warning_desk(tmp_path)
    try:
        tickets = await hold_and_buy(services, TRADES)
        before = await terminal_sls(services, tickets)
        check = deep(services)
        original = check._check
        released = tickets[0]

        async def releasing(trade: Any, *args: Any) -> int:
            calls = await original(trade, *args)
            if trade.ticket == tickets[-1]:  # the last check of the pass: the first trade is let go meanwhile
                await services.engine.unregister(released)
            return calls

        monkeypatch.setattr(check, "_check", releasing)
        await advance(services, 301)
        after = await terminal_sls(services, tickets)
        assert after[0] == before[0] and all(a > b for a, b in zip(after[1:], before[1:], strict=True))
        assert await services.engine.journal(released) == [] and await services.engine.transitions(released) == []
    finally:
        await services.close()


async def test_the_budget_decides_how_many_transitions_a_pass_sends_and_keeps_room_for_their_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixed cap of five sends a pass left a bar close at 10,000 trades waiting 360 cycles; none at all would
    let a pass's sends run past its budget."""
    services = await open_warning_desk(tmp_path)
    try:
        tickets = await hold_and_buy(services, 8)
        check = deep(services)
        check.budget_s, check.min_checks = 10.0, 1  # time for all of them
        monkeypatch.setattr(services.engine.cycle, "_check_budget", lambda work_s: 10.0)
        _, watch = watched(services, monkeypatch)
        await advance(services, 301)
        assert watch.transactions == [[(t, 0) for t in tickets], [(t, 1) for t in tickets]], "one pass, all eight"
    finally:
        await services.close()
    services = await open_warning_desk(tmp_path / "again")
    try:
        tickets = await hold_and_buy(services, 8)
        check = deep(services)
        check.budget_s, check.min_checks = 0.02, 1
        check.after_s = 0.05  # what each send took so far: after the first check no room for a second
        _, watch = watched(services, monkeypatch)
        await advance(services, 301)
        assert watch.transactions == [[(tickets[0], 0)], [(tickets[0], 1)]], "the rest wait in line"
        assert check.waiting == 7 and check.after_s < 0.05, "learnt from the send it timed"
    finally:
        await services.close()
