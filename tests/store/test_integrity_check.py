"""The running integrity check reads the file on a connection of its own, beside the database thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable

import pytest

from app.engine.model import Trade
from app.store import Repository, safekeeping


async def test_commits_do_not_wait_behind_an_integrity_check(
    repo: Repository, make_trade: Callable[..., Trade], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check of a large file takes tens of milliseconds; on the database thread every commit waited for it."""
    started, release = threading.Event(), threading.Event()
    real = safekeeping.quick_check

    def held(connection: sqlite3.Connection) -> str:
        started.set()
        release.wait(2.0)
        return real(connection)

    monkeypatch.setattr(safekeeping, "quick_check", held)
    check = asyncio.create_task(repo.check())
    assert await asyncio.to_thread(started.wait, 2.0)
    inserted, _ = await repo.register_trade(make_trade(7), "trade_registered", {"ticket": 7}, 0.0)
    assert inserted and not check.done(), "the registration was committed while the check was still reading"
    release.set()
    assert await check == ""
    assert (await repo.load_trade(7)) is not None
