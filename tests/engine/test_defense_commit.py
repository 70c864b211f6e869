"""A defensive decision reaches the trade everyone reads only through the database.

The live trade (what the window, the endpoint and the next cycle read) shows a new state, state_since, timer,
SL or hedge only once the transaction that stores it with its transition and journal committed; a commit that
fails leaves it as it was, and the transition is then settled from the terminal as after a crash.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.engine.defense.actions import PENDING_PREFIX
from app.engine.model import DefensiveState as S
from app.engine.model import Trade, Transition
from app.runtime import Services
from app.store.errors import StoreError

from .conftest import open_services, set_price
from .test_defense_actions import act, buy, positions

SHOWN = (
    "state",
    "state_since",
    "sl",
    "volume",
    "hedge_ticket",
    "pending_action",
    "warnings",
    "flat_timer_until",
    "recovery_timer_until",
    "closed_volume",
    "last_action",
)


def shown(trade: Trade) -> dict[str, Any]:
    return {name: getattr(trade, name) for name in SHOWN}


class WatchedCommits:
    """Wraps the repository's one-transaction commit (trade, journal and events): notes what the live trade showed
    while each commit was under way, what was committed, and can make the commit carrying a transition fail."""

    def __init__(self, services: Services, live: Trade, monkeypatch: pytest.MonkeyPatch) -> None:
        self.live = live
        self.during: list[dict[str, Any]] = []
        self.committed: list[tuple[dict[str, Any], tuple[Transition, ...]]] = []
        self.fail_transitions = False
        repository = services.engine.repository
        self._save = repository.commit_records
        monkeypatch.setattr(repository, "commit_records", self.save)

    async def save(
        self, trade: Trade, actions: Any = (), transitions: Any = (), events: Any = (), **options: Any
    ) -> Any:
        transitions = tuple(transitions)
        self.during.append(shown(self.live))
        if self.fail_transitions and transitions:
            raise StoreError("database is full")
        result = await self._save(trade, actions, transitions, events, **options)
        self.committed.append((shown(trade), transitions))
        return result


async def stored_baseline(services: Services, trade: Trade) -> dict[str, Any]:
    await services.engine.repository.save_trade(trade)  # the state the test starts from, committed
    stored = await services.engine.repository.load_trade(trade.ticket)
    assert stored is not None
    return shown(stored)


@pytest.mark.parametrize(
    ("start", "score", "reached"), [(S.HEALTHY, -2.5, S.WARNING_L1), (S.WARNING_L2, -6.5, S.HEDGED)]
)
async def test_the_live_trade_shows_only_what_is_committed(
    ready: Services, monkeypatch: pytest.MonkeyPatch, start: S, score: float, reached: S
) -> None:
    trade, entry = await buy(ready, volume=0.5)
    trade.state = start
    last = await stored_baseline(ready, trade)
    watch = WatchedCommits(ready, trade, monkeypatch)
    await set_price(ready, "EURUSD", round(entry - 0.0010, 5))
    await act(ready, trade, score)
    assert watch.committed, "the decision committed nothing"
    for during, (committed, _) in zip(watch.during, watch.committed, strict=True):
        assert during == last  # while a commit is under way the trade shows the previous commit
        last = committed
    assert shown(trade) == last  # and the committed values once it is done
    assert trade.state is reached and trade.pending_action is None
    assert [t.to_state for _, ts in watch.committed for t in ts] == [reached]
    assert (reached is not S.HEDGED) or trade.hedge_ticket in await positions(ready)


async def test_a_failed_commit_leaves_the_trade_as_it_was_and_the_restart_settles_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        trade, entry = await buy(services)
        before = await stored_baseline(services, trade)
        watch = WatchedCommits(services, trade, monkeypatch)
        watch.fail_transitions = True
        await set_price(services, "EURUSD", round(entry - 0.0008, 5))
        with pytest.raises(StoreError):
            await act(services, trade, -2.5)
        moved = (await positions(services))[trade.ticket].sl
        assert moved > before["sl"]  # the terminal took the tighter SL before the commit failed
        # the trade keeps what was committed: the transition marked as under way, the old state, SL and timers
        assert trade.pending_action is not None and trade.pending_action.startswith(PENDING_PREFIX)
        assert shown(replace(trade, pending_action=None)) == before
        assert await services.engine.transitions(trade.ticket) == []
        stored = await services.engine.repository.load_trade(trade.ticket)
        assert stored is not None and shown(stored) == shown(trade)
        # the repository's own commit again (monkeypatch.undo would also drop the test's own account-lock place)
        monkeypatch.setattr(services.engine.repository, "commit_records", watch._save)
    finally:
        await services.close()

    # started again on the same database: the pending transition is settled from the terminal, once
    services = await open_services(tmp_path)
    try:
        assert await services.engine.start()
        again = services.engine.trade(trade.ticket)
        (transition,) = await services.engine.transitions(trade.ticket)
        assert (transition.from_state, transition.to_state) == (S.HEALTHY, S.WARNING_L1)
        assert again.state is S.WARNING_L1 and again.state_since == transition.at and again.sl == moved
        assert again.pending_action is None
    finally:
        await services.close()
