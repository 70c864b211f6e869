"""Fixtures for the store tests: a repository on a fresh file, and trades to put in it."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from app.engine.model import Direction, Trade
from app.store import Repository


def _make_trade(ticket: int, **changes: object) -> Trade:
    fields: dict[str, object] = {
        "ticket": ticket,
        "symbol": "EURUSD",
        "direction": Direction.BUY,
        "entry": 1.1,
        "volume": 0.1,
        "sl": 1.09,
        "tp": 1.12,
    }
    fields.update(changes)
    return Trade(**fields)


@pytest.fixture
def make_trade() -> Callable[..., Trade]:
    """Builds a valid trade with the given ticket; keyword arguments override fields."""
    return _make_trade


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dtms.db"


@pytest.fixture
async def repo(db_path: Path) -> AsyncIterator[Repository]:
    repository = await Repository.open(db_path)
    yield repository
    await repository.close()


@pytest.fixture
def write_lock(db_path: Path) -> Callable[[], AbstractContextManager[None]]:
    """Holds the file's write lock from another connection, so the repository's writes queue up behind it."""

    @contextmanager
    def held() -> Iterator[None]:
        connection = sqlite3.connect(db_path, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
        finally:
            connection.close()

    return held
