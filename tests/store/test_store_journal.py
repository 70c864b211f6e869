"""The action journal, state transitions and events: ids, order, limits, and one-transaction commits."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from app.engine.model import ActionKind, ActionOutcome, ActionRecord, DefensiveState, StoredEvent, Trade, Transition
from app.store import Repository, StoreClosed, StoreError

MakeTrade = Callable[..., Trade]
WriteLock = Callable[[], AbstractContextManager[None]]


def action(ticket: int, n: int, **changes: object) -> ActionRecord:
    fields: dict[str, object] = {
        "ticket": ticket,
        "kind": ActionKind.TRAIL,
        "request": {"action": 6, "position": ticket, "sl": 1.0 + n / 1000},
        "outcome": ActionOutcome.SUCCESS,
        "retcode": 10009,
        "comment": "Request executed",
        "attempt": 1,
        "detail": f"trail #{n}",
        "at": 1000.0 + n,
        "wall_at": 2000.0 + n,
    }
    fields.update(changes)
    return ActionRecord(**fields)


def transition(ticket: int, n: int, **changes: object) -> Transition:
    fields: dict[str, object] = {
        "ticket": ticket,
        "from_state": DefensiveState.HEALTHY,
        "to_state": DefensiveState.WARNING_L1,
        "reason": f"score fell #{n}",
        "score": -1.5,
        "at": 100.0 + n,
    }
    fields.update(changes)
    return Transition(**fields)


async def test_appended_action_comes_back_with_its_id_and_every_field(repo: Repository) -> None:
    record = action(1, 0, kind=ActionKind.HEDGE, outcome=ActionOutcome.UNKNOWN, retcode=None, attempt=3)
    stored = await repo.append_action(record)
    assert stored.id is not None
    assert stored == ActionRecord(**{**_fields(record), "id": stored.id})
    assert await repo.actions() == [stored]


async def test_every_action_kind_and_outcome_round_trips(repo: Repository) -> None:
    records = [
        await repo.append_action(action(1, n, kind=kind, outcome=outcome))
        for n, (kind, outcome) in enumerate((k, o) for k in ActionKind for o in ActionOutcome)
    ]
    assert await repo.actions(limit=1000) == records[::-1]


async def test_actions_are_newest_first_limited_and_filtered(repo: Repository) -> None:
    for n in range(10):
        await repo.append_action(action(1 if n % 2 else 2, n))
    latest = await repo.actions(limit=3)
    assert [a.detail for a in latest] == ["trail #9", "trail #8", "trail #7"]
    odd = ["trail #9", "trail #7", "trail #5", "trail #3", "trail #1"]
    assert [a.detail for a in await repo.actions(ticket=1)] == odd
    assert [a.detail for a in await repo.actions(ticket=2, limit=2)] == ["trail #8", "trail #6"]
    assert await repo.actions(ticket=3) == []
    ids = [a.id for a in await repo.actions() if a.id is not None]  # len(ids) == 10: every one stored has its id
    assert ids == sorted(ids, reverse=True) and len(ids) == 10


async def test_the_request_is_stored_as_it_was_when_appended(repo: Repository, write_lock: WriteLock) -> None:
    request = {"price": 1.1}
    with write_lock():
        blocked = asyncio.ensure_future(repo.append_action(action(1, 0)))
        await asyncio.sleep(0)  # that write now waits for the lock on the database thread
        appending = asyncio.ensure_future(repo.append_action(action(1, 1, request=request)))
        await asyncio.sleep(0)  # queued behind it
        request["price"] = 1.2  # a retry reuses and changes the dict
    await asyncio.gather(blocked, appending)
    assert (await repo.actions(limit=1))[0].request == {"price": 1.1}


async def test_transitions_of_a_trade_are_oldest_first(repo: Repository) -> None:
    appended = []
    states = list(DefensiveState)
    for n, (before, after) in enumerate(zip(states, states[1:])):
        appended.append(await repo.append_transition(transition(5, n, from_state=before, to_state=after)))
    await repo.append_transition(transition(6, 99))
    assert await repo.transitions(5) == appended
    assert all(t.id is not None for t in appended)
    assert [t.to_state for t in await repo.transitions(5)] == states[1:]
    assert await repo.transitions(7) == []


async def test_events_have_increasing_seq_and_page_by_limit(repo: Repository) -> None:
    assert await repo.last_event_seq() == 0
    stored = [await repo.append_event("trade_registered", {"ticket": n, "tags": ["a", n]}, 10.0 + n) for n in range(7)]
    seqs = [e.seq for e in stored]
    assert seqs == sorted(seqs) and len(set(seqs)) == 7
    assert await repo.last_event_seq() == seqs[-1]
    assert await repo.events_since(0) == stored
    assert await repo.events_since(seqs[2], limit=3) == stored[3:6]
    assert await repo.events_since(seqs[-1]) == []
    assert stored[4].payload == {"ticket": 4, "tags": ["a", 4]} and stored[4].at == 14.0 and stored[4].wall_at > 0


async def test_many_events_in_one_transaction_are_told_the_seq_they_were_stored_under(
    repo: Repository, make_trade: MakeTrade
) -> None:
    await repo.append_event("before", {}, 1.0)
    batches = [
        [("trade_closed", {"ticket": 100 * b + n}, 2.0 + n) for n in range(size)] for b, size in enumerate((1, 5, 40))
    ]
    told: list[StoredEvent] = []
    for batch in batches:
        told += await repo.save_trades_with_events([make_trade(len(told) + 1)], batch)
    assert await repo.save_trades_with_events([make_trade(99)], []) == []
    assert await repo.events_since(1) == told
    assert [e.payload["ticket"] for e in told] == [p["ticket"] for batch in batches for _, p, _ in batch]
    assert await repo.last_event_seq() == told[-1].seq


async def test_event_seq_is_not_reused_after_reopening(db_path: Path) -> None:
    first = await Repository.open(db_path)
    last = (await first.append_event("a", {}, 1.0)).seq
    await first.close()
    second = await Repository.open(db_path)
    try:
        assert await second.last_event_seq() == last
        assert (await second.append_event("b", {}, 2.0)).seq == last + 1
    finally:
        await second.close()


async def test_trade_and_its_records_commit_together(repo: Repository, make_trade: MakeTrade) -> None:
    trade = make_trade(11, state=DefensiveState.HEDGED, hedge_ticket=12)
    actions, transitions = await repo.save_trade_with_records(
        trade, actions=[action(11, 1, kind=ActionKind.HEDGE)], transitions=[transition(11, 1)]
    )
    assert await repo.load_trade(11) == trade
    assert await repo.actions(ticket=11) == actions and actions[0].id is not None
    assert await repo.transitions(11) == transitions and transitions[0].id is not None


async def test_a_failing_record_leaves_nothing_of_the_change(repo: Repository, make_trade: MakeTrade) -> None:
    before = make_trade(21)
    await repo.save_trade(before)
    changed = make_trade(21, state=DefensiveState.WARNING_L2, warnings=2)
    broken = transition(21, 2, score=math.nan)  # SQLite stores NaN as NULL: the NOT NULL score refuses it
    with pytest.raises(StoreError):
        await repo.save_trade_with_records(changed, actions=[action(21, 1)], transitions=[transition(21, 1), broken])
    assert await repo.load_trade(21) == before
    assert await repo.actions(ticket=21) == []
    assert await repo.transitions(21) == []


async def test_a_closed_repository_refuses_work(db_path: Path) -> None:
    repository = await Repository.open(db_path)
    await repository.close()
    with pytest.raises(StoreClosed):
        await repository.load_active_trades()


async def test_two_files_open_at_once_stay_apart(tmp_path: Path, make_trade: MakeTrade) -> None:
    first = await Repository.open(tmp_path / "one.db")
    second = await Repository.open(tmp_path / "two.db")
    try:
        await first.save_trade(make_trade(1))
        await second.save_trade(make_trade(2))
        await first.append_event("one", {}, 1.0)
        assert [t.ticket for t in await first.load_active_trades()] == [1]
        assert [t.ticket for t in await second.load_active_trades()] == [2]
        assert await second.last_event_seq() == 0
    finally:
        await first.close()
        await second.close()


async def test_size_grows_with_content(repo: Repository, make_trade: MakeTrade) -> None:
    empty = await repo.size_bytes()
    await repo.save_trades(make_trade(n, comment="x" * 200) for n in range(1, 2001))
    assert repo.path.exists()
    assert await repo.size_bytes() > empty + 2000 * 200


def _fields(record: ActionRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}
