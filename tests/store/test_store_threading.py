"""The repository on the program's own loop, its one database thread, and the file settings it uses."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from app.engine.model import Trade
from app.store import Repository

MakeTrade = Callable[..., Trade]


@pytest.mark.qasync
async def test_works_on_the_qt_event_loop(db_path: Path, make_trade: MakeTrade) -> None:
    repository = await Repository.open(db_path)
    try:
        assert await repository.insert_trade_if_absent(make_trade(1)) is True
        assert await repository.load_active_trades() == [make_trade(1)]
    finally:
        await repository.close()


async def test_one_database_thread_that_ends_at_close(db_path: Path, make_trade: MakeTrade) -> None:
    def database_threads() -> list[threading.Thread]:
        return [thread for thread in threading.enumerate() if thread.name.startswith("dtms-db")]

    before = set(database_threads())
    repository = await Repository.open(db_path)
    await repository.save_trades(make_trade(n) for n in range(1, 51))
    await repository.load_active_trades()
    mine = [thread for thread in database_threads() if thread not in before]
    assert len(mine) == 1
    await repository.close()
    mine[0].join(timeout=5)
    assert not mine[0].is_alive()


async def test_the_file_is_in_wal_mode(repo: Repository) -> None:
    connection = sqlite3.connect(repo.path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()
    assert Path(f"{repo.path}-wal").exists()
