"""A backup copies the whole file, so a due one is taken only when it is worth it: the file is small, what
changed since the last (the side journal) weighs at least a sixteenth of it, or the last copy is
``backup_max_age_s`` old. A file grown large over months is then not copied whole every day (or at every stop)
for a few decisions; the side journal keeps each of those meanwhile, so a restore loses none."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from app.engine import watches
from app.engine.events import EventBus
from app.engine.model import Trade
from app.engine.recorder import Recorder
from app.engine.settings import DatabaseSettings, EngineSettings
from app.engine.watches import BACKUP_JOURNAL_SHARE, DatabaseWatch
from app.store import Repository
from app.store.backup import backups
from tests.engine.conftest import open_services

MakeTrade = Callable[..., Trade]
DAY_S = 86400.0


def _watch(repo: Repository, **database: float) -> DatabaseWatch:
    settings = replace(EngineSettings(), database=replace(DatabaseSettings(), **database))
    return DatabaseWatch(repo, Recorder(repo, EventBus(), lambda: 0.0), lambda: settings)


@pytest.fixture(autouse=True)
def _large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file here counts as large (a real one is past 8 MB): the share decides."""
    monkeypatch.setattr(watches, "SMALL_FILE_BYTES", 0)


async def _grown(repo: Repository, make_trade: MakeTrade, trades: int = 300) -> None:
    """A file of some weight (many closed trades) backed up, so the side journal starts empty."""
    await repo.save_trades([make_trade(n, active=False, closed_at=float(n), comment="c" * 200) for n in range(trades)])
    assert await repo.backup() is not None and repo.side.size() == 0


async def test_a_due_backup_waits_while_little_changed_against_the_files_size(
    repo: Repository, db_path: Path, make_trade: MakeTrade
) -> None:
    await _grown(repo, make_trade)
    watch = _watch(repo)
    assert watch.backed_up_at > time.time() - 60, "the newest backup's time is read at start"
    taken = backups(db_path)
    await repo.register_trade(make_trade(1000), "trade_registered", {"ticket": 1000}, 0.0)
    assert 0 < repo.side.size() * BACKUP_JOURNAL_SHARE < await repo.size_bytes()
    assert not await watch.backup_if_due()
    assert backups(db_path) == taken, "no whole copy for one registration"
    while repo.side.size() * BACKUP_JOURNAL_SHARE < await repo.size_bytes():
        await repo.commit_records(make_trade(1000, comment="d" * 900))
    assert await watch.backup_if_due(), "the changes since weigh a sixteenth of the file: copied"
    assert len(backups(db_path)) == len(taken) + 1 and repo.side.size() == 0


async def test_a_backup_is_taken_once_the_last_is_older_than_the_longest_wait(
    repo: Repository, db_path: Path, make_trade: MakeTrade
) -> None:
    await _grown(repo, make_trade)
    newest = backups(db_path)[0]
    eight_days_ago = time.time() - 8 * DAY_S
    os.utime(newest, (eight_days_ago, eight_days_ago))
    watch = _watch(repo, backup_max_age_s=7 * DAY_S)
    assert watch.backed_up_at == eight_days_ago
    assert not await watch.backup_if_due(), "nothing written since: no copy, however old the last"
    await repo.register_trade(make_trade(1000), "trade_registered", {"ticket": 1000}, 0.0)
    assert repo.side.size() * BACKUP_JOURNAL_SHARE < await repo.size_bytes()
    assert await watch.backup_if_due(), "a little changed, but the last copy is eight days old"
    assert watch.backed_up_at > time.time() - 60
    await repo.register_trade(make_trade(1001), "trade_registered", {"ticket": 1001}, 0.0)
    assert not await watch.backup_if_due()


async def test_a_backup_dated_after_now_counts_as_old(repo: Repository, db_path: Path, make_trade: MakeTrade) -> None:
    """The system clock was set back past the newest copy: its age cannot hold the next one back."""
    await _grown(repo, make_trade)
    in_a_year = time.time() + 365 * DAY_S
    os.utime(backups(db_path)[0], (in_a_year, in_a_year))
    watch = _watch(repo)
    await repo.register_trade(make_trade(1000), "trade_registered", {"ticket": 1000}, 0.0)
    assert repo.side.size() * BACKUP_JOURNAL_SHARE < await repo.size_bytes()
    assert await watch.backup_if_due()


async def test_a_small_file_is_copied_whenever_a_backup_is_due(
    repo: Repository, db_path: Path, make_trade: MakeTrade, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _grown(repo, make_trade)
    monkeypatch.setattr(watches, "SMALL_FILE_BYTES", 8 * 1024 * 1024)
    watch = _watch(repo)
    await repo.register_trade(make_trade(1000), "trade_registered", {"ticket": 1000}, 0.0)
    assert repo.side.size() * BACKUP_JOURNAL_SHARE < await repo.size_bytes() <= watches.SMALL_FILE_BYTES
    assert await watch.backup_if_due(), "a copy of a small file costs little: taken as every day before"


async def test_a_backup_asked_for_is_taken_whatever_changed(repo: Repository, make_trade: MakeTrade) -> None:
    await _grown(repo, make_trade)
    watch = _watch(repo)
    assert await watch.backup(), "the window's or a test's backup now"


async def test_a_clean_stop_copies_the_file_only_when_a_backup_is_due(tmp_path: Path) -> None:
    database = tmp_path / "dtms.sqlite3"
    services = await open_services(tmp_path)
    assert await services.engine.start()
    await services.close()
    first = backups(database)
    assert len(first) == 1, "the first stop leaves a backup: there was none"
    services = await open_services(tmp_path)
    assert await services.engine.start()
    await services.close()
    assert backups(database) == first, "a stop right after the last copy, with little written since, copies nothing"
