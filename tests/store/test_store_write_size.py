"""Few bytes per write: a stored trade is rewritten without touching its indexes, backups only of a changed file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from app.engine.events import EventBus
from app.engine.model import ActionKind, ActionOutcome, ActionRecord, Trade
from app.engine.recorder import Recorder
from app.engine.settings import EngineSettings
from app.engine.watches import DatabaseWatch
from app.store import Repository
from app.store.backup import backups

MakeTrade = Callable[..., Trade]
PAGE = 1024
FRAME = PAGE + 24  # a WAL frame: its header and one page


def _wal(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


async def _no_checkpoints(repo: Repository) -> None:
    await repo._run(lambda: repo._db.execute_sql("PRAGMA wal_autocheckpoint = 0"))


async def test_a_stored_trade_rewritten_with_the_same_indexed_columns_writes_one_page(
    repo: Repository, db_path: Path, make_trade: MakeTrade
) -> None:
    await _no_checkpoints(repo)
    await repo.save_trades([make_trade(1), make_trade(2, active=False, closed_at=50.0)])
    before = _wal(db_path)
    await repo.save_trades([make_trade(1, best_price=1.15, score=0.3)])
    assert _wal(db_path) - before == FRAME  # the row's page; neither index is written
    stored = await repo.load_trade(1)
    assert stored is not None and stored.best_price == 1.15 and stored.score == 0.3


async def test_a_decision_commit_writes_no_trade_index_page(
    repo: Repository, db_path: Path, make_trade: MakeTrade
) -> None:
    await _no_checkpoints(repo)
    await repo.save_trades([make_trade(1)])
    record = ActionRecord(
        ticket=1, kind=ActionKind.TIGHTEN, request={"sl": 1.095}, outcome=ActionOutcome.SUCCESS, retcode=10009, at=5.0
    )
    await repo.commit_records(make_trade(1, sl=1.095), [record])  # creates the journal's pages
    before = _wal(db_path)
    await repo.commit_records(make_trade(1, sl=1.096), [replace(record, request={"sl": 1.096})])
    # the trade's row, the action's row and its index entry, the AUTOINCREMENT counter: four pages
    assert _wal(db_path) - before == 4 * FRAME
    stored = await repo.load_trade(1)
    assert stored is not None and stored.sl == 1.096
    assert [a.request for a in await repo.actions(1)] == [{"sl": 1.096}, {"sl": 1.095}]


async def test_new_trades_and_changed_indexed_columns_are_still_stored_in_the_same_batch(
    repo: Repository, make_trade: MakeTrade
) -> None:
    await repo.save_trades([make_trade(1), make_trade(2)])
    await repo.save_trades(
        [make_trade(1, best_price=1.2), make_trade(2, active=False, closed_at=70.0), make_trade(3, volume=0.3)]
    )
    assert [t.ticket for t in await repo.load_active_trades()] == [1, 3]
    assert [t.ticket for t in await repo.load_closed_since(0.0)] == [2]
    assert await repo.load_trade(1) == make_trade(1, best_price=1.2)
    assert await repo.load_trade(3) == make_trade(3, volume=0.3)


async def test_a_backup_is_taken_only_when_the_file_changed_since_the_last(
    repo: Repository, db_path: Path, make_trade: MakeTrade
) -> None:
    await repo.save_trades([make_trade(1)])
    first = await repo.backup(unless_unchanged=True)
    assert first is not None and backups(db_path) == [first]
    assert await repo.backup(unless_unchanged=True) is None  # nothing written since: no copy
    assert backups(db_path) == [first]
    await repo.save_trades([make_trade(1, best_price=1.3)])
    second = await repo.backup(unless_unchanged=True)
    assert second is not None and second != first
    connection = sqlite3.connect(second)
    try:
        assert connection.execute("SELECT best_price FROM trades WHERE ticket = 1").fetchone() == (1.3,)
    finally:
        connection.close()
    forced = await repo.backup()  # asked for: taken even when nothing changed
    assert forced is not None and len(backups(db_path)) == 3


async def test_the_wal_is_checkpointed_every_4000_pages(repo: Repository) -> None:
    # rarer checkpoints write each often-changed page (trades, journal leaves) fewer times
    assert await repo._run(lambda: repo._db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0]) == 4000


async def test_the_periodic_backup_of_an_unchanged_file_is_skipped_and_not_counted(
    repo: Repository, db_path: Path, make_trade: MakeTrade
) -> None:
    recorder = Recorder(repo, EventBus(), lambda: 0.0)
    watch = DatabaseWatch(repo, recorder, EngineSettings)
    await repo.save_trades([make_trade(1)])
    assert await watch.backup(unless_unchanged=True)
    taken = watch.last_backup
    assert not await watch.backup(unless_unchanged=True)  # what the periodic watch asks: nothing written since
    assert watch.last_backup == taken and backups(db_path) == [taken]
    assert not recorder.problem  # skipping is no failure
    await repo.save_trades([make_trade(1, score=0.4)])
    assert await watch.backup(unless_unchanged=True) and watch.last_backup != taken


async def test_a_backup_falls_due_early_once_the_side_journal_outgrows_the_file(
    repo: Repository, db_path: Path, make_trade: MakeTrade, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.engine import watches

    watch = DatabaseWatch(repo, Recorder(repo, EventBus(), lambda: 0.0), EngineSettings)
    await repo.register_trade(make_trade(1), "trade_registered", {"ticket": 1}, 0.0)
    assert await watch.backup()
    assert not await watch.journal_outgrew_file()  # emptied by the backup
    monkeypatch.setattr(watches, "JOURNAL_BACKUP_LEAST_BYTES", 1)
    for n in range(2, 40):
        await repo.register_trade(make_trade(n, comment="c" * 400), "trade_registered", {"ticket": n}, 0.0)
    assert repo.side.size() < await repo.size_bytes()
    assert not await watch.journal_outgrew_file()
    while repo.side.size() < await repo.size_bytes():
        await repo.commit_records(make_trade(1, comment="d" * 900))
    assert await watch.journal_outgrew_file()
    assert await watch.backup() and not await watch.journal_outgrew_file()
