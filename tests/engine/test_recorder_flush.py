"""Figures that are not decisions are written in batches; decisions are committed before they are told."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from app.engine.events import EventBus, EventKind
from app.engine.model import ActionRecord, Direction, StoredEvent, Trade, Transition
from app.engine.recorder import Recorder
from app.store import Repository


class RecordingJournal:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.committed: list[int] = []
        self.events = 0

    async def commit_records(
        self,
        trade: Trade,
        actions: Iterable[ActionRecord] = (),
        transitions: Iterable[Transition] = (),
        events: Iterable[tuple[str, dict[str, Any], float]] = (),
        *,
        changed: frozenset[str] | None = None,
    ) -> tuple[list, list, list]:
        self.committed.append(trade.ticket)
        stored = []
        for kind, payload, at in events:
            stored.append(await self.append_event(kind, payload, at))
        return list(actions), list(transitions), stored

    async def save_trades(self, trades: Iterable[Trade]) -> None:
        self.batches.append([t.ticket for t in trades])

    async def insert_trade_with_events(
        self, trade: Trade, events: Iterable[tuple[str, dict[str, Any], float]]
    ) -> tuple[bool, list[StoredEvent]]:
        return True, [await self.append_event(kind, payload, at) for kind, payload, at in events]

    async def load_trade(self, ticket: int) -> Trade | None:
        return None

    async def append_event(self, kind: str, payload: dict[str, Any], at: float) -> StoredEvent:
        self.events += 1
        return StoredEvent(seq=self.events, kind=kind, payload=payload, at=at, wall_at=0.0)


def _trade(ticket: int) -> Trade:
    return Trade(ticket=ticket, symbol="EURUSD", direction=Direction.BUY, entry=1.1, volume=0.1, sl=1.09, tp=0.0)


async def test_touched_trades_are_written_together_at_most_once_per_interval() -> None:
    journal, wall = RecordingJournal(), [100.0]
    recorder = Recorder(journal, EventBus(), lambda: 0.0, interval=lambda: 5.0, wall=lambda: wall[0])
    trades = [_trade(t) for t in range(1, 101)]
    for trade in trades:
        recorder.touch(trade)
    assert await recorder.flush() == 100  # the first flush writes at once
    assert journal.batches == [list(range(1, 101))]  # one transaction for the hundred trades
    for second in range(1, 5):
        wall[0] = 100.0 + second
        for trade in trades:
            trade.best_price = 1.1 + second / 1000
            recorder.touch(trade)
        assert await recorder.flush() == 0  # within the interval: nothing written
    assert len(journal.batches) == 1 and recorder.pending == 100
    wall[0] = 105.0
    assert await recorder.flush() == 100
    assert len(journal.batches) == 2 and recorder.pending == 0
    assert await recorder.flush(force=True) == 0  # nothing marked: no empty transaction


async def test_a_commit_writes_the_trade_at_once_and_settles_its_marked_figures() -> None:
    journal, told = RecordingJournal(), []
    bus = EventBus()
    recorder = Recorder(journal, bus, lambda: 0.0, interval=lambda: 3600.0, wall=lambda: 0.0)
    bus.subscribe(lambda event: told.append((event.kind, list(journal.committed))))
    await recorder.flush(force=True)
    first, second = _trade(1), _trade(2)
    recorder.touch(first)
    recorder.touch(second)
    await recorder.commit(first, events=[(EventKind.ACTION, {"ticket": 1})])
    assert journal.committed == [1] and told == [(EventKind.ACTION, [1])]  # committed before it was told
    assert recorder.pending == 1  # only the other trade still waits
    assert await recorder.flush(force=True) == 1 and journal.batches[-1] == [2]


async def test_figures_only_the_window_shows_wait_for_the_trades_next_write() -> None:
    journal, wall = RecordingJournal(), [0.0]
    recorder = Recorder(journal, EventBus(), lambda: 0.0, interval=lambda: 60.0, wall=lambda: wall[0])
    scored, improved = _trade(1), _trade(2)
    recorder.touch(scored, figures=True)  # a deep check's score and times
    assert await recorder.flush() == 0 and journal.batches == []  # no flush due for them alone
    recorder.touch(improved)  # a better price: due
    assert await recorder.flush() == 1 and journal.batches == [[2]]
    wall[0] = 120.0
    assert await recorder.flush() == 0 and recorder.pending == 1  # the score still waits, written by nothing yet
    recorder.touch(scored)  # its best price improves too: the whole row goes with the next flush
    assert await recorder.flush() == 1 and journal.batches[-1] == [1] and recorder.pending == 0
    recorder.touch(scored, figures=True)
    recorder.touch(improved, figures=True)
    await recorder.commit(improved)  # a commit writes the whole row: its figures are settled
    assert recorder.pending == 1
    assert await recorder.flush(force=True) == 1 and journal.batches[-1] == [1]  # a stop writes the rest


async def test_a_best_price_survives_a_crash_once_its_interval_passed(tmp_path: Path) -> None:
    """Between decisions a crash loses at most ``interval`` wall seconds of best-price improvements: what a
    restart would read is what another connection sees committed in the file."""
    path, wall = tmp_path / "dtms.sqlite3", [0.0]

    def stored_best() -> float:
        connection = sqlite3.connect(path)
        try:
            return float(connection.execute("SELECT best_price FROM trades WHERE ticket = 7").fetchone()[0])
        finally:
            connection.close()

    trade = _trade(7)
    repository = await Repository.open(path)
    try:
        await repository.save_trades([trade])
        recorder = Recorder(repository, EventBus(), lambda: 0.0, interval=lambda: 300.0, wall=lambda: wall[0])
        trade.best_price = 1.15
        recorder.touch(trade)
        assert await recorder.flush() == 1  # the first flush writes at once
        wall[0] = 299.0
        trade.best_price = 1.16
        recorder.touch(trade)
        assert await recorder.flush() == 0
        assert stored_best() == 1.15  # a crash now: the value of the last flush, less than 300 s old
        wall[0] = 300.0
        assert await recorder.flush() == 1  # due once the interval passed
        assert stored_best() == 1.16
    finally:
        await repository.close()


async def test_a_due_flush_of_many_trades_is_spread_over_cycles_longest_waiting_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 10,000 trades one transaction of every touched trade held a cycle for a quarter of a second."""
    from app.engine import recorder as module

    monkeypatch.setattr(module, "FLUSH_MOST", 40)
    journal, wall = RecordingJournal(), [100.0]
    recorder = Recorder(journal, EventBus(), lambda: 0.0, interval=lambda: 5.0, wall=lambda: wall[0])
    trades = [_trade(t) for t in range(1, 101)]
    for trade in trades:
        recorder.touch(trade)
    assert [await recorder.flush() for _ in range(4)] == [40, 40, 20, 0], "one transaction a cycle until done"
    assert journal.batches == [list(range(1, 41)), list(range(41, 81)), list(range(81, 101))]
    for trade in trades[:50]:
        recorder.touch(trade)
    recorder.touch(trades[0])  # touched again: keeps its place in line
    wall[0] = 104.0
    assert await recorder.flush() == 0, "the interval counts from the end of the last spread"
    wall[0] = 105.0
    assert await recorder.flush() == 40 and journal.batches[-1] == list(range(1, 41))
    assert await recorder.flush() == 10 and recorder.pending == 0
    for trade in trades:
        recorder.touch(trade)
    assert await recorder.flush(force=True) == 100, "a stop writes them all at once"
