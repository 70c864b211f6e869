"""The running integrity check degrades the database for a file found wanting, not for a check that could not run."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.events import EventBus
from app.engine.recorder import Recorder
from app.engine.settings import EngineSettings
from app.engine.watches import DatabaseWatch
from app.store import Repository


async def test_a_check_that_could_not_run_degrades_nothing(
    repo: Repository, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(repo, EventBus(), lambda: 0.0)
    watch = DatabaseWatch(repo, recorder, EngineSettings)

    async def broken() -> str:
        raise TypeError("a fault of the check itself")

    monkeypatch.setattr(repo, "check", broken)
    said = await watch.check()
    assert "could not run" in said and "a fault of the check itself" in said
    assert not recorder.problem, "new trades are still accepted"
    assert watch.last_check_at is None, "no check is counted as done"
    assert "could not run" in caplog.text


async def test_a_file_that_cannot_be_read_is_found_damaged(repo: Repository, db_path: Path) -> None:
    recorder = Recorder(repo, EventBus(), lambda: 0.0)
    watch = DatabaseWatch(repo, recorder, EngineSettings)
    assert await watch.check() == ""
    await repo._run(lambda: repo._db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)"))  # page 1 only in the file
    with open(db_path, "r+b") as file:  # the header's magic string: no longer an SQLite file
        file.write(b"not a database, not at all")
    assert await watch.check()
    assert recorder.problem.startswith("damaged")


def test_checks_of_a_large_file_are_spaced_to_take_a_thousandth_of_the_time() -> None:
    from app.engine.watches import check_spacing

    assert check_spacing(300.0, 0.022) == 300.0, "a 6 MB file: every 5 minutes, as set"
    assert check_spacing(300.0, 0.3) == 300.0
    assert check_spacing(300.0, 0.9) == pytest.approx(900.0), "about 250 MB: every 15 minutes"
    assert check_spacing(60.0, 0.01) == 60.0, "a shorter setting holds while checks are quick"
