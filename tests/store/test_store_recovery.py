"""A damaged database file is moved aside (never deleted) and replaced by a fresh one; other trouble is not."""

from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.engine.model import Trade
from app.store import Repository, StoreError
from app.store.recovery import is_corruption, move_aside

MakeTrade = Callable[..., Trade]
PAGE = 4096


async def filled_database(path: Path, make_trade: MakeTrade) -> bytes:
    """A closed database with a few hundred pages of trades; returns its bytes."""
    repository = await Repository.open(path)
    await repository.save_trades(make_trade(n, comment="c" * 300) for n in range(1, 3001))
    await repository.close()
    assert not Path(f"{path}-wal").exists()  # checkpointed at close: everything is in the main file
    return path.read_bytes()


async def assert_recovered(path: Path, original: bytes, make_trade: MakeTrade) -> None:
    repository = await Repository.open(path)
    try:
        moved = repository.recovered_from
        assert moved is not None
        assert moved.parent == path.parent and moved.name.startswith(f"{path.name}.corrupt-")
        assert moved.read_bytes() == original  # kept exactly as found
        assert await repository.load_active_trades() == []
        await repository.save_trade(make_trade(1))  # the fresh database works
        assert await repository.load_trade(1) == make_trade(1)
    finally:
        await repository.close()
    reopened = await Repository.open(path)
    try:
        assert reopened.recovered_from is None
        assert await reopened.load_trade(1) == make_trade(1)
    finally:
        await reopened.close()


async def test_random_bytes_are_moved_aside(db_path: Path, make_trade: MakeTrade) -> None:
    garbage = random.Random(1).randbytes(20_000)
    db_path.write_bytes(garbage)
    await assert_recovered(db_path, garbage, make_trade)


async def test_a_truncated_database_is_moved_aside(db_path: Path, make_trade: MakeTrade) -> None:
    content = await filled_database(db_path, make_trade)
    truncated = content[: len(content) // 2]
    db_path.write_bytes(truncated)
    await assert_recovered(db_path, truncated, make_trade)


async def test_a_garbage_page_in_the_middle_is_moved_aside(db_path: Path, make_trade: MakeTrade) -> None:
    content = await filled_database(db_path, make_trade)
    middle = (len(content) // PAGE // 2) * PAGE
    damaged = content[:middle] + random.Random(2).randbytes(PAGE) + content[middle + PAGE :]
    db_path.write_bytes(damaged)
    await assert_recovered(db_path, damaged, make_trade)


async def test_side_files_move_with_the_database_as_found(db_path: Path, make_trade: MakeTrade) -> None:
    db_path.write_bytes(random.Random(3).randbytes(8192))
    wal = random.Random(4).randbytes(5000)
    Path(f"{db_path}-wal").write_bytes(wal)
    repository = await Repository.open(db_path)
    try:
        moved = repository.recovered_from
        assert moved is not None
        assert Path(f"{moved}-wal").read_bytes() == wal
    finally:
        await repository.close()


async def test_a_damaged_file_keeps_its_unwritten_log(db_path: Path) -> None:
    """A program killed with commits still in the WAL, then a damaged page: neither file is changed."""
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = wal")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE t (x BLOB)")
    with writer:
        writer.execute("BEGIN")
        writer.executemany("INSERT INTO t VALUES (randomblob(300))", [()] * 2000)
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for _ in range(20):
        writer.execute("INSERT INTO t VALUES (randomblob(300))")
    killed = {side: Path(f"{db_path}{side}").read_bytes() for side in ("", "-wal")}
    writer.close()
    main = bytearray(killed[""])
    main[PAGE * 50 : PAGE * 51] = random.Random(5).randbytes(PAGE)
    db_path.write_bytes(main)
    Path(f"{db_path}-wal").write_bytes(killed["-wal"])
    Path(f"{db_path}-shm").unlink(missing_ok=True)

    repository = await Repository.open(db_path)
    try:
        moved = repository.recovered_from
        assert moved is not None
        assert moved.read_bytes() == main
        assert Path(f"{moved}-wal").read_bytes() == killed["-wal"]
    finally:
        await repository.close()


def test_names_never_collide(tmp_path: Path) -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    moved = []
    for n in range(3):
        path = tmp_path / "dtms.db"
        path.write_bytes(bytes([n]))
        moved.append(move_aside(path, moment))
    assert [p.name for p in moved] == [
        "dtms.db.corrupt-20240506T070809Z",
        "dtms.db.corrupt-20240506T070809Z-2",
        "dtms.db.corrupt-20240506T070809Z-3",
    ]
    assert [p.read_bytes() for p in moved] == [b"\x00", b"\x01", b"\x02"]


@pytest.mark.slow
async def test_a_locked_database_is_not_taken_for_damage(db_path: Path, make_trade: MakeTrade) -> None:
    """Another program holding the file (a second DTMS Desk) must not get the live database moved aside."""
    await filled_database(db_path, make_trade)
    holder = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError) as failed:  # after the 5 s busy timeout
            await Repository.open(db_path)
        assert not is_corruption(failed.value)
    finally:
        holder.close()
    assert [p.name for p in db_path.parent.iterdir() if ".corrupt-" in p.name] == []
    repository = await Repository.open(db_path)
    try:
        assert repository.recovered_from is None
        assert len(await repository.load_active_trades()) == 3000
    finally:
        await repository.close()


async def test_a_path_that_cannot_be_opened_is_an_error_not_damage(db_path: Path) -> None:
    db_path.mkdir()
    with pytest.raises(StoreError):
        await Repository.open(db_path)
    assert db_path.is_dir()
    assert [p.name for p in db_path.parent.iterdir()] == [db_path.name]


def test_corruption_is_recognised_by_sqlite_error_code(tmp_path: Path) -> None:
    path = tmp_path / "noise.db"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(sqlite3.DatabaseError) as not_a_database:
        sqlite3.connect(path).execute("PRAGMA quick_check").fetchall()
    assert is_corruption(not_a_database.value)
    assert not is_corruption(sqlite3.OperationalError("database is locked"))
