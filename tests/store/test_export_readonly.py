"""The shell export (``python -m app.store.export DATA_DIR OUT``) only reads: beside a running desk or a stopped
one it writes every trade, archives included, and changes no file of the desk; a file it cannot read as it is
gives a one-line message and exit code 2, with nothing moved and no OUT written."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from peewee import SqliteDatabase

from app.engine.model import DefensiveState, Trade
from app.store import Repository
from app.store.export import write_file
from app.store.read_only import open_snapshot

from .test_store_journal import action, transition

MakeTrade = Callable[..., Trade]
ROOT = Path(__file__).resolve().parents[2]
CLOSED_IN_2020 = 1_590_000_000.0
CUTOFF = 1_600_000_000.0


def run_export(data_dir: Path, out: Path, *, as_user: int | None = None) -> subprocess.CompletedProcess[str]:
    """The shell command, run by ``as_user`` (and that user's group) when given."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "app.store.export", str(data_dir), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        user=as_user,
        group=as_user,
        extra_groups=None if as_user is None else [],
    )


def reachable_by(user: int) -> bool:
    """Whether ``user`` can run this interpreter on the project (a virtual environment in a private folder, as a
    fresh clone in a temporary one, is not)."""
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import app.store.export"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            timeout=60,
            user=user,
            group=user,
            extra_groups=[],
        )
    except OSError:
        return False
    return probe.returncode == 0


def exported(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def files(folder: Path) -> dict[str, bytes]:
    """Every file of the folder with its bytes, but the ``-shm`` index (shared memory every reader writes)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.endswith("-shm")}


def assert_unchanged(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """Every file as it was; new only the empty ``-wal`` SQLite's reader may leave beside a file no one had open
    (a stopped desk's, an archive), with its ``-shm`` index."""
    assert {name: after.get(name) for name in before} == before
    created = {name: content for name, content in after.items() if name not in before}
    assert all(name.endswith(".sqlite3-wal") and content == b"" for name, content in created.items()), created


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "nothing was changed" in lines[0]
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


async def desk_with_trades(data_dir: Path, make_trade: MakeTrade) -> Repository:
    """A desk's repository with open trades, a journal, a trade archived in 2020, and a side journal from a
    degraded run (what the desk replays into its file at its next start, and no reader may)."""
    repository = await Repository.open(data_dir / "dtms.sqlite3")
    await repository.save_trades([make_trade(1), make_trade(2), make_trade(7, active=False, closed_at=CLOSED_IN_2020)])
    await repository.append_action(action(1, 1))
    await repository.append_transition(transition(2, 1, to_state=DefensiveState.WARNING_L1))
    await repository.append_action(action(7, 2))
    report = await repository.retain(CUTOFF)
    assert report.trades == 1 and [p.name for p in report.files] == ["dtms-archive-2020.sqlite3"]
    repository.aside_degraded("disk full")
    repository.aside_trade(make_trade(99))
    return repository


async def test_export_beside_a_running_desk_reads_every_commit_and_changes_nothing(
    data_dir: Path, out_dir: Path, make_trade: MakeTrade
) -> None:
    repository = await desk_with_trades(data_dir, make_trade)
    try:
        assert Path(f"{repository.path}-wal").stat().st_size > 0  # commits still in the WAL, not in the file
        before = files(data_dir)
        result = run_export(data_dir, out_dir / "trades.jsonl")
        assert result.returncode == 0, result.stderr
        assert_unchanged(before, files(data_dir))  # file, WAL, archive and side journal byte for byte
        lines = exported(out_dir / "trades.jsonl")
        assert [(line["source"], line["trade"]["ticket"]) for line in lines] == [
            ("dtms-archive-2020.sqlite3", 7),
            ("dtms.sqlite3", 1),
            ("dtms.sqlite3", 2),
        ]
        assert [a["detail"] for a in lines[0]["actions"]] == ["trail #2"]
        assert [t["to_state"] for t in lines[2]["transitions"]] == ["WARNING_L1"]

        await repository.save_trade(make_trade(3))  # committed after the first export: the second has it
        before = files(data_dir)
        result = run_export(data_dir, out_dir / "trades.jsonl")
        assert result.returncode == 0, result.stderr
        assert_unchanged(before, files(data_dir))
        assert [line["trade"]["ticket"] for line in exported(out_dir / "trades.jsonl")] == [7, 1, 2, 3]

        await repository.save_trade(make_trade(4))  # the desk goes on writing
        assert await repository.load_trade(4) == make_trade(4)
        assert repository.side.has_degraded()  # its side journal is still there for its next start
    finally:
        await repository.close()


async def test_export_of_a_stopped_desk_changes_nothing(data_dir: Path, out_dir: Path, make_trade: MakeTrade) -> None:
    await (await desk_with_trades(data_dir, make_trade)).close()
    before = files(data_dir)
    result = run_export(data_dir, out_dir / "trades.jsonl")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"3 trades written to {out_dir / 'trades.jsonl'}"
    assert [line["trade"]["ticket"] for line in exported(out_dir / "trades.jsonl")] == [7, 1, 2]
    assert_unchanged(before, files(data_dir))
    reopened = await Repository.open(data_dir / "dtms.sqlite3")
    try:
        assert reopened.replayed == 1  # the side journal was left for the desk: trade 99 goes in now
        assert await reopened.load_trade(99) == make_trade(99)
    finally:
        await reopened.close()


async def test_the_archives_are_exported_oldest_first(data_dir: Path, out_dir: Path, make_trade: MakeTrade) -> None:
    repository = await Repository.open(data_dir / "dtms.sqlite3")
    try:
        await repository.save_trades(
            [
                make_trade(5, active=False, closed_at=CLOSED_IN_2020 - 366 * 86400.0),
                make_trade(6, active=False, closed_at=CLOSED_IN_2020),
                make_trade(8),
            ]
        )
        await repository.retain(CUTOFF)
        assert [p.name for p in repository.archive_paths()] == [
            "dtms-archive-2020.sqlite3",
            "dtms-archive-2019.sqlite3",
        ]
        result = run_export(data_dir, out_dir / "trades.jsonl")
        assert result.returncode == 0, result.stderr
        assert [(line["source"], line["trade"]["ticket"]) for line in exported(out_dir / "trades.jsonl")] == [
            ("dtms-archive-2019.sqlite3", 5),
            ("dtms-archive-2020.sqlite3", 6),
            ("dtms.sqlite3", 8),
        ]
        await repository.export(out_dir / "desk.jsonl")  # the desk's own export writes the same
        assert (out_dir / "desk.jsonl").read_bytes() == (out_dir / "trades.jsonl").read_bytes()
    finally:
        await repository.close()


async def test_archives_of_an_older_schema_are_brought_up_to_date_at_start_and_then_export(
    data_dir: Path, out_dir: Path, make_trade: MakeTrade
) -> None:
    """An upgrade adds a column: the desk migrates its archives when it starts, not only the ones it happens to
    read, so the export (which never changes a file) reads them after the first start of the new version."""
    repository = await Repository.open(data_dir / "dtms.sqlite3")
    await repository.save_trades([make_trade(6, active=False, closed_at=CLOSED_IN_2020), make_trade(8)])
    await repository.retain(CUTOFF)
    await repository.close()
    older = sqlite3.connect(data_dir / "dtms-archive-2020.sqlite3")
    with older:  # as the version before the last migration left it
        older.execute("ALTER TABLE trades DROP COLUMN r_basis")
        older.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    older.close()
    refused = run_export(data_dir, out_dir / "before.jsonl")
    assert_one_line_refusal(refused, "dtms-archive-2020.sqlite3", "older")
    repository = await Repository.open(data_dir / "dtms.sqlite3")
    await repository.close()
    result = run_export(data_dir, out_dir / "trades.jsonl")
    assert result.returncode == 0, result.stderr
    assert [(line["source"], line["trade"]["ticket"]) for line in exported(out_dir / "trades.jsonl")] == [
        ("dtms-archive-2020.sqlite3", 6),
        ("dtms.sqlite3", 8),
    ]


async def test_an_archive_that_cannot_be_opened_does_not_stop_the_desk(
    data_dir: Path, make_trade: MakeTrade, caplog: pytest.LogCaptureFixture
) -> None:
    repository = await Repository.open(data_dir / "dtms.sqlite3")
    await repository.save_trades([make_trade(6, active=False, closed_at=CLOSED_IN_2020), make_trade(8)])
    await repository.retain(CUTOFF)
    await repository.close()
    (data_dir / "dtms-archive-2020.sqlite3").write_bytes(b"\x00garbage" * 512)
    repository = await Repository.open(data_dir / "dtms.sqlite3")
    try:
        assert [t.ticket for t in await repository.load_active_trades()] == [8]
        assert any("dtms-archive-2020.sqlite3 cannot be opened" in r.getMessage() for r in caplog.records)
    finally:
        await repository.close()


async def test_a_damaged_file_is_reported_and_left_where_it_was(
    data_dir: Path, out_dir: Path, make_trade: MakeTrade
) -> None:
    await (await desk_with_trades(data_dir, make_trade)).close()
    database = data_dir / "dtms.sqlite3"
    damaged = random.Random(5).randbytes(100) + database.read_bytes()[100:]
    database.write_bytes(damaged)
    before = files(data_dir)
    result = run_export(data_dir, out_dir / "trades.jsonl")
    assert_one_line_refusal(result, "the database looks damaged", str(database))
    assert database.read_bytes() == damaged
    assert files(data_dir) == before
    assert not any(".corrupt-" in p.name for p in data_dir.iterdir())
    assert not (data_dir / "backups").exists() and list(out_dir.iterdir()) == []


async def test_a_damaged_archive_is_reported_and_no_output_is_written(
    data_dir: Path, out_dir: Path, make_trade: MakeTrade
) -> None:
    await (await desk_with_trades(data_dir, make_trade)).close()
    archived = data_dir / "dtms-archive-2020.sqlite3"
    archived.write_bytes(b"\0" * 100 + archived.read_bytes()[100:])
    (out_dir / "trades.jsonl").write_text("an earlier export\n", encoding="utf-8")
    result = run_export(data_dir, out_dir / "trades.jsonl")
    assert_one_line_refusal(result, "the database looks damaged", archived.name)
    assert [p.name for p in out_dir.iterdir()] == ["trades.jsonl"]
    assert (out_dir / "trades.jsonl").read_text(encoding="utf-8") == "an earlier export\n"
    assert archived.exists() and not any(".corrupt-" in p.name for p in data_dir.iterdir())


async def test_a_missing_database_or_data_folder_is_reported_and_nothing_is_created(
    data_dir: Path, out_dir: Path
) -> None:
    result = run_export(data_dir, out_dir / "trades.jsonl")
    assert_one_line_refusal(result, "no database dtms.sqlite3", str(data_dir))
    assert list(data_dir.iterdir()) == [] and list(out_dir.iterdir()) == []
    missing = data_dir / "elsewhere"
    result = run_export(missing, out_dir / "trades.jsonl")
    assert_one_line_refusal(result, "no data folder", str(missing))
    assert not missing.exists()


async def test_a_database_of_a_newer_program_is_refused(data_dir: Path, out_dir: Path, make_trade: MakeTrade) -> None:
    repository = await Repository.open(data_dir / "dtms.sqlite3")
    await repository.save_trade(make_trade(1))
    await repository.close()
    with sqlite3.connect(data_dir / "dtms.sqlite3") as raw:
        raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    raw.close()
    before = files(data_dir)
    result = run_export(data_dir, out_dir / "trades.jsonl")
    assert_one_line_refusal(result, "schema version 99 is newer")
    assert_unchanged(before, files(data_dir))
    assert list(out_dir.iterdir()) == []


NOBODY = 65534


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder outside the test's private temporary tree, which another user can reach (run as root, the
    test reads as that user: root ignores the permissions it tests)."""
    folder = Path(tempfile.mkdtemp(prefix="dtms-export-"))
    folder.chmod(0o755)
    if os.geteuid() == 0 and any(parent.stat().st_mode & 0o001 == 0 for parent in folder.parents):
        shutil.rmtree(folder)
        pytest.skip("the temporary folder is not reachable by another user")
    try:
        yield folder
    finally:
        for path in folder.rglob("*"):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
async def test_a_stopped_desk_in_a_read_only_folder_gives_a_clear_message(
    shared_dir: Path, make_trade: MakeTrade
) -> None:
    as_user = NOBODY if os.geteuid() == 0 else None
    if as_user is not None and not reachable_by(as_user):
        pytest.skip("this interpreter or the project is not reachable by another user")
    data_dir, out_dir = shared_dir / "data", shared_dir / "out"
    data_dir.mkdir()
    out_dir.mkdir()
    out_dir.chmod(0o777)
    repository = await Repository.open(data_dir / "dtms.sqlite3")
    await repository.save_trade(make_trade(1))
    await repository.close()
    (data_dir / "dtms.sqlite3").chmod(0o644)
    data_dir.chmod(0o555)
    before = files(data_dir)
    result = run_export(data_dir, out_dir / "trades.jsonl", as_user=as_user)
    assert_one_line_refusal(result, "read-only", "start the desk")
    assert files(data_dir) == before and list(out_dir.iterdir()) == []


async def test_a_failed_write_leaves_the_earlier_output_as_it_was(
    data_dir: Path, out_dir: Path, make_trade: MakeTrade
) -> None:
    await (await desk_with_trades(data_dir, make_trade)).close()
    out = out_dir / "trades.jsonl"
    out.write_text("an earlier export\n", encoding="utf-8")
    db = open_snapshot(data_dir / "dtms.sqlite3")

    def failing_halfway() -> Iterator[tuple[str, SqliteDatabase]]:
        yield "dtms.sqlite3", db
        raise OSError("disk full")

    try:
        with pytest.raises(OSError, match="disk full"):
            write_file(failing_halfway(), out)
    finally:
        db.close()
    assert [p.name for p in out_dir.iterdir()] == ["trades.jsonl"]
    assert out.read_text(encoding="utf-8") == "an earlier export\n"
